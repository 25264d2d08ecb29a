(module (memory (export "memory") 1) (memory i64 1) (func (export "_start")))
