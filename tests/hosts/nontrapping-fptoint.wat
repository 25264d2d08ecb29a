(module (memory (export "memory") 1) (func (export "_start") (drop (i32.trunc_sat_f32_s (f32.const 1)))))
