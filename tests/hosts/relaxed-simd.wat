(module (memory (export "memory") 1) (func (export "_start") (drop (i32x4.relaxed_trunc_f32x4_s (v128.const f32x4 1 2 3 4)))))
