//! Fast paths of [`requant_q16`] for the integer networks' hot loops, bit for bit the same.

use crate::fixed::requant_q16;

/// [`requant_q16`], bit for bit, with a shortcut for the usual scales.
///
/// `requant_q16` computes `floor((acc · m + 2^(s-1)) / 2^s)` (`m` the 24-bit mantissa,
/// `s = 149 - exp`) and clamps it. For a biased exponent in 94..=124 (scales in
/// [2^-33, 2^-2): every row of a trained model so far) `s` is in 25..=55, the result is
/// below 2^30 (no clamping), and it equals `(floor(acc · m · 2^8 / 2^(s+7)) + 1) >> 1`:
/// the high word of `acc · (m << 8)` (one `SMMLA` on the Cortex-M4, with `m << 8` taken as
/// signed and corrected by adding `acc`), shifted right by `u = s - 25`, plus one, halved.
/// Other scales (zero, large, tiny) go to `requant_q16`.
#[inline(always)]
pub(crate) fn requant(acc: i32, scale_bits: u32) -> i32 {
    // u = 124 - exp: in 0..=30 for the shortcut's exponents (a sign bit makes `exp` 256 or
    // more, so `u` wraps far out of range and `requant_q16` decides).
    let u = 124u32.wrapping_sub(scale_bits >> 23);
    if u <= 30 {
        // m << 8 with the implicit bit at bit 31; as i32 it is m·2^8 - 2^32.
        let m8 = (scale_bits << 8 | 1 << 31) as i32;
        let hi = (((acc as i64 * m8 as i64) >> 32) as i32).wrapping_add(acc);
        ((hi >> u) + 1) >> 1
    } else {
        requant_slow(acc, scale_bits)
    }
}

/// [`requant_q16`], out of line: the rare scales outside [`requant`]'s shortcut.
#[cold]
#[inline(never)]
fn requant_slow(acc: i32, scale_bits: u32) -> i32 {
    requant_q16(acc, scale_bits)
}

/// The input term of a one-hot input, `requant_q16(w << 15, scale)` for the weights `w`
/// of the token's row of a lookup table, with the row's scale taken apart once.
///
/// For a shift `s = 149 - exp` in 16..=39 (scales in [2^-17, 2^7)) the factor 2^15 cancels:
/// `floor((w · 2^15 · m + 2^(s-1)) / 2^s) = (w · m + 2^(s-16)) >> (s - 15)`, exactly, in
/// 32 bits (`w · m` is in `-2^31 + 128 ..= 2^31 - 2^24`, the rounding term at most 2^23).
/// Other scales go to `requant_q16`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InputTerm {
    scale_bits: u32,
    /// The 24-bit mantissa, `2^(s-16)` and `s - 15`; `shift == 0`: use `requant_q16`.
    mantissa: i32,
    round: i32,
    shift: u32,
}

impl InputTerm {
    /// The term of a row whose scale has these IEEE-754 bits.
    pub(crate) fn new(scale_bits: u32) -> Self {
        let exp = (scale_bits >> 23) & 0xff;
        let s = 149u32.wrapping_sub(exp);
        let fast = exp != 0 && s.wrapping_sub(16) <= 39 - 16;
        InputTerm {
            scale_bits,
            mantissa: ((scale_bits & 0x7f_ffff) | 0x80_0000) as i32,
            round: if fast { 1 << (s - 16) } else { 0 },
            shift: if fast { s - 15 } else { 0 },
        }
    }

    /// `out[i] = requant_q16((w[i] as i8 as i32) << 15, scale)` for each `i` (the
    /// shortcut tested once).
    pub(crate) fn apply_all(&self, w: &[u8], out: &mut [i32]) {
        let all = out.iter_mut().zip(w);
        if self.shift != 0 {
            all.for_each(|(o, &w)| {
                *o = (w as i8 as i32 * self.mantissa + self.round) >> self.shift
            });
        } else {
            all.for_each(|(o, &w)| *o = self.slow(w));
        }
    }

    #[inline(never)]
    fn slow(&self, w: u8) -> i32 {
        requant_q16((w as i8 as i32) << 15, self.scale_bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Scale exponents (biased) around and beyond the shortcuts' ranges.
    fn exponents() -> impl Iterator<Item = u32> {
        (0..=255).chain([256, 300, 383, 384, 511])
    }

    #[test]
    fn requant_matches_requant_q16() {
        let mut rng = Rng::new(11);
        let accs = [
            0,
            1,
            -1,
            2,
            -2,
            3,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
            1 << 30,
        ];
        for exp in exponents() {
            for i in 0..400 {
                let mantissa = match i {
                    0 => 0,
                    1 => 0x7f_ffff,
                    _ => rng.next_u32() & 0x7f_ffff,
                };
                let bits = exp << 23 | mantissa;
                for j in 0..40 {
                    let acc = match accs.get(j) {
                        Some(&a) => a,
                        None => rng.next_u32() as i32 >> (rng.next_u32() % 32),
                    };
                    let want = requant_q16(acc, bits);
                    assert_eq!(requant(acc, bits), want, "acc={acc} bits={bits:#x}");
                }
            }
        }
    }

    #[test]
    fn input_term_matches_requant_q16() {
        let mut rng = Rng::new(12);
        for exp in exponents() {
            for i in 0..40 {
                let mantissa = match i {
                    0 => 0,
                    1 => 0x7f_ffff,
                    _ => rng.next_u32() & 0x7f_ffff,
                };
                let bits = exp << 23 | mantissa;
                let term = InputTerm::new(bits);
                let w: [u8; 256] = core::array::from_fn(|w| w as u8);
                let mut got = [0i32; 256];
                term.apply_all(&w, &mut got);
                for (w, got) in w.into_iter().zip(got) {
                    let want = requant_q16((w as i8 as i32) << 15, bits);
                    assert_eq!(got, want, "w={w} bits={bits:#x}");
                }
            }
        }
    }
}
