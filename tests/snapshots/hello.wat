;; A "hello world" main module as wasm32-wasip2 builds it: reads the clocks,
;; writes to stdout through an output stream, and exits.
(module
  (import "wasi:clocks/monotonic-clock@0.2.0" "now" (func $mono_now (result i64)))
  (import "wasi:clocks/wall-clock@0.2.0" "now" (func $wall_now (param i32)))
  (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get_stdout (result i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.check-write" (func $check_write (param i32 i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.write" (func $write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-flush" (func $flush (param i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $drop_output (param i32)))
  (import "wasi:cli/exit@0.2.0" "exit" (func $exit (param i32)))

  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "hello\n")

  ;; A bump allocator: never frees, never moves.
  (func $cabi_realloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $new_size)))
    (local.get $ptr))

  (func $run (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $out i32)
    (drop (call $mono_now))
    (call $wall_now (i32.const 64))
    (local.set $out (call $get_stdout))
    (call $check_write (local.get $out) (i32.const 64))
    (call $write (local.get $out) (i32.const 16) (i32.const 6) (i32.const 64))
    (call $flush (local.get $out) (i32.const 64))
    (call $drop_output (local.get $out))
    (call $exit (i32.const 0))
    (i32.const 0))
)
