(module (memory (export "memory") 1) (func (export "_start") (drop (i32.extend8_s (i32.const 1)))))
