//! Gate arithmetic of the integer cells: the logistic function and rounded products, in
//! the formats of [`crate::fixed`] (Q16 pre-activations in, Q15 gates out).

use crate::fixed::tanh_q15;

/// The logistic function σ of a Q16 value, as Q15, in `0..=32767`:
/// `σ(x) = (1 + tanh(x / 2)) / 2`, built on [`tanh_q15`].
///
/// `x / 2` is `x >> 1` (rounded down by half a Q16 unit at most: 2^-17, a quarter of a
/// Q15 unit after tanh). Then `(2^15 + t + 1) >> 1` halves `2^15 + tanh` rounding halves
/// up, and 32768 (σ of large `x`) is clamped to 32767, so the gate always fits `i16`. With
/// `tanh_q15` within 1 unit of tanh, the result is within 1 unit of `σ(x) · 2^15`.
#[inline(never)]
pub fn sigmoid_q15(x: i32) -> i32 {
    let t = tanh_q15(x >> 1) as i32;
    ((32768 + t + 1) >> 1).min(32767)
}

/// [`tanh_q15`] widened to `i32`, out of line: the gated cells call it more than once
/// per unit, and one copy keeps the code small.
#[inline(never)]
pub fn tanh_q15_i32(x: i32) -> i32 {
    tanh_q15(x) as i32
}

/// Each Q16 value of `x` becomes its [`sigmoid_q15`] (a gate block, in place).
#[inline(never)]
pub fn sigmoid_all(x: &mut [i32]) {
    x.iter_mut().for_each(|v| *v = sigmoid_q15(*v));
}

/// Each Q16 value of `x` becomes its [`tanh_q15`] (a gate block, in place).
#[inline(never)]
pub fn tanh_all(x: &mut [i32]) {
    x.iter_mut().for_each(|v| *v = tanh_q15(*v) as i32);
}

/// `a · b` of two Q15 values (|a|, |b| ≤ 2^15, one of them ≤ 2^15 - 1 in magnitude so the
/// product fits `i32` with its rounding term), as Q15 rounded half up:
/// `(a · b + 2^14) >> 15`.
#[inline(always)]
pub fn mul_q15(a: i32, b: i32) -> i32 {
    (a * b + (1 << 14)) >> 15
}

/// `g · x` of a Q15 gate `g` in `0..=32767` and a Q16 value `x` (any `i32`), as Q16
/// rounded half up; the magnitude never grows, so it always fits.
#[inline(always)]
pub fn gate_q16(g: i32, x: i32) -> i32 {
    ((g as i64 * x as i64 + (1 << 14)) >> 15) as i32
}

/// The logistic function in f32 (`libm`'s `expf`), for the float path.
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_matches_libm_within_one_lsb() {
        let mut x = -20 * 65536;
        while x <= 20 * 65536 {
            let want = 32768.0 / (1.0 + libm::exp(-(x as f64) / 65536.0));
            let got = sigmoid_q15(x) as f64;
            assert!((got - want).abs() <= 1.0, "x={x} got={got} want={want}");
            x += 173;
        }
        assert_eq!(sigmoid_q15(0), 16384);
        assert_eq!(sigmoid_q15(i32::MAX), 32767);
        assert_eq!(sigmoid_q15(i32::MIN), 1);
    }

    #[test]
    fn products_round_and_fit() {
        assert_eq!(mul_q15(16384, 16384), 8192);
        assert_eq!(mul_q15(32767, -65534), -65532);
        assert_eq!(mul_q15(1, 16384), 1); // 0.5 rounds up
        assert_eq!(gate_q16(32767, i32::MAX), 2147418111);
        assert_eq!(gate_q16(32767, i32::MIN), -2147418112);
        assert_eq!(gate_q16(16384, 3), 2); // 1.5 rounds up
        assert_eq!(gate_q16(0, i32::MIN), 0);
    }
}
