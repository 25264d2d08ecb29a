(module (memory (export "memory") 1) (func (export "_start") (drop (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4)))))
