;; Does the host create a symlink whose target leaves the directory when
;; read lexically ("../x")? Natively it does (the link is only text; a
;; lookup through it is what must stay inside). Exit 0: created; else the
;; errno path_symlink gave (Node: 76, notcapable).
;; Setup: an empty preopened directory as fd 3.
(module
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "../x")
  (data (i32.const 8) "l")
  (func (export "_start")
    (call $exit (call $symlink (i32.const 0) (i32.const 4) (i32.const 3) (i32.const 8) (i32.const 1)))))
