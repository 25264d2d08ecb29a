(module (memory (export "memory") 1) (tag $e) (func (export "_start") (block $h (try_table (catch_all $h) (throw $e)))))
