;; A preview1 command that traps at once. Natively (wasmtime) a trap ends
;; the run with status 134; WAMR's iwasm prints the trap on stdout and
;; exits 1, the status `proc_exit(1)` also gives, so a runner cannot tell
;; the two apart (tests/runner.rs checks this on every runtime).
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable))
