(module (memory (export "memory") 1) (func (export "_start") (drop (ref.is_null (ref.null func)))))
