//! The inner loops: dot products of int8 weight rows with Q15 activation vectors.
//!
//! Activations come in one of two layouts:
//!
//! - **natural**: `&[i16]`, element `i` at index `i` ([`dot_q8_q15`]);
//! - **packed**: `&[i32]` words of two Q15 lanes, low half first ([`pack_q15`],
//!   [`dot_q8_packed`], [`matvec_q8_packed`]). Each whole group of four elements
//!   `x[4g..4g + 4]` takes two words, `(x[4g], x[4g+2])` then `(x[4g+1], x[4g+3])`; the last
//!   `n % 4` elements follow in natural order, two per word, the last word zero-padded:
//!   [`packed_len`] words in all.
//!
//! The packed order is the one the Cortex-M4's DSP instructions want: `SXTB16` of a weight
//! word `(w0, w1, w2, w3)` gives the 16-bit lanes `(w0, w2)`, `SXTB16 … ROR #8` gives
//! `(w1, w3)`, and `SMLAD` multiplies each with one packed word and adds both products:
//! four multiply-accumulates in five instructions, the weights read straight from the model
//! file (any alignment) with no shuffling at run time.
//!
//! Every kernel returns the exact integer sum (no overflow for up to 511 columns: each
//! product is at most 2^22 in magnitude), so all of them, on every target, agree bit for bit
//! with [`dot_q8_q15_portable`]. Which one runs is fixed at compile time:
//!
//! | build | packed kernels |
//! |---|---|
//! | x86-64 with AVX2 (the host tools: `target-cpu=native`) | AVX2, 16 columns per step |
//! | Cortex-M4F/M7F (`thumbv7em-none-eabihf`) | `SXTB16` + `SMLAD` in inline assembly, two rows at a time (`kernels/dsp.rs`) |
//! | anything else (Cortex-M0, …) | portable Rust |
//!
//! Measured under QEMU (`-icount shift=0`), hidden 128, per generated character: the
//! Cortex-M4F kernel takes 1.34 instructions per multiply-accumulate (was 5), the
//! Cortex-M0's portable one 6.75 (was 11).

/// Items for the cores with the Armv7E-M DSP instructions (`SXTB16`, `SMLAD`).
///
/// On stable Rust the `dsp` target feature is not visible to `cfg` (Arm target features are
/// unstable), so the little-endian, bare-metal, hard-float M-profile targets stand in for
/// it: `thumbv7em-none-eabihf` (Cortex-M4F, M7F). (M-profile: no 64-bit atomics, unlike
/// the A and R profiles, whose Arm-mode frame pointer `r11` the assembly would need.)
/// `thumbv8m.main-none-eabihf` (Cortex-M33/M55, where the DSP extension is optional)
/// matches too: it builds with `-C target-feature=+dsp` and fails to assemble without it,
/// never silently. The soft-float `thumbv7em-none-eabi` gets the portable kernels.
macro_rules! if_dsp {
    ($($item:item)*) => {$(
        #[cfg(all(
            target_arch = "arm",
            target_endian = "little",
            not(target_has_atomic = "64"),
            any(target_feature = "dsp", all(target_os = "none", target_abi = "eabihf"))
        ))]
        $item
    )*};
}

/// The complement of [`if_dsp`].
macro_rules! if_not_dsp {
    ($($item:item)*) => {$(
        #[cfg(not(all(
            target_arch = "arm",
            target_endian = "little",
            not(target_has_atomic = "64"),
            any(target_feature = "dsp", all(target_os = "none", target_abi = "eabihf"))
        )))]
        $item
    )*};
}

pub(crate) use {if_dsp, if_not_dsp};

if_dsp! {
    mod dsp;
}

// ---- natural layout ----

/// `w (n,) int8 · x (n,) Q15 -> i32`: sum of products, exact (no overflow for n ≤ 511).
///
/// Uses the x86-64 AVX2 kernel when the build enables AVX2 (the host tools are built
/// with `target-cpu=native`), else the portable loop; both give the same integer. The
/// network works on packed vectors: this is the tests' reference.
#[cfg(test)]
pub fn dot_q8_q15(w: &[u8], x: &[i16]) -> i32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    return dot_q8_q15_avx2(w, x);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
    return dot_q8_q15_portable(w, x);
}

/// The portable [`dot_q8_q15`]: one multiply-accumulate per element.
#[cfg(test)]
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
#[cfg(all(test, target_arch = "x86_64", target_feature = "avx2"))]
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
        hsum_avx2(sum)
    };
    for (&wi, &xi) in w_rest.iter().zip(x_rest) {
        acc += (wi as i8 as i32) * (xi as i32);
    }
    acc
}

/// The sum of the eight 32-bit lanes of `v`.
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
#[inline]
fn hsum_avx2(v: core::arch::x86_64::__m256i) -> i32 {
    use core::arch::x86_64::*;
    // Safety: AVX2 (hence SSE2) is enabled for this build; register operations only.
    unsafe {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }
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

// ---- packed layout ----

/// Words of the packed layout of `n` activations: `ceil(n / 2)`.
pub const fn packed_len(n: usize) -> usize {
    n.div_ceil(2)
}

/// Writes `x` (natural order) into `out` in the packed layout (see the module docs), one
/// word at a time. The network packs its states with [`pack_lanes`]; this is the tests'.
///
/// Panics if `out` is shorter than [`packed_len`]`(x.len())`.
#[cfg(test)]
pub fn pack_q15(x: &[i16], out: &mut [i32]) {
    let split = x.len() & !3;
    for (j, o) in out[..packed_len(x.len())].iter_mut().enumerate() {
        // Word j holds the elements lo and hi (hi past the end in a short tail: 0).
        let lo = if 2 * j < split {
            j / 2 * 4 + j % 2
        } else {
            2 * j
        };
        let hi = if 2 * j < split { lo + 2 } else { lo + 1 };
        let hi = x.get(hi).copied().unwrap_or(0);
        *o = (x[lo] as u16 as u32 | (hi as u16 as u32) << 16) as i32;
    }
}

/// Where element `i` of `n` sits in the packed layout, counting lanes (word 0's low lane,
/// its high lane, word 1's low lane, …): its position in **lane order**. A whole group of
/// four, `x0 x1 x2 x3`, comes as `x0 x2 x1 x3` (positions 1 and 2 swap); the tail keeps
/// its natural order. Swapping twice is the identity: `lane_of(lane_of(i, n), n) == i`.
///
/// Values in lane order pack two per word, in order ([`pack_lanes`]), and a packed vector
/// unpacks into lane order the same way ([`unpack_lanes`]): the integer cells keep their
/// per-unit scratch in lane order, so the state is read and written with no shuffling.
/// A chunk of units that starts at a multiple of 4 and is a multiple of 4 long (or ends
/// the vector) has the same lane order as its part of the whole vector.
#[inline]
pub fn lane_of(i: usize, n: usize) -> usize {
    if i < n & !3 {
        i & !3 | (i & 1) << 1 | (i >> 1 & 1)
    } else {
        i
    }
}

/// Packs the Q15 values `f(v[i])`, `v` in lane order (see [`lane_of`]): word `j` holds
/// `f(v[2j])` in its low lane and `f(v[2j + 1])` in its high lane (0 after an odd last
/// value). Only the low 16 bits of each `f(…)` are kept. Writes [`packed_len`]`(v.len())`
/// words.
///
/// Panics if `out` is shorter than that.
#[inline(always)]
pub fn pack_lanes(out: &mut [i32], v: &[i32], f: impl Fn(i32) -> i32) {
    let pairs = v.chunks_exact(2);
    let last = pairs.remainder();
    let (words, tail) = out[..packed_len(v.len())].split_at_mut(v.len() / 2);
    for (o, p) in words.iter_mut().zip(pairs) {
        *o = (f(p[0]) & 0xffff) | f(p[1]) << 16;
    }
    if let ([o], [x]) = (tail, last) {
        *o = f(*x) & 0xffff;
    }
}

/// The `out.len()` Q15 values of the packed `xp`, widened, in lane order (see
/// [`lane_of`]): the inverse of [`pack_lanes`].
///
/// Panics if `xp` is shorter than [`packed_len`]`(out.len())`.
#[inline(always)]
pub fn unpack_lanes(xp: &[i32], out: &mut [i32]) {
    let (pairs, last) = out.split_at_mut(out.len() & !1);
    let (words, tail) = xp[..packed_len(pairs.len() + last.len())].split_at(pairs.len() / 2);
    for (p, &w) in pairs.chunks_exact_mut(2).zip(words) {
        (p[0], p[1]) = lanes(w);
    }
    if let ([o], [w]) = (last, tail) {
        *o = lanes(*w).0;
    }
}

/// Element `i` of the packed `xp` of `n` elements (the inverse of [`pack_q15`]); 0 if
/// `xp` has no word for it.
#[inline]
pub fn packed_get(xp: &[i32], n: usize, i: usize) -> i16 {
    let (word, high) = if i < n & !3 {
        // Group i / 4: elements 0 and 2 in its first word, 1 and 3 in its second.
        (i / 4 * 2 + i % 2, i % 4 >= 2)
    } else {
        // The tail: natural order, two per word.
        (i / 2, i % 2 == 1)
    };
    let w = xp.get(word).copied().unwrap_or(0);
    (if high { w >> 16 } else { w }) as i16
}

/// The low and high Q15 lanes of a packed word, widened.
#[inline(always)]
fn lanes(word: i32) -> (i32, i32) {
    (word as i16 as i32, word >> 16)
}

/// `w (n,) int8 · x (n,) Q15 -> i32` with `x` packed (see the module docs): the exact sum,
/// the same integer as [`dot_q8_q15`] on the natural `x`.
///
/// Panics if `xp` is shorter than [`packed_len`]`(w.len())`. The network multiplies
/// whole matrices ([`matvec_q8_packed`]); this is the tests' single row.
#[cfg(test)]
pub fn dot_q8_packed(w: &[u8], xp: &[i32]) -> i32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    return dot_q8_packed_avx2(w, xp);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
    return dot_q8_packed_portable(w, xp);
}

/// Matrix times packed vector: `out[r] = w[r] · x` for the first `out.len()` rows of the
/// row-major `w` (`cols` bytes per row), each exact like [`dot_q8_packed`].
///
/// Panics if `w` has fewer than `cols * out.len()` bytes or `xp` is shorter than
/// [`packed_len`]`(cols)`.
pub fn matvec_q8_packed(w: &[u8], cols: usize, xp: &[i32], out: &mut [i32]) {
    matvec_impl(w, cols, xp, out)
}

if_dsp! {
    use dsp::matvec_q8_packed as matvec_impl;
}

if_not_dsp! {
    use self::matvec_q8_packed_portable as matvec_impl;
}

if_not_dsp! {
    /// The portable [`matvec_q8_packed`]: one row at a time (on x86-64 with AVX2, through the
    /// AVX2 kernel).
    pub fn matvec_q8_packed_portable(w: &[u8], cols: usize, xp: &[i32], out: &mut [i32]) {
        #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
        let dot = dot_q8_packed_avx2;
        #[cfg(not(all(target_arch = "x86_64", target_feature = "avx2")))]
        let dot = dot_q8_packed_portable;
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot(&w[r * cols..(r + 1) * cols], xp);
        }
    }

    /// The portable [`dot_q8_packed`]: the whole groups of four columns, then the tail.
    #[inline(never)]
    pub fn dot_q8_packed_portable(w: &[u8], xp: &[i32]) -> i32 {
        let split = w.len() & !3;
        dot_groups(&w[..split], &xp[..split / 2]) + dot_tail(&w[split..], &xp[split / 2..])
    }
}

/// The last `w.len() < 4` columns of a packed dot product, in natural order in `x`.
#[inline(always)]
fn dot_tail(w: &[u8], x: &[i32]) -> i32 {
    let mut acc = 0;
    for (i, &wi) in w.iter().enumerate() {
        // Element i is the low lane of word i / 2 if i is even, else its high lane.
        let lane = (x[i / 2] << (16 - 16 * (i % 2))) >> 16;
        acc += wi as i8 as i32 * lane;
    }
    acc
}

if_not_dsp! {
    /// The whole groups of [`dot_q8_packed_portable`]: `xp` has two words per four bytes of
    /// `w`. Out of line, so that the Cortex-M0 runs it in its seven low registers without
    /// spilling: 27 instructions per group.
    #[inline(never)]
    fn dot_groups(w: &[u8], xp: &[i32]) -> i32 {
        let groups = (w.len() / 4).min(xp.len() / 2);
        let (w, xp) = (&w[..4 * groups], &xp[..2 * groups]);
        let mut acc = 0i32;
        let mut g = 0;
        while g < groups {
            let w4: &[u8; 4] = w[4 * g..4 * g + 4].try_into().unwrap_or(&[0; 4]);
            let x2: &[i32; 2] = xp[2 * g..2 * g + 2].try_into().unwrap_or(&[0; 2]);
            let ((x0, x2), (x1, x3)) = (lanes(x2[0]), lanes(x2[1]));
            acc += w4[0] as i8 as i32 * x0
                + w4[2] as i8 as i32 * x2
                + w4[1] as i8 as i32 * x1
                + w4[3] as i8 as i32 * x3;
            g += 1;
        }
        acc
    }
}

/// [`dot_q8_packed`] with AVX2: as [`dot_q8_q15_avx2`], with the 16 weights first shuffled
/// into the packed order of the activations (`0 2 1 3 4 6 5 7 …`, one `vpshufb`).
#[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
#[inline]
fn dot_q8_packed_avx2(w: &[u8], xp: &[i32]) -> i32 {
    use core::arch::x86_64::*;
    let xp = &xp[..packed_len(w.len())];
    let (w_chunks, x_chunks) = (w.chunks_exact(16), xp.chunks_exact(8));
    let (w_rest, x_rest) = (w_chunks.remainder(), &xp[w.len() / 16 * 8..]);
    // Safety: AVX2 (hence SSSE3) is enabled for this build (the cfg above), and each load
    // reads exactly one chunk (16 bytes of `w`, 8 words of `xp`) of a live slice.
    let acc = unsafe {
        let order = _mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15);
        let mut sum = _mm256_setzero_si256();
        for (wc, xc) in w_chunks.zip(x_chunks) {
            let w8 = _mm_shuffle_epi8(_mm_loadu_si128(wc.as_ptr().cast()), order);
            let x16 = _mm256_loadu_si256(xc.as_ptr().cast());
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_cvtepi8_epi16(w8), x16));
        }
        hsum_avx2(sum)
    };
    // The rest starts on a group boundary (16 columns = 4 groups): the portable loop.
    if w_rest.is_empty() {
        acc
    } else {
        acc + dot_q8_packed_portable(w_rest, x_rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Sizes that cover empty, tails of 1–3, whole groups, blocks of 16 and 32 columns and
    /// the largest hidden size.
    const SIZES: [usize; 24] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 15, 16, 17, 31, 32, 33, 48, 64, 100, 127, 128, 131, 192, 511,
    ];

    fn random(rng: &mut Rng, w: &mut [u8], x: &mut [i16]) {
        w.iter_mut().for_each(|w| *w = rng.next_u32() as u8);
        x.iter_mut().for_each(|x| *x = rng.next_u32() as i16);
        // Extremes too: the largest products.
        if w.len() > 2 && x.len() > 2 {
            (w[0], x[0], w[1], x[1]) = (0x80, i16::MIN, 0x80, i16::MIN);
        }
    }

    fn exact(w: &[u8], x: &[i16]) -> i64 {
        w.iter()
            .zip(x)
            .map(|(&w, &x)| (w as i8 as i64) * (x as i64))
            .sum()
    }

    #[test]
    fn every_kernel_gives_the_exact_sum() {
        let mut rng = Rng::new(4);
        for n in SIZES {
            let (mut w, mut x) = ([0u8; 511], [0i16; 511]);
            random(&mut rng, &mut w[..n], &mut x[..n]);
            let (w, x) = (&w[..n], &x[..n]);
            let mut xp = [0i32; 256];
            pack_q15(x, &mut xp);
            let want = exact(w, x);
            assert_eq!(dot_q8_q15_portable(w, x) as i64, want, "n={n}");
            assert_eq!(dot_q8_q15(w, x) as i64, want, "n={n}");
            assert_eq!(dot_q8_packed_portable(w, &xp) as i64, want, "n={n}");
            assert_eq!(dot_q8_packed(w, &xp) as i64, want, "n={n}");
        }
    }

    #[test]
    fn the_largest_sums_do_not_overflow() {
        let (w, x) = ([0x80u8; 511], [i16::MIN; 511]);
        let mut xp = [0i32; 256];
        pack_q15(&x, &mut xp);
        let want = 511 * (1i64 << 22);
        assert_eq!(dot_q8_q15_portable(&w, &x) as i64, want);
        assert_eq!(dot_q8_packed_portable(&w, &xp) as i64, want);
        assert_eq!(dot_q8_packed(&w, &xp) as i64, want);
        let (w, x) = ([0x80u8; 511], [i16::MAX; 511]);
        pack_q15(&x, &mut xp);
        assert_eq!(dot_q8_packed(&w, &xp) as i64, -511 * 128 * 32767);
    }

    #[test]
    fn packing_keeps_every_element() {
        let mut rng = Rng::new(5);
        for n in SIZES {
            let x: [i16; 511] = core::array::from_fn(|_| rng.next_u32() as i16);
            let x = &x[..n];
            let mut xp = [0x5555_5555i32; 257];
            pack_q15(x, &mut xp);
            for (i, &xi) in x.iter().enumerate() {
                assert_eq!(packed_get(&xp, n, i), xi, "n={n} i={i}");
            }
            // Exactly packed_len words are written; an odd count leaves a zero lane.
            assert_eq!(xp[packed_len(n)], 0x5555_5555, "n={n}");
            if n % 2 == 1 {
                assert_eq!(xp[packed_len(n) - 1] >> 16, 0, "n={n}");
            }
        }
        // Lane order: pack_lanes of the values in lane order gives the same words.
        for n in SIZES {
            let x: [i16; 511] = core::array::from_fn(|_| rng.next_u32() as i16);
            let mut in_lanes = [0i32; 511];
            for (i, &xi) in x[..n].iter().enumerate() {
                assert_eq!(lane_of(lane_of(i, n), n), i, "n={n} i={i}");
                in_lanes[lane_of(i, n)] = xi as i32 * 3;
            }
            let (mut xp, mut xq) = ([0x5555_5555i32; 257], [0x5555_5555i32; 257]);
            pack_q15(&x[..n], &mut xp);
            pack_lanes(&mut xq, &in_lanes[..n], |v| v / 3);
            assert_eq!(xp, xq, "n={n}");
            let mut back = [0i32; 511];
            unpack_lanes(&xp, &mut back[..n]);
            assert_eq!(back.map(|v| v * 3), in_lanes, "n={n}");
        }
        // The order within a group: x0 x2 | x1 x3.
        let mut xp = [0; 3];
        pack_q15(&[1, 2, 3, 4, 5], &mut xp);
        assert_eq!(xp, [1 | 3 << 16, 2 | 4 << 16, 5]);
    }

    #[test]
    fn matrix_products_match_row_by_row() {
        let mut rng = Rng::new(6);
        let mut buf = [0u8; 5 * 200 + 4];
        for cols in SIZES.into_iter().filter(|&c| c <= 200) {
            for rows in 0..=5 {
                // Rows start at every alignment.
                for offset in 0..4 {
                    let w = &mut buf[offset..offset + rows * cols];
                    let mut x = [0i16; 200];
                    random(&mut rng, w, &mut x[..cols]);
                    let (w, x) = (&*w, &x[..cols]);
                    let mut xp = [0i32; 100];
                    pack_q15(x, &mut xp);
                    let (mut out, mut out_portable) = ([0i32; 5], [0i32; 5]);
                    matvec_q8_packed(w, cols, &xp, &mut out[..rows]);
                    matvec_q8_packed_portable(w, cols, &xp, &mut out_portable[..rows]);
                    for r in 0..rows {
                        let want = exact(&w[r * cols..(r + 1) * cols], x);
                        assert_eq!(out[r] as i64, want, "cols={cols} rows={rows} r={r}");
                        assert_eq!(out_portable[r] as i64, want, "cols={cols} rows={rows}");
                    }
                }
            }
        }
    }
}
