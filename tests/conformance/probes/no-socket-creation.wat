;; Can the host create a socket? preview1 itself has no call for it; only
;; WAMR's extension does (`sock_open`). On a host without one this module
;; does not instantiate (`run` exits 1); with one it exits 0.
(module
  (import "wasi_snapshot_preview1" "sock_open" (func $open (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $exit (i32.const 0))))
