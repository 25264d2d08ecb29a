;; Imports a sockets function the adapter only stubs: adapting works, with
;; a warning that names it.
(module
  (import "wasi:sockets/tcp@0.2.0" "[method]tcp-socket.local-address" (func $stat (param i32 i32)))
  (import "wasi:cli/exit@0.2.0" "exit" (func $exit (param i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))

  (func $cabi_realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $new_size)))
    (local.get $ptr))

  (func $run (export "wasi:cli/run@0.2.0#run") (result i32)
    (call $stat (i32.const 3) (i32.const 64))
    (call $exit (i32.const 0))
    (i32.const 0))
)
