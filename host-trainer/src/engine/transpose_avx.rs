//! AVX 8 × 8 block transpose for [`super::gemm::transpose`].
//!
//! The scalar transpose stores one float at a time into eight streams; this one
//! moves 8 × 8 blocks through registers (eight loads, 24 shuffles, eight stores),
//! several times faster on the engine's weight matrices (512 × 128 per layer),
//! which are transposed once per batch.

use std::arch::x86_64::*;
use std::ops::Range;

/// Transposes the whole 8 × 8 blocks of columns `band` of the row-major
/// `(rows, cols)` matrix `src` into `dst`, which holds rows `band` of the
/// `(cols, rows)` transpose (as [`super::gemm::transpose_band`]): every `(i, j)`
/// with `i < rows - rows % 8` and `j` in `band`, whose length is a multiple of 8.
/// The caller handles the rest.
///
/// Panics unless the slices and the band have those sizes.
pub(super) fn transpose_blocks(
    src: &[f32],
    rows: usize,
    cols: usize,
    band: Range<usize>,
    dst: &mut [f32],
) {
    assert!(band.start <= band.end && band.end <= cols && band.len() % 8 == 0);
    assert!(src.len() == rows * cols && dst.len() >= band.len() * rows);
    assert!(std::is_x86_feature_detected!("avx"), "AVX needed");
    // Safety: AVX was detected just above; `src` holds rows * cols floats and
    // `dst` band.len() * rows, and `blocks` only addresses whole blocks inside
    // that (see its contract).
    unsafe { blocks(src.as_ptr(), rows, cols, band, dst.as_mut_ptr()) }
}

/// # Safety
/// The CPU supports AVX; `src` points to `rows * cols` floats, `dst` to
/// `band.len() * rows` floats, not overlapping; `band` lies in `0..cols` and its
/// length is a multiple of 8.
#[target_feature(enable = "avx")]
unsafe fn blocks(src: *const f32, rows: usize, cols: usize, band: Range<usize>, dst: *mut f32) {
    // Down each band of 8 destination rows in turn: a destination cache line is
    // complete after two blocks, while still in L1 (going across instead leaves
    // lines half written for a whole pass, and the power-of-two row stride maps
    // them to a few cache sets, which evicts them in between): twice as fast.
    for j0 in band.clone().step_by(8) {
        for i0 in (0..rows - rows % 8).step_by(8) {
            let s = src.add(i0 * cols + j0);
            let r: [__m256; 8] = std::array::from_fn(|k| _mm256_loadu_ps(s.add(k * cols)));
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let o = [
                _mm256_permute2f128_ps::<0x20>(u0, u4),
                _mm256_permute2f128_ps::<0x20>(u1, u5),
                _mm256_permute2f128_ps::<0x20>(u2, u6),
                _mm256_permute2f128_ps::<0x20>(u3, u7),
                _mm256_permute2f128_ps::<0x31>(u0, u4),
                _mm256_permute2f128_ps::<0x31>(u1, u5),
                _mm256_permute2f128_ps::<0x31>(u2, u6),
                _mm256_permute2f128_ps::<0x31>(u3, u7),
            ];
            let d = dst.add((j0 - band.start) * rows + i0);
            for (k, v) in o.into_iter().enumerate() {
                _mm256_storeu_ps(d.add(k * rows), v);
            }
        }
    }
}
