//! AVX2 + FMA matrix-multiply kernel for [`super::gemm`]: 6 × 16 register tiles.
//!
//! `C (m,n) (+)= A (m,k) @ B (k,n)` with `B` and `C` row-major (unit column stride)
//! and `A` of any strides. `C` is cut into tiles of up to [`MR`] rows by [`NR`]
//! columns; a tile keeps its 6 × 2 eight-lane accumulators in registers while `p`
//! runs over `k`: each step loads one 16-wide row of `B` and broadcasts one
//! element of `A` per tile row (12 FMAs per 8 loads). Column blocks are the outer
//! loop, so one `(k, 16)` panel of `B` (8 KiB for k = 128) stays in L1 while all
//! row tiles pass over it. No packing and no allocation: the engine's products
//! are small (32 × 128 × 128 per time step) and `B` is reused across calls.
//! A last column block narrower than 16 uses masked loads and stores.

use std::arch::x86_64::*;

use super::gemm::Gemm;

/// Rows of `C` per register tile.
const MR: usize = 6;
/// Columns of `C` per register tile (two vectors of 8 lanes).
const NR: usize = 16;

/// Runs the product described by `g`.
///
/// # Safety
/// The CPU supports AVX2 and FMA; for all `i < m`, `p < k`, `j < n` the elements
/// of A, B and C addressed as documented on [`Gemm`] lie inside live allocations,
/// and C does not overlap A or B.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn matmul(g: &Gemm) {
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let mut j0 = 0;
    while j0 < g.n {
        let nb = (g.n - j0).min(NR);
        // Lane l of the first (second) vector is live if l < nb (l + 8 < nb).
        let masks = [
            _mm256_cmpgt_epi32(_mm256_set1_epi32(nb as i32), lanes),
            _mm256_cmpgt_epi32(_mm256_set1_epi32(nb as i32 - 8), lanes),
        ];
        let mut i0 = 0;
        while i0 < g.m {
            let mb = (g.m - i0).min(MR);
            let t = Tile {
                a: g.a.wrapping_add(i0 * g.rsa),
                b: g.b.wrapping_add(j0),
                c: g.c.wrapping_add(i0 * g.ldc + j0),
            };
            if nb == NR {
                tile_rows::<false>(g, &t, mb, masks);
            } else {
                tile_rows::<true>(g, &t, mb, masks);
            }
            i0 += mb;
        }
        j0 += nb;
    }
}

/// Top-left corners of one tile in A, B and C.
struct Tile {
    a: *const f32,
    b: *const f32,
    c: *mut f32,
}

/// Dispatches a tile of `mb <= MR` rows to the kernel specialised for that height.
///
/// # Safety
/// As [`matmul`], for the tile's rows and (masked) columns.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_rows<const EDGE: bool>(g: &Gemm, t: &Tile, mb: usize, masks: [__m256i; 2]) {
    match mb {
        6 => tile::<6, EDGE>(g, t, masks),
        5 => tile::<5, EDGE>(g, t, masks),
        4 => tile::<4, EDGE>(g, t, masks),
        3 => tile::<3, EDGE>(g, t, masks),
        2 => tile::<2, EDGE>(g, t, masks),
        _ => tile::<1, EDGE>(g, t, masks),
    }
}

/// Loads 8 floats, only the lanes live in `mask` if `EDGE` (others read as 0, never touched).
///
/// # Safety
/// AVX2 available; the (live) lanes at `p` are readable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load<const EDGE: bool>(p: *const f32, mask: __m256i) -> __m256 {
    if EDGE {
        _mm256_maskload_ps(p, mask)
    } else {
        _mm256_loadu_ps(p)
    }
}

/// Stores 8 floats, only the lanes live in `mask` if `EDGE`.
///
/// # Safety
/// AVX2 available; the (live) lanes at `p` are writable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store<const EDGE: bool>(p: *mut f32, mask: __m256i, v: __m256) {
    if EDGE {
        _mm256_maskstore_ps(p, mask, v)
    } else {
        _mm256_storeu_ps(p, v)
    }
}

/// One `R × 16` tile: `C[R, 16] (+)= A[R, k] @ B[k, 16]` with accumulators in registers.
///
/// # Safety
/// As [`matmul`], for this tile's `R` rows and (masked) 16 columns.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile<const R: usize, const EDGE: bool>(g: &Gemm, t: &Tile, masks: [__m256i; 2]) {
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for p in 0..g.k {
        // B (k,16) row p.
        let bp = t.b.wrapping_add(p * g.ldb);
        let b0 = load::<EDGE>(bp, masks[0]);
        let b1 = load::<EDGE>(bp.wrapping_add(8), masks[1]);
        // A (R,k) column p, one broadcast per row.
        let ap = t.a.wrapping_add(p * g.csa);
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = _mm256_broadcast_ss(&*ap.wrapping_add(r * g.rsa));
            acc_r[0] = _mm256_fmadd_ps(av, b0, acc_r[0]);
            acc_r[1] = _mm256_fmadd_ps(av, b1, acc_r[1]);
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        // C (R,16) row r.
        let cp = t.c.wrapping_add(r * g.ldc);
        for (half, &v) in acc_r.iter().enumerate() {
            let p = cp.wrapping_add(8 * half);
            let v = if g.add {
                _mm256_add_ps(load::<EDGE>(p, masks[half]), v)
            } else {
                v
            };
            store::<EDGE>(p, masks[half], v);
        }
    }
}
