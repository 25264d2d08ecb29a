;; Does the host set a symlink's own times? Creates file "f" and symlink
;; "l" -> "f", sets l's mtim (path_filestat_set_times without
;; symlink-follow) to 1700000000 s exactly, and reads l back without
;; following. Exit 0: the link's time was set; 1: it was not; 100 + errno:
;; a call failed. Setup: a preopened directory as fd 3.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $set (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "f")
  (data (i32.const 1) "l")
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (i32.add (i32.const 100) (local.get $errno))))))
  (func (export "_start")
    (call $check (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1)
      (i64.const 10485826) (i64.const 0) (i32.const 0) (i32.const 16)))
    (call $check (call $symlink (i32.const 0) (i32.const 1) (i32.const 3) (i32.const 1) (i32.const 1)))
    (call $check (call $set (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 1)
      (i64.const 0) (i64.const 1700000000000000000) (i32.const 4)))
    (call $check (call $stat (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 64)))
    (call $exit (i64.ne (i64.load (i32.const 112)) (i64.const 1700000000000000000)))))
