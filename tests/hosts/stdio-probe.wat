;; What a host's stdio is: exits 10 * (fd 1 is a character device) + (the
;; errno of reading fd 0, or 0). Run as it is, a preview1 module.
(module
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $stat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (local $tty i32)
    (drop (call $stat (i32.const 1) (i32.const 8)))
    (local.set $tty (i32.eq (i32.load8_u (i32.const 8)) (i32.const 2)))
    (i32.store (i32.const 32) (i32.const 64))
    (i32.store (i32.const 36) (i32.const 16))
    (call $exit (i32.add (i32.mul (local.get $tty) (i32.const 10))
      (call $read (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 40))))))
