(module (memory (export "memory") 1) (type $s (struct (field i32))) (func (export "_start") (drop (struct.new $s (i32.const 1)))))
