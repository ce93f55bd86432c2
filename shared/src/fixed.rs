//! Fixed-point arithmetic of the integer path: formats, requantization, tanh and exp.
//!
//! Formats used everywhere:
//! - hidden state: `i16` Q15 (value = q / 2^15);
//! - pre-activations and logits: `i32` Q16 (value = q / 2^16);
//! - probabilities' unnormalized weights: `u32` Q22 (the largest is exactly 2^22).
//!
//! The lookup tables below are computed by the compiler (`const fn`), so the code that
//! runs on the device uses integer instructions only and gives the same bits everywhere.

/// One in Q16.
#[cfg(test)]
const ONE_Q16: i32 = 1 << 16;

// ---- requantization ----

/// Multiplies an accumulator by a row scale and returns the result in Q16, rounded and
/// saturated: `round(acc * scale * 2)`.
///
/// `acc` is a sum of `int8 weight * Q15 activation` products, so its real value is
/// `scale * acc / 2^15`; in Q16 that is `acc * scale * 2`. `scale_bits` is the IEEE-754
/// bit pattern of the positive row scale; it is taken apart with integer operations
/// (24-bit mantissa, exponent) so no floating-point unit is needed. The model loader
/// guarantees the exponent is in `SCALE_EXP_MIN..=SCALE_EXP_MAX` or the scale is zero.
#[inline]
pub fn requant_q16(acc: i32, scale_bits: u32) -> i32 {
    let exp = ((scale_bits >> 23) & 0xff) as i32;
    if exp == 0 {
        return 0; // zero (or subnormal, refused by the loader): the row is all zeros
    }
    let mantissa = ((scale_bits & 0x7f_ffff) | 0x80_0000) as i64;
    // scale = mantissa * 2^(exp - 150); times 2 -> shift right by 149 - exp.
    let shift = (149 - exp).clamp(1, 62) as u32;
    let prod = acc as i64 * mantissa;
    let rounded = (prod + (1i64 << (shift - 1))) >> shift;
    rounded.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Smallest biased exponent a row scale may have (2^-40 ≤ scale).
const SCALE_EXP_MIN: u32 = 127 - 40;
/// Largest biased exponent a row scale may have (scale < 2^8).
const SCALE_EXP_MAX: u32 = 127 + 7;

/// True when `bits` is a scale [`requant_q16`] handles: +0.0, or positive, finite and in range.
pub fn scale_is_valid(bits: u32) -> bool {
    let exp = (bits >> 23) & 0xff;
    bits == 0 || (bits >> 31 == 0 && (SCALE_EXP_MIN..=SCALE_EXP_MAX).contains(&exp))
}

// ---- compile-time math for the tables ----

/// `e^x` in f64 for table building: range reduction by ln 2, then a Taylor series.
const fn exp_f64(x: f64) -> f64 {
    const LN2: f64 = core::f64::consts::LN_2;
    let k = if x >= 0.0 {
        (x / LN2 + 0.5) as i64
    } else {
        (x / LN2 - 0.5) as i64
    };
    let r = x - k as f64 * LN2;
    let (mut sum, mut term, mut n) = (1.0, 1.0, 1);
    while n < 30 {
        term = term * r / n as f64;
        sum += term;
        n += 1;
    }
    let mut scale = 1.0;
    let mut i = 0;
    while i < k.unsigned_abs() {
        scale *= 2.0;
        i += 1;
    }
    if k >= 0 {
        sum * scale
    } else {
        sum / scale
    }
}

// ---- tanh ----

/// tanh is tabulated on [0, 6) with this many intervals (step 1/128); beyond 6 it
/// rounds to 32767 in Q15.
pub(crate) const TANH_STEPS: usize = 768;
/// log2 of the Q16 width of one table interval (1/128 = 512 / 2^16).
pub(crate) const TANH_STEP_BITS: u32 = 9;

/// tanh(i/128) in Q16 for i in 0..=768 (1.5 KB of flash; every value is below 1).
pub(crate) const TANH_Q16: [u16; TANH_STEPS + 1] = {
    let mut t = [0u16; TANH_STEPS + 1];
    let mut i = 0;
    while i <= TANH_STEPS {
        let x = i as f64 / 128.0;
        let th = 1.0 - 2.0 / (exp_f64(2.0 * x) + 1.0);
        t[i] = (th * 65536.0 + 0.5) as u16;
        i += 1;
    }
    t
};

/// tanh of a Q16 value, as Q15, by table lookup and linear interpolation (error < 1 LSB).
/// 32-bit arithmetic only.
#[inline]
pub fn tanh_q15(x: i32) -> i16 {
    let mag = x.unsigned_abs();
    let idx = (mag >> TANH_STEP_BITS) as usize;
    let y = if idx >= TANH_STEPS {
        32767
    } else {
        let frac = (mag & ((1 << TANH_STEP_BITS) - 1)) as i32;
        let (a, b) = (TANH_Q16[idx] as i32, TANH_Q16[idx + 1] as i32);
        let q16 = a + (((b - a) * frac) >> TANH_STEP_BITS);
        ((q16 + 1) >> 1).min(32767)
    };
    if x < 0 {
        -y as i16
    } else {
        y as i16
    }
}

// ---- exp ----

/// 2^(-i/256) in Q30 for i in 0..=256.
const EXP2_NEG_Q30: [u32; 257] = {
    let mut t = [0u32; 257];
    let mut i = 0;
    while i <= 256 {
        let v = exp_f64(-(i as f64) / 256.0 * core::f64::consts::LN_2);
        t[i] = (v * (1u32 << 30) as f64 + 0.5) as u32;
        i += 1;
    }
    t
};

/// log2(e) in Q30.
const LOG2_E_Q30: u32 = 1_549_082_005;

/// The smallest `q` for which [`exp_neg_q22`] is 0 because `q·log2(e)/2^16 >= 23`
/// (every larger `q` gives 0 too): `ceil(23·2^46 / log2(e)_Q30)`, about `15.94·2^16`.
pub const EXP_NEG_Q22_ZERO: u32 = ((23u64 << 46).div_ceil(LOG2_E_Q30 as u64)) as u32;

/// `e^x` for a Q16 value `x <= 0`, as Q22 (`exp_q22(0) == 1 << 22`); 0 below about -15.
#[inline]
pub fn exp_q22(x: i32) -> u32 {
    exp_neg_q22(x.min(0).unsigned_abs())
}

/// `e^(-q)` for a Q16 magnitude `q`, as Q22: `exp_neg_q22(q) == exp_q22(-q)`; 0 from
/// [`EXP_NEG_Q22_ZERO`] on.
///
/// `e^(-q) = 2^(-z)` with `z = q·log2(e)` in Q46, split into an integer part and a Q24
/// fraction; the fraction's top 8 bits index a 2^(-i/256) table, its low 16 bits
/// interpolate linearly, and the integer part is the final rounding shift. Only bits
/// 22..51 of `z` matter: they are the high word of `(q << 10)·log2(e)`, one 32×32→64
/// multiply (UMULL on Cortex-M3/M4); the interpolation is the high word of a second one.
#[inline(always)]
pub fn exp_neg_q22(q: u32) -> u32 {
    // From EXP_NEG_Q22_ZERO to 2^20 the integer part is 23 and the code below gives 0 as
    // well; testing against a power of two needs no constant in a register.
    if q >= 1 << 20 {
        return 0;
    }
    // q < 2^20: z >> 22 = (q·2^10·log2(e)_Q30) >> 32, below 24·2^24.
    let hi = (((q << 10) as u64 * LOG2_E_Q30 as u64) >> 32) as u32;
    let int = hi >> 24;
    let idx = ((hi >> 16) & 0xff) as usize;
    let (a, b) = (EXP2_NEG_Q30[idx], EXP2_NEG_Q30[idx + 1]);
    // ⌊(a - b)·frac / 2^16⌋ with frac = hi & 0xffff: the high word of (a - b)·(frac << 16).
    let q30 = a - (((a - b) as u64 * (hi << 16) as u64) >> 32) as u32;
    // Round to Q22 (halves up): ⌊(q30 + 2^(7+int)) / 2^(8+int)⌋ = ⌊(⌊q30 / 2^int⌋ + 2^7) / 2^8⌋.
    ((q30 >> int) + (1 << 7)) >> 8
}

// ---- decimal settings ----

/// Parses a non-negative decimal such as `0.8`, `1`, `.25` into thousandths, exactly,
/// without floating point. More than three decimals are refused, as is anything above `max`.
pub fn parse_milli(s: &str, max: u32) -> Option<u32> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if (int.is_empty() && frac.is_empty()) || frac.len() > 3 {
        return None;
    }
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || int.len() > 6 {
        return None;
    }
    let mut value: u32 = 0;
    for b in int.bytes() {
        value = value * 10 + (b - b'0') as u32;
    }
    let mut frac_value = 0;
    for i in 0..3 {
        frac_value = frac_value * 10 + frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as u32);
    }
    let milli = value.checked_mul(1000)?.checked_add(frac_value)?;
    (milli <= max).then_some(milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_matches_libm_within_one_lsb() {
        let mut x = -9 * ONE_Q16;
        while x <= 9 * ONE_Q16 {
            let want = libm::tanh(x as f64 / 65536.0) * 32768.0;
            let got = tanh_q15(x) as f64;
            assert!((got - want).abs() <= 1.0, "x={x} got={got} want={want}");
            x += 97;
        }
        assert_eq!(tanh_q15(0), 0);
        assert_eq!(tanh_q15(i32::MAX), 32767);
        assert_eq!(tanh_q15(i32::MIN), -32767);
    }

    #[test]
    fn exp_matches_libm() {
        assert_eq!(exp_q22(0), 1 << 22);
        let mut x = 0;
        while x > -20 * ONE_Q16 {
            let want = libm::exp(x as f64 / 65536.0) * (1u32 << 22) as f64;
            let got = exp_q22(x) as f64;
            assert!(
                (got - want).abs() <= 1.0 + want * 2e-6,
                "x={x} got={got} want={want}"
            );
            x -= 331;
        }
        assert_eq!(exp_q22(i32::MIN), 0);
    }

    /// The first `exp_q22`, kept to check that the current one gives the same values.
    fn exp_q22_reference(x: i32) -> u32 {
        const LOG2_E_Q30: i64 = 1_549_082_005;
        let z = -(x.min(0) as i64) * LOG2_E_Q30;
        let int = (z >> 46) as u32;
        if int >= 23 {
            return 0;
        }
        let f = ((z >> 22) & 0xff_ffff) as u64;
        let (idx, frac) = ((f >> 16) as usize, f & 0xffff);
        let (a, b) = (EXP2_NEG_Q30[idx] as u64, EXP2_NEG_Q30[idx + 1] as u64);
        let q30 = a - (((a - b) * frac) >> 16);
        ((q30 + (1 << (7 + int))) >> (8 + int)) as u32
    }

    #[test]
    fn exp_is_the_reference_everywhere() {
        // Every x from 0 down past the zero cut (each value of the table and fraction)...
        let mut x = 0i32;
        while x > -(EXP_NEG_Q22_ZERO as i32) - 65536 {
            let want = exp_q22_reference(x);
            assert_eq!(exp_q22(x), want, "x={x}");
            assert_eq!(exp_neg_q22(x.unsigned_abs()), want, "x={x}");
            x -= 1;
        }
        assert_ne!(exp_neg_q22(EXP_NEG_Q22_ZERO - 1), 0);
        assert_eq!(exp_neg_q22(EXP_NEG_Q22_ZERO), 0);
        // ...then the rest of the range, sparsely, and its ends.
        let mut q = EXP_NEG_Q22_ZERO;
        while let Some(next) = q.checked_add(9973) {
            assert_eq!(exp_neg_q22(q), 0, "q={q}");
            let x = (q as i64).min(i32::MAX as i64) as i32;
            assert_eq!(exp_q22(-x), exp_q22_reference(-x), "x={x}");
            q = next;
        }
        for x in [i32::MIN, i32::MIN + 1, -1, 0, 1, 12345, i32::MAX] {
            assert_eq!(exp_q22(x), exp_q22_reference(x), "x={x}");
        }
        assert_eq!(exp_neg_q22(u32::MAX), 0);
    }

    #[test]
    fn requant_rounds_like_float() {
        for &scale in &[0.0123f32, 1.0, 0.5, 3.75e-5, 100.0] {
            for &acc in &[0, 1, -1, 12345, -98765, 1 << 22, -(1 << 29)] {
                let want = (acc as f64 * scale as f64 * 2.0).round();
                let got = requant_q16(acc, scale.to_bits()) as f64;
                let want = want.clamp(i32::MIN as f64, i32::MAX as f64);
                assert!((got - want).abs() <= 1.0, "acc={acc} scale={scale}");
            }
        }
        assert_eq!(requant_q16(1000, 0), 0);
    }

    #[test]
    fn scale_validity() {
        assert!(scale_is_valid(0.01f32.to_bits()));
        assert!(scale_is_valid(0.0f32.to_bits()));
        assert!(!scale_is_valid((-0.01f32).to_bits()));
        assert!(!scale_is_valid(f32::NAN.to_bits()));
        assert!(!scale_is_valid(f32::INFINITY.to_bits()));
        assert!(!scale_is_valid(1e-30f32.to_bits()));
        assert!(!scale_is_valid(1000.0f32.to_bits()));
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(parse_milli("0.8", 100_000), Some(800));
        assert_eq!(parse_milli("1", 100_000), Some(1000));
        assert_eq!(parse_milli(".25", 100_000), Some(250));
        assert_eq!(parse_milli("2.", 100_000), Some(2000));
        assert_eq!(parse_milli("0.125", 100_000), Some(125));
        assert_eq!(parse_milli("0.1255", 100_000), None);
        assert_eq!(parse_milli("1.5", 1000), None);
        for bad in ["", ".", "-1", "1e3", "a", "1.2.3", " 1", "9999999"] {
            assert_eq!(parse_milli(bad, u32::MAX), None, "{bad}");
        }
    }
}
