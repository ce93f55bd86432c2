//! The inner loops: dot products of one weight row with an activation vector.

/// `w (n,) int8 · x (n,) Q15 -> i32`: sum of products, exact (no overflow for n ≤ 511).
#[inline]
pub fn dot_q8_q15(w: &[u8], x: &[i16]) -> i32 {
    debug_assert_eq!(w.len(), x.len());
    let mut acc = 0i32;
    for (&wi, &xi) in w.iter().zip(x) {
        acc += (wi as i8 as i32) * (xi as i32);
    }
    acc
}

/// `w (n,) f32 · x (n,) f32 -> f32`, summed left to right.
#[inline]
pub fn dot_f32(w: &[f32], x: &[f32]) -> f32 {
    debug_assert_eq!(w.len(), x.len());
    let mut acc = 0.0;
    for (&wi, &xi) in w.iter().zip(x) {
        acc += wi * xi;
    }
    acc
}
