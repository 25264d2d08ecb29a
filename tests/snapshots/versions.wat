;; The same function imported at two WASI 0.2 versions (as a program built
;; from crates that use different `wasi` versions does), plus a function
;; imported at a version between them: all bind to the adapter's 0.2.12.
(module
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $drop_v0 (param i32)))
  (import "wasi:io/streams@0.2.12" "[resource-drop]output-stream" (func $drop_v12 (param i32)))
  (import "wasi:cli/environment@0.2.4" "get-arguments" (func $get_arguments (param i32)))
  (import "wasi:cli/environment@0.2.0" "get-environment" (func $get_environment (param i32)))

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

  (func $drop_old (param i32) (call $drop_v0 (local.get 0)))
  (func $drop_new (param i32) (call $drop_v12 (local.get 0)))

  (func $run (export "wasi:cli/run@0.2.0#run") (result i32)
    (call $get_arguments (i32.const 64))
    (call $get_environment (i32.const 72))
    (call $drop_old (i32.const 1))
    (call $drop_new (i32.const 2))
    (i32.const 0))
)
