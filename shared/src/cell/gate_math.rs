//! Gate arithmetic of the integer cells: the logistic function and rounded products, in
//! the formats of [`crate::fixed`] (Q16 pre-activations in, Q15 gates out).

#[cfg(any(doc, test))]
use crate::fixed::tanh_q15;
use crate::fixed::{TANH_Q16, TANH_STEPS, TANH_STEP_BITS};
use crate::kernels::{if_dsp, if_not_dsp};

/// The logistic function σ of a Q16 value, as Q15, in `0..=32767`:
/// `σ(x) = (1 + tanh(x / 2)) / 2`, built on [`tanh_q15`].
///
/// `x / 2` is `x >> 1` (rounded down by half a Q16 unit at most: 2^-17, a quarter of a
/// Q15 unit after tanh). Then `(2^15 + t + 1) >> 1` halves `2^15 + tanh` rounding halves
/// up, and 32768 (σ of large `x`) is clamped to 32767, so the gate always fits `i16`. With
/// `tanh_q15` within 1 unit of tanh, the result is within 1 unit of `σ(x) · 2^15`.
#[inline]
pub fn sigmoid_q15(x: i32) -> i32 {
    gate_fn(x, Gate::Sigmoid)
}

/// [`tanh_q15`] widened to `i32`.
#[inline]
pub fn tanh_q15_i32(x: i32) -> i32 {
    gate_fn(x, Gate::Tanh)
}

/// The two gate functions, computed by [`gate_fn`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gate {
    Sigmoid,
    Tanh,
}

/// The gate function `f` of `x`: the cells call it several times per unit. The Cortex-M4
/// build inlines it into the cells' loops (a call would cost more than half of it); the
/// others keep one copy (the Cortex-M0's flash is tight).
#[inline(always)]
fn gate_fn(x: i32, f: Gate) -> i32 {
    if f == Gate::Sigmoid {
        let t = gate_tanh(x >> 1);
        clamp_32767((32768 + t + 1) >> 1)
    } else {
        gate_tanh(x)
    }
}

/// Intervals of [`TANH_PAIRS`]: enough for every magnitude below 2^19 (8 in Q16).
const PAIRS: usize = 1 << (19 - TANH_STEP_BITS);

/// [`TANH_Q16`] by pairs, one word per interval: `t[i]` in the low half, `t[i + 1] - t[i]`
/// (never negative) in the high half; from interval 768 on (inputs of 6 and more), `t[768]`
/// alone. 4 KB of flash, on the Cortex-M4 only, for one load per lookup.
static TANH_PAIRS: [u32; PAIRS + 1] = {
    let mut p = [0u32; PAIRS + 1];
    let mut i = 0;
    while i <= PAIRS {
        p[i] = if i < TANH_STEPS {
            TANH_Q16[i] as u32 | ((TANH_Q16[i + 1] - TANH_Q16[i]) as u32) << 16
        } else {
            TANH_Q16[TANH_STEPS] as u32
        };
        i += 1;
    }
    p
};

/// [`tanh_q15`], bit for bit, through [`TANH_PAIRS`]: `x` is first clamped to ±2^19 (one
/// `SSAT`; tanh is 32767 from 6 on anyway), so its interval is always in the table.
#[allow(dead_code)] // the Cortex-M4's gate_tanh, and the tests
#[inline(always)]
fn tanh_by_pairs(x: i32) -> i32 {
    let mag = x.clamp(-(1 << 19), (1 << 19) - 1).unsigned_abs();
    let pair = TANH_PAIRS[(mag >> TANH_STEP_BITS) as usize];
    let frac = (mag & ((1 << TANH_STEP_BITS) - 1)) as i32;
    let q16 = (pair & 0xffff) as i32 + (((pair >> 16) as i32 * frac) >> TANH_STEP_BITS);
    let y = clamp_32767((q16 + 1) >> 1);
    if x < 0 {
        -y
    } else {
        y
    }
}

/// `v.min(32767)` for `v` in `0..=32768`, in one instruction: only 32768 has bit 15 set.
#[inline(always)]
fn clamp_32767(v: i32) -> i32 {
    v - (v >> 15)
}

if_dsp! {
    #[inline(always)]
    fn gate_tanh(x: i32) -> i32 {
        tanh_by_pairs(x)
    }
}

if_not_dsp! {
    #[inline(never)]
    fn gate_tanh(x: i32) -> i32 {
        crate::fixed::tanh_q15(x) as i32
    }
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
    fn the_gate_functions_match_tanh_q15() {
        let mut x = i32::MIN;
        loop {
            assert_eq!(tanh_q15_i32(x), tanh_q15(x) as i32, "x={x}");
            assert_eq!(tanh_by_pairs(x), tanh_q15(x) as i32, "x={x}");
            let t = tanh_q15(x >> 1) as i32;
            assert_eq!(sigmoid_q15(x), ((32768 + t + 1) >> 1).min(32767), "x={x}");
            match x.checked_add(if x.unsigned_abs() < 8 << 16 {
                7
            } else {
                40_009
            }) {
                Some(next) => x = next,
                None => break,
            }
        }
        for x in [
            i32::MAX,
            i32::MIN,
            6 << 16,
            (6 << 16) - 1,
            -(6 << 16),
            0,
            -1,
            1,
        ] {
            assert_eq!(tanh_by_pairs(x), tanh_q15(x) as i32, "x={x}");
        }
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
