;; Does the host create a symlink whose target is "."? Natively it does.
;; WAMR resolves the target against its own working directory and refuses
;; one outside every preopen. Exit 0: created; else the errno path_symlink
;; gave (WAMR: 8, badf).
;; Setup: an empty preopened directory as fd 3; the runtime's working
;; directory outside it.
(module
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) ".")
  (data (i32.const 8) "l")
  (func (export "_start")
    (call $exit (call $symlink (i32.const 0) (i32.const 1) (i32.const 3) (i32.const 8) (i32.const 1)))))
