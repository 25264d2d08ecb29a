//! A program with `simd128` functions in an otherwise scalar build, as
//! crates such as rustfft carry them: sums and a checksum of stdin with
//! integer lanes, and a dot product with float lanes. The output is the
//! same as the scalar code below gives, which it also prints.

use core::arch::wasm32::*;
use std::io::Read;

#[target_feature(enable = "simd128")]
fn sum_simd(data: &[u8]) -> (u64, u32) {
    let mut wide = u32x4_splat(0);
    let mut mix = u32x4_splat(0);
    let chunks = data.chunks_exact(16);
    let rest = chunks.remainder();
    for c in chunks {
        // In bounds: a chunk is 16 bytes.
        let v = unsafe { v128_load(c.as_ptr() as *const v128) };
        // u8 -> u16 -> u32 lanes, then accumulate.
        let lo = u16x8_extend_low_u8x16(v);
        let hi = u16x8_extend_high_u8x16(v);
        let s = u32x4_add(
            u32x4_extadd_pairwise_u16x8(lo),
            u32x4_extadd_pairwise_u16x8(hi),
        );
        wide = u32x4_add(wide, s);
        mix = v128_xor(u32x4_shl(mix, 1), s);
    }
    let mut sum = 0u64;
    let mut x = 0u32;
    for i in 0..4 {
        sum += u32x4_extract_lane_dyn(wide, i) as u64;
        x ^= u32x4_extract_lane_dyn(mix, i).rotate_left(i as u32);
    }
    sum += rest.iter().map(|&b| b as u64).sum::<u64>();
    (sum, x)
}

fn u32x4_extract_lane_dyn(v: v128, i: usize) -> u32 {
    match i {
        0 => u32x4_extract_lane::<0>(v),
        1 => u32x4_extract_lane::<1>(v),
        2 => u32x4_extract_lane::<2>(v),
        _ => u32x4_extract_lane::<3>(v),
    }
}

fn sum_scalar(data: &[u8]) -> (u64, u32) {
    let chunks = data.chunks_exact(16);
    let rest = chunks.remainder();
    let mut lanes = [0u32; 4];
    let mut mix = [0u32; 4];
    for c in chunks {
        for l in 0..4 {
            // The lanes `sum_simd` gets: pairs of the low and high halves.
            let s: u32 = [2 * l, 2 * l + 1, 8 + 2 * l, 9 + 2 * l]
                .iter()
                .map(|&i| c[i] as u32)
                .sum();
            lanes[l] = lanes[l].wrapping_add(s);
            mix[l] = (mix[l] << 1) ^ s;
        }
    }
    let sum =
        lanes.iter().map(|&v| v as u64).sum::<u64>() + rest.iter().map(|&b| b as u64).sum::<u64>();
    let x = (0..4).fold(0u32, |x, i| x ^ mix[i].rotate_left(i as u32));
    (sum, x)
}

#[target_feature(enable = "simd128")]
fn dot_simd(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = f32x4_splat(0.0);
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        let vx = f32x4(x[0], x[1], x[2], x[3]);
        let vy = f32x4(y[0], y[1], y[2], y[3]);
        acc = f32x4_add(acc, f32x4_mul(vx, vy));
    }
    f32x4_extract_lane::<0>(acc)
        + f32x4_extract_lane::<1>(acc)
        + f32x4_extract_lane::<2>(acc)
        + f32x4_extract_lane::<3>(acc)
}

fn main() {
    let mut data = Vec::new();
    std::io::stdin().read_to_end(&mut data).unwrap();
    // wasm's simd128 functions are safe to call: a host without SIMD does
    // not load the module at all.
    let (sum, x) = sum_simd(&data);
    println!("bytes {} sum {sum} mix {x:08x}", data.len());
    let (s2, x2) = sum_scalar(&data);
    println!("scalar sum {s2} mix {x2:08x}");
    let a: Vec<f32> = (0..64).map(|i| i as f32 * 0.5).collect();
    let b: Vec<f32> = (0..64).map(|i| (64 - i) as f32 * 0.25).collect();
    println!("dot {}", dot_simd(&a, &b));
}
