//! The inner loops: dot products of one weight row with an activation vector.

/// `w (n,) int8 · x (n,) Q15 -> i32`: sum of products, exact (no overflow for n ≤ 511).
///
/// Uses the x86-64 AVX2 kernel when the build enables AVX2 (the host tools are built
/// with `target-cpu=native`), else the portable loop; both give the same integer.
#[inline]
pub fn dot_q8_q15(w: &[u8], x: &[i16]) -> i32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    return dot_q8_q15_avx2(w, x);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
    return dot_q8_q15_portable(w, x);
}

/// The portable [`dot_q8_q15`]: one multiply-accumulate per element.
#[inline]
pub fn dot_q8_q15_portable(w: &[u8], x: &[i16]) -> i32 {
    debug_assert_eq!(w.len(), x.len());
    let mut acc = 0i32;
    for (&wi, &xi) in w.iter().zip(x) {
        acc += (wi as i8 as i32) * (xi as i32);
    }
    acc
}

/// [`dot_q8_q15`] with AVX2: 16 int8 weights widened to int16, then `vpmaddwd`
/// (pairwise 16×16→32-bit multiply-add) into eight 32-bit lanes. Measured: host
/// sampling about 1.5× faster than the portable loop. Exact, like the portable loop.
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
#[inline]
fn dot_q8_q15_avx2(w: &[u8], x: &[i16]) -> i32 {
    use core::arch::x86_64::*;
    debug_assert_eq!(w.len(), x.len());
    let (w_chunks, x_chunks) = (w.chunks_exact(16), x.chunks_exact(16));
    let (w_rest, x_rest) = (w_chunks.remainder(), x_chunks.remainder());
    // Safety: AVX2 is enabled for this build (the cfg above), and each load reads exactly
    // one 16-element chunk (16 bytes of `w`, 32 bytes of `x`) of a live slice.
    let mut acc = unsafe {
        let mut sum = _mm256_setzero_si256();
        for (wc, xc) in w_chunks.zip(x_chunks) {
            let w16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(wc.as_ptr().cast()));
            let x16 = _mm256_loadu_si256(xc.as_ptr().cast());
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(w16, x16));
        }
        let s = _mm_add_epi32(
            _mm256_castsi256_si128(sum),
            _mm256_extracti128_si256::<1>(sum),
        );
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    };
    for (&wi, &xi) in w_rest.iter().zip(x_rest) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn every_kernel_gives_the_exact_sum() {
        let mut rng = Rng::new(4);
        for n in [0, 1, 15, 16, 17, 128, 131, 511] {
            let mut w = [0u8; 511];
            let mut x = [0i16; 511];
            for i in 0..n {
                w[i] = rng.next_u32() as u8;
                x[i] = rng.next_u32() as i16;
            }
            // Extremes too: the largest products.
            if n > 2 {
                (w[0], x[0], w[1], x[1]) = (0x80, i16::MIN, 0x80, i16::MIN);
            }
            let exact: i64 = (0..n).map(|i| (w[i] as i8 as i64) * (x[i] as i64)).sum();
            assert_eq!(dot_q8_q15_portable(&w[..n], &x[..n]) as i64, exact, "n={n}");
            assert_eq!(dot_q8_q15(&w[..n], &x[..n]) as i64, exact, "n={n}");
        }
    }
}
