;; Does the host keep a file time's fraction of a second? Sets a file's
;; mtim to 818787673.433549 s (a time in 1995, as examples/fsops sets) and
;; reads it back. Exit 0: kept exactly; 1: changed (Node loses the whole
;; fraction for such times; for 2023's it keeps about a microsecond, see
;; ../conformance/probes/time-precision.wat); 100 + errno: a call failed.
;; Setup: a preopened directory as fd 3.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_times" (func $set (param i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $stat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "f")
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (i32.add (i32.const 100) (local.get $errno))))))
  (func (export "_start")
    ;; path_open(3, 0, "f", CREAT, read|write|filestat_get|filestat_set_times, 0, 0) -> fd at 16
    (call $check (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1)
      (i64.const 10485826) (i64.const 0) (i32.const 0) (i32.const 16)))
    (call $check (call $set (i32.load (i32.const 16)) (i64.const 0) (i64.const 818787673433549000) (i32.const 4)))
    (call $check (call $stat (i32.load (i32.const 16)) (i32.const 64)))
    ;; filestat.mtim is at offset 48
    (call $exit (i64.ne (i64.load (i32.const 112)) (i64.const 818787673433549000)))))
