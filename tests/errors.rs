//! Bad inputs: every one must give a clear message and exit status 1, never
//! a panic (status 101). Each test writes its input to a temp dir, runs the
//! built tool on it, and checks the status and the words of the message.

mod common;

use common::{run_with_timeout, temp_dir, tool};
use std::path::Path;
use std::process::{Command, Output};

/// Seconds any one run of the tool may take.
const TIMEOUT: u64 = 60;

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("bad test input: {e}\n{text}"))
}

/// A main module as wasm32-wasip2 builds it, with `imports` (wat text) first.
fn program(imports: &str) -> Vec<u8> {
    wat(&format!(
        r#"(module
            {imports}
            (memory (export "memory") 1)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#
    ))
}

fn adapt(dir: &Path, input: &[u8]) -> Output {
    let path = dir.join("in.wasm");
    std::fs::write(&path, input).unwrap();
    let mut cmd = Command::new(tool());
    cmd.arg("adapt")
        .arg(&path)
        .arg("-o")
        .arg(dir.join("out.wasm"));
    run_with_timeout(&mut cmd, TIMEOUT)
}

/// Checks that `out` is a clean failure whose message holds all `words`.
fn check_failure(name: &str, out: &Output, words: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: want exit status 1, got {:?}; stderr:\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{name}: panicked:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{name}: stderr:\n{stderr}");
    // A bad input is the user's problem, not the tool's: say what it is.
    assert!(
        !stderr.contains("internal error"),
        "{name}: reported as an internal error:\n{stderr}"
    );
    for word in words {
        assert!(
            stderr.contains(word),
            "{name}: {word:?} not in the message:\n{stderr}"
        );
    }
    stderr
}

/// Adapts `input` and checks that it fails cleanly with all `words` in the
/// message, and writes no output file. Returns the message.
fn fails(name: &str, input: &[u8], words: &[&str]) -> String {
    let dir = temp_dir(&format!("errors-{name}"));
    let out = adapt(&dir, input);
    let stderr = check_failure(name, &out, words);
    assert!(
        !dir.join("out.wasm").exists(),
        "{name}: wrote an output despite the error"
    );
    stderr
}

// The harness itself: a good program adapts.
#[test]
fn good_program_adapts() {
    let dir = temp_dir("errors-good");
    let out = adapt(
        &dir,
        &program(r#"(import "wasi:cli/stdout@0.2.0" "get-stdout" (func (result i32)))"#),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("out.wasm").exists());
}

#[test]
fn good_component_adapts() {
    let dir = temp_dir("errors-good-component");
    let out = adapt(&dir, &wat(&command(MAIN_MODULE)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("out.wasm").exists());
}

// Stage 1: reading the input.

#[test]
fn not_wasm() {
    fails(
        "not-wasm",
        b"fn main() { println!(\"hello\"); }\n",
        &["not a WebAssembly file", "magic"],
    );
}

#[test]
fn empty_file() {
    fails("empty", b"", &["not a WebAssembly file"]);
}

#[test]
fn truncated_module() {
    let module = program(r#"(import "wasi:cli/stdout@0.2.0" "get-stdout" (func (result i32)))"#);
    fails(
        "truncated-module",
        &module[..module.len() / 2],
        &["invalid WebAssembly", "offset"],
    );
}

const MAIN_MODULE: &str = r#"(core module $main
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
    (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#;

/// A `wasi:cli/command` component around core module `$main` (as a
/// toolchain writes it: instantiated, `run` lifted and exported).
fn command(main: &str) -> String {
    format!(
        r#"(component
            {main}
            (core instance $m (instantiate $main))
            (func $run (result (result)) (canon lift (core func $m "wasi:cli/run@0.2.0#run")))
            (instance $r (export "run" (func $run)))
            (export "wasi:cli/run@0.2.0" (instance $r)))"#
    )
}

#[test]
fn truncated_component() {
    let bytes = wat(&command(MAIN_MODULE));
    fails(
        "truncated-component",
        &bytes[..bytes.len() / 2],
        &["invalid WebAssembly", "offset"],
    );
}

#[test]
fn composed_component() {
    // A component nesting a component that has code: a composition.
    let bytes = wat(&format!("(component (component {MAIN_MODULE}))"));
    fails(
        "composed",
        &bytes,
        &["composed components are not supported"],
    );
}

#[test]
fn component_without_run() {
    let bytes = wat(&format!(
        "(component {MAIN_MODULE} (core instance (instantiate $main)))"
    ));
    fails(
        "component-without-run",
        &bytes,
        &["does not export", "wasi:cli/run"],
    );
}

#[test]
fn component_exporting_imported_run() {
    // `run` passed through from an import: nothing in the component runs.
    let bytes = wat(r#"(component
        (import "wasi:cli/run@0.2.0" (instance $i (export "run" (func (result (result))))))
        (export "wasi:cli/run@0.2.0" (instance $i)))"#);
    fails(
        "imported-run",
        &bytes,
        &["wasi:cli/run@0.2.0", "not a lifted core function"],
    );
}

#[test]
fn component_lowering_its_own_function() {
    // A lifted function lowered again: a composition inside the component.
    let bytes = wat(r#"(component
        (core module $a (func (export "f")))
        (core instance $a (instantiate $a))
        (func $f (canon lift (core func $a "f")))
        (core func $g (canon lower (func $f)))
        (core module $main
            (import "x" "g" (func))
            (memory (export "memory") 1)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))
        (core instance $x (export "g" (func $g)))
        (core instance $m (instantiate $main (with "x" (instance $x))))
        (func $run (result (result)) (canon lift (core func $m "wasi:cli/run@0.2.0#run")))
        (instance $r (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $r)))"#);
    fails("self-lowered", &bytes, &["x#g", "composition"]);
}

/// A helper module without memory, instantiated twice: each instance keeps
/// its own global (the run export returns 0 only if they are separate).
#[test]
fn component_with_two_instances_of_one_module() {
    let bytes = wat(r#"(component
        (core module $counter
            (global $n (mut i32) (i32.const 0))
            (func (export "next") (result i32)
                (global.set $n (i32.add (global.get $n) (i32.const 1)))
                (global.get $n)))
        (core instance $a (instantiate $counter))
        (core instance $b (instantiate $counter))
        (core module $main
            (import "a" "next" (func $a (result i32)))
            (import "b" "next" (func $b (result i32)))
            (memory (export "memory") 1)
            (func (export "wasi:cli/run@0.2.0#run") (result i32)
                ;; a: 1, 2; b: 1. Separate state: (2 - 1) - 1 = 0.
                (drop (call $a))
                (i32.sub (i32.sub (call $a) (call $b)) (i32.const 1))))
        (core instance $m (instantiate $main
            (with "a" (instance $a))
            (with "b" (instance $b))))
        (func $run (result (result)) (canon lift (core func $m "wasi:cli/run@0.2.0#run")))
        (instance $r (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $r)))"#);
    let dir = temp_dir("errors-two-instances");
    let path = dir.join("in.wasm");
    std::fs::write(&path, &bytes).unwrap();
    let mut cmd = Command::new(tool());
    cmd.arg("run").arg(&path);
    let out = run_with_timeout(&mut cmd, TIMEOUT);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn component_with_two_instances_owning_memories() {
    // Each instance of a module that defines a memory has its own: the
    // output could only have them with multi-memory.
    let bytes = wat(r#"(component
        (core module $lib (memory (export "m") 1) (func (export "f")))
        (core instance $a (instantiate $lib))
        (core instance $b (instantiate $lib))
        (core module $main
            (import "a" "f" (func))
            (import "b" "f" (func))
            (memory (export "memory") 1)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))
        (core instance $m (instantiate $main (with "a" (instance $a)) (with "b" (instance $b))))
        (func $run (result (result)) (canon lift (core func $m "wasi:cli/run@0.2.0#run")))
        (instance $r (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $r)))"#);
    fails(
        "two-memories-component",
        &bytes,
        &["3 memories", "only one memory"],
    );
}

#[test]
fn component_with_its_own_resource() {
    // A resource the component defines itself: `canon resource.new` is a
    // built-in no preview1 host provides, named as the spec names it.
    let bytes = wat(r#"(component
        (type $r (resource (rep i32)))
        (core func $new (canon resource.new $r))
        (core instance $bag (export "new" (func $new)))
        (core module $main
            (import "x" "new" (func (param i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))
        (core instance $m (instantiate $main (with "x" (instance $bag))))
        (func $run (result (result)) (canon lift (core func $m "wasi:cli/run@0.2.0#run")))
        (instance $i (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $i)))"#);
    fails("own-resource", &bytes, &["x#new", "resource.new"]);
}

#[test]
fn component_lowering_http() {
    // A lowered import no preview1 host provides, reached through a bag of
    // the component's own naming: the message names the WASI function.
    let bytes = wat(r#"(component
        (import "wasi:http/types@0.2.0" (instance $http (export "f" (func))))
        (alias export $http "f" (func $f))
        (core func $f (canon lower (func $f)))
        (core instance $bag (export "0" (func $f)))
        (core module $main
            (import "actual" "0" (func))
            (memory (export "memory") 1)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))
        (core instance $m (instantiate $main (with "actual" (instance $bag))))
        (func $run (result (result)) (canon lift (core func $m "wasi:cli/run@0.2.0#run")))
        (instance $r (export "run" (func $run)))
        (export "wasi:cli/run@0.2.0" (instance $r)))"#);
    let msg = fails(
        "component-http",
        &bytes,
        &[
            "1 function(s)",
            "wasi:http/types@0.2.0#f",
            "no such function",
        ],
    );
    assert!(!msg.contains("actual"), "{msg}");
}

#[test]
fn component_exporting_wasi_0_4_run() {
    let bytes = wat(&command(MAIN_MODULE).replace(
        r#""wasi:cli/run@0.2.0" (instance"#,
        r#""wasi:cli/run@0.4.0" (instance"#,
    ));
    fails(
        "run-0.4",
        &bytes,
        &["wasi:cli/run@0.4.0", "only 0.2.x and 0.3.x"],
    );
}

#[test]
fn stackful_async_run() {
    // Lifted async without a callback: it would need stack switching.
    let bytes = wat(r#"(component
        (core module $main (func (export "run")))
        (core instance $m (instantiate $main))
        (type $rt (func async (result (result))))
        (func $run (type $rt) (canon lift (core func $m "run") async))
        (instance $r (export "run" (func $run)))
        (export "wasi:cli/run@0.3.0" (instance $r)))"#);
    fails(
        "stackful",
        &bytes,
        &[
            "wasi:cli/run@0.3.0",
            "without a callback",
            "stack switching",
        ],
    );
}

#[test]
fn missing_input_file() {
    let dir = temp_dir("errors-missing-input");
    let mut cmd = Command::new(tool());
    cmd.arg("adapt")
        .arg(dir.join("nope.wasm"))
        .arg("-o")
        .arg(dir.join("out.wasm"));
    let out = run_with_timeout(&mut cmd, TIMEOUT);
    check_failure("missing-input", &out, &["cannot read", "nope.wasm"]);
}

#[test]
fn unwritable_output() {
    let dir = temp_dir("errors-unwritable-output");
    let input = dir.join("in.wasm");
    std::fs::write(&input, program("")).unwrap();
    let mut cmd = Command::new(tool());
    cmd.arg("adapt")
        .arg(&input)
        .arg("-o")
        .arg(dir.join("no-such-dir/out.wasm"));
    let out = run_with_timeout(&mut cmd, TIMEOUT);
    check_failure("unwritable-output", &out, &["cannot write", "no-such-dir"]);
}

// Reading the main module.

#[test]
fn two_memories() {
    let bytes = program("(memory 1)");
    fails("two-memories", &bytes, &["2 memories", "only one memory"]);
}

#[test]
fn imported_memory() {
    let bytes = program(r#"(import "env" "memory" (memory 1))"#);
    fails(
        "imported-memory",
        &bytes,
        &["env.memory", "memory", "only function imports"],
    );
}

#[test]
fn imported_table() {
    let bytes = program(r#"(import "env" "table" (table 1 funcref))"#);
    fails(
        "imported-table",
        &bytes,
        &["env.table", "table", "only function imports"],
    );
}

#[test]
fn imported_global() {
    let bytes = program(r#"(import "env" "g" (global i32))"#);
    fails(
        "imported-global",
        &bytes,
        &["env.g", "global", "only function imports"],
    );
}

#[test]
fn exception_tags() {
    let bytes = program("(tag)");
    fails(
        "tags",
        &bytes,
        &["exception-handling tags", "not supported"],
    );
}

#[test]
fn gc_types() {
    let bytes = program("(type (struct (field i32)))");
    fails("gc-types", &bytes, &["gc"]);
}

// Stage 2: binding the imports.

#[test]
fn http_imports() {
    let bytes = program(
        r#"(import "wasi:http/types@0.2.0" "[constructor]fields" (func (result i32)))
           (import "wasi:http/types@0.2.0" "[resource-drop]fields" (func (param i32)))
           (import "wasi:cli/stdout@0.2.0" "get-stdout" (func (result i32)))"#,
    );
    let msg = fails(
        "http",
        &bytes,
        &[
            "2 function(s)",
            "wasi:http/types@0.2.0#[constructor]fields",
            "wasi:http/types@0.2.0#[resource-drop]fields",
            "no such function",
        ],
    );
    assert!(
        !msg.contains("get-stdout"),
        "names an import that is fine:\n{msg}"
    );
}

#[test]
fn unknown_import() {
    let bytes = program(r#"(import "env" "foo" (func))"#);
    fails("env-foo", &bytes, &["env#foo", "not a WASI 0.2 import"]);
}

#[test]
fn unversioned_wasi_import() {
    let bytes = program(r#"(import "wasi:cli/stdout" "get-stdout" (func (result i32)))"#);
    fails("unversioned", &bytes, &["wasi:cli/stdout#get-stdout"]);
}

#[test]
fn newer_minor_version() {
    let bytes = program(r#"(import "wasi:cli/stdout@0.2.99" "get-stdout" (func (result i32)))"#);
    fails(
        "v0.2.99",
        &bytes,
        &[
            "wasi:cli/stdout@0.2.99#get-stdout",
            "0.2.99",
            "newer than the adapter's 0.2.12",
        ],
    );
}

#[test]
fn wasi_0_3_function_of_0_2() {
    // 0.3's stdout has no `get-stdout`.
    let bytes = program(r#"(import "wasi:cli/stdout@0.3.0" "get-stdout" (func (result i32)))"#);
    fails(
        "v0.3.0",
        &bytes,
        &[
            "wasi:cli/stdout@0.3.0#get-stdout",
            "no such function in WASI 0.3.2",
        ],
    );
}

#[test]
fn signature_mismatch() {
    let bytes = program(r#"(import "wasi:cli/stdout@0.2.0" "get-stdout" (func (param i32)))"#);
    fails(
        "signature",
        &bytes,
        &[
            "wasi:cli/stdout@0.2.0#get-stdout",
            "(i32) -> ()",
            "() -> (i32)",
        ],
    );
}

// Stage 4: merging.

#[test]
fn no_run_export() {
    let bytes = wat(r#"(module
        (import "wasi:cli/stdout@0.2.0" "get-stdout" (func (result i32)))
        (memory (export "memory") 1)
        (func (export "main") (result i32) i32.const 0))"#);
    fails(
        "no-run",
        &bytes,
        &["does not export", "wasi:cli/run@0.2.N#run"],
    );
}

#[test]
fn run_with_wrong_type() {
    let bytes = wat(r#"(module
        (memory (export "memory") 1)
        (func (export "wasi:cli/run@0.2.0#run") (param i32)))"#);
    fails(
        "run-type",
        &bytes,
        &[
            "wasi:cli/run@0.2.0#run",
            "(i32) -> ()",
            "expected () -> (i32)",
        ],
    );
}

#[test]
fn no_memory() {
    let bytes =
        wat(r#"(module (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#);
    fails("no-memory", &bytes, &["exactly one memory", "defines 0"]);
}

#[test]
fn no_cabi_realloc() {
    // `get-arguments` returns a list, so the adapter needs the allocator.
    let bytes = wat(r#"(module
        (import "wasi:cli/environment@0.2.0" "get-arguments" (func $args (param i32)))
        (memory (export "memory") 1)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) (call $args (i32.const 16)) i32.const 0))"#);
    fails("no-realloc", &bytes, &["cabi_realloc"]);
}

#[test]
fn preview1_import_with_other_type() {
    // The program calls `proc_exit`, which `_start` needs too, as another
    // type. (An import nothing calls is left out of the output.)
    let bytes = wat(r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i64)))
        (memory (export "memory") 1)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) (call $exit (i64.const 0)) i32.const 0))"#);
    fails(
        "proc-exit-type",
        &bytes,
        &["wasi_snapshot_preview1.proc_exit", "two different types"],
    );
}

#[test]
fn preview1_import_clashing_with_adapter() {
    // `fd_write` as the program declares it differs from the adapter's.
    let bytes = wat(r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32)))
        (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $stdout (result i32)))
        (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush" (func $write (param i32 i32 i32 i32)))
        (memory (export "memory") 1)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
        (func (export "wasi:cli/run@0.2.0#run") (result i32)
            (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))
            (call $write (call $stdout) (i32.const 0) (i32.const 0) (i32.const 8))
            i32.const 0))"#);
    fails(
        "fd-write-type",
        &bytes,
        &["wasi_snapshot_preview1.fd_write", "two different types"],
    );
}

// Inputs the tool accepts but cannot handle. The tests say what a fix
// should give (a clear error, or a working program); they are ignored
// until the tool is fixed.

#[test]

fn memory64() {
    let bytes = wat(r#"(module
        (import "wasi:cli/stdout@0.2.0" "get-stdout" (func (result i32)))
        (memory (export "memory") i64 1)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#);
    fails("memory64", &bytes, &["64-bit", "memory"]);
}

#[test]

fn custom_page_size() {
    let bytes = wat(r#"(module
        (memory (export "memory") 1 (pagesize 1))
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#);
    fails("pagesize", &bytes, &["page size"]);
}

#[test]

fn gc_reference_in_signature() {
    // Reference types pass through unchanged (or are refused by name).
    let bytes = program("(func (param i31ref) (result i32) local.get 0 i31.get_s)");
    rejected_or_runs("i31ref", &bytes, &["not supported"]);
}

#[test]

fn cabi_realloc_with_wrong_type() {
    let bytes = wat(r#"(module
        (import "wasi:cli/environment@0.2.0" "get-arguments" (func (param i32)))
        (memory (export "memory") 1)
        (func (export "cabi_realloc") (param i32) (result i32) i32.const 1024)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#);
    fails(
        "realloc-type",
        &bytes,
        &[
            "cabi_realloc",
            "(i32) -> (i32)",
            "(i32, i32, i32, i32) -> (i32)",
        ],
    );
}

#[test]

fn wasi_0_3_unknown_function() {
    let bytes =
        program(r#"(import "wasi:http/types@0.3.0" "[constructor]fields" (func (result i32)))"#);
    let msg = fails(
        "v0.3.0-unknown",
        &bytes,
        &["1 function(s)", "wasi:http/types@0.3.0#[constructor]fields"],
    );
    assert_eq!(msg.matches("[constructor]fields").count(), 1, "{msg}");
}

/// Adapts `input`, then either the adapting fails with all `words` in the
/// message, or the program runs (embedded engine) and exits with 0.
fn rejected_or_runs(name: &str, input: &[u8], words: &[&str]) {
    let dir = temp_dir(&format!("errors-{name}"));
    let out = adapt(&dir, input);
    if !out.status.success() {
        check_failure(name, &out, words);
        return;
    }
    let mut cmd = Command::new(tool());
    cmd.arg("run").arg(dir.join("in.wasm"));
    let run = run_with_timeout(&mut cmd, TIMEOUT);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{name}: adapted, but does not run:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]

fn start_function_calling_wasi() {
    let bytes = wat(r#"(module
        (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get_stdout (result i32)))
        (memory (export "memory") 1)
        (func $init (drop (call $get_stdout)))
        (start $init)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#);
    rejected_or_runs("start", &bytes, &["start"]);
}

#[test]

fn memory_maximum_too_small() {
    let bytes = wat(r#"(module
        (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $get_stdout (result i32)))
        (memory (export "memory") 1 1)
        (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) (drop (call $get_stdout)) i32.const 0))"#);
    rejected_or_runs("memory-max", &bytes, &["memory", "maximum"]);
}

// The `run` command reports the same errors.

#[test]
fn run_reports_errors() {
    let dir = temp_dir("errors-run");
    let input = dir.join("in.wasm");
    std::fs::write(&input, program(r#"(import "env" "foo" (func))"#)).unwrap();
    let mut cmd = Command::new(tool());
    cmd.arg("run").arg(&input);
    let out = run_with_timeout(&mut cmd, TIMEOUT);
    check_failure("run", &out, &["env#foo", "not a WASI 0.2 import"]);
}

#[test]
fn run_with_missing_directory() {
    let dir = temp_dir("errors-run-dir");
    let input = dir.join("in.wasm");
    std::fs::write(&input, program("")).unwrap();
    let mut cmd = Command::new(tool());
    cmd.arg("run")
        .arg("--dir")
        .arg(dir.join("no-such-dir"))
        .arg(&input);
    let out = run_with_timeout(&mut cmd, TIMEOUT);
    check_failure("run-dir", &out, &["cannot open directory", "no-such-dir"]);
}

/// The library's errors say their kind, for build tools to match on.
#[test]
fn library_error_kinds() {
    use wasi_downlevel::{adapt, ErrorKind, Options};
    let kind = |input: &[u8], options: &Options| adapt(input, options).unwrap_err().kind().clone();
    let default = Options::default();
    assert_eq!(
        kind(b"nope", &default),
        ErrorKind::Invalid { offset: Some(0) }
    );
    let mut truncated = program("");
    truncated.truncate(truncated.len() - 3);
    assert!(matches!(
        kind(&truncated, &default),
        ErrorKind::Invalid { offset: Some(o) } if o > 8
    ));
    match kind(
        &program(r#"(import "wasi:http/types@0.2.0" "[constructor]fields" (func (result i32)))"#),
        &default,
    ) {
        ErrorKind::MissingImports { imports } => {
            assert_eq!(imports.len(), 1);
            assert!(imports[0].contains("wasi:http/types"), "{imports:?}");
        }
        other => panic!("{other:?}"),
    }
    let two_memories = wat(r#"(module
        (memory (export "memory") 1) (memory 1)
        (func (export "wasi:cli/run@0.2.0#run") (result i32) i32.const 0))"#);
    assert_eq!(kind(&two_memories, &default), ErrorKind::Unsupported);
    let simd = wat(r#"(module
        (memory (export "memory") 1)
        (func (export "wasi:cli/run@0.2.0#run") (result i32)
          (i32x4.extract_lane 0 (v128.const i32x4 0 0 0 0))))"#);
    let mvp = Options {
        target_features: Some(wasi_downlevel::features::Features::parse("mvp").unwrap()),
        ..Default::default()
    };
    assert_eq!(
        kind(&simd, &mvp),
        ErrorKind::CannotLower {
            feature: "simd128".into()
        }
    );
}
