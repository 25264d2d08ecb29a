(module (memory (export "memory") 1) (global (export "g") (mut i32) (i32.const 0)) (func (export "_start")))
