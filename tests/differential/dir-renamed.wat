;; Does a directory descriptor still reach its directory once the directory
;; is renamed? Natively it does (the descriptor is the directory, not its
;; name). Opens `a`, renames it `b`, then creates `x` through the
;; descriptor. Exit 0: created (in `b`); else the errno of the first call
;; that failed (Node: 44, noent: uvwasi resolves every call through a
;; directory descriptor by the path it was opened with).
;; Setup: an empty preopened directory as fd 3.
(module
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "a")
  (data (i32.const 4) "b")
  (data (i32.const 8) "x")
  (func $check (param $errno i32)
    (if (local.get $errno) (then (call $exit (local.get $errno)))))
  (func (export "_start")
    (call $check (call $mkdir (i32.const 3) (i32.const 0) (i32.const 1)))
    ;; path_open(3, 0, "a", DIRECTORY, path_create_directory|fd_readdir, the same, 0) -> fd at 16
    (call $check (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 2)
      (i64.const 16896) (i64.const 16896) (i32.const 0) (i32.const 16)))
    (call $check (call $rename (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 3) (i32.const 4) (i32.const 1)))
    (call $exit (call $mkdir (i32.load (i32.const 16)) (i32.const 8) (i32.const 1)))))
