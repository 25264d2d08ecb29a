(module (memory (export "memory") 1) (func $two (result i32 i32) (i32.const 1) (i32.const 2)) (func (export "_start") (call $two) (drop) (drop)))
