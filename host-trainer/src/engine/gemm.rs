//! Single-precision matrix products: the only place the engine multiplies matrices.
//!
//! [`Backend::matmul`] computes `C (m,n) = A (m,k) @ B (k,n)` or `C += A @ B` on
//! views whose extents were checked against their slices when the views were
//! made, so the `unsafe` calls below only ever see in-bounds strides.
//!
//! Implementations, the fastest the CPU supports (detected at run time):
//! - x86-64 with AVX-512F: the 6 × 64 register-tiled kernel of [`super::gemm_avx512`]
//!   (the AVX2 one for the edges);
//! - x86-64 with AVX2 + FMA: the 6 × 16 register-tiled kernel of [`super::gemm_avx2`];
//! - everywhere else (and for any `B` with a column stride), `matrixmultiply::sgemm`.
//!
//! The x86 kernels do no packing and no allocation and read `B` in place (it needs
//! unit column stride, so callers hand it row-major or pre-transposed copies);
//! they win on the engine's small products (32 × 128 × 128 per time step).
//!
//! Both are single-threaded and deterministic: the same inputs give the same bits.

use std::ops::Range;

/// How a product is stored into `C`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Update {
    /// `C = A @ B`.
    Write,
    /// `C += A @ B`.
    Add,
}

/// A read-only strided matrix view: element `(i, j)` is `data[i * rs + j * cs]`.
///
/// Invariant (checked by the constructors): every element lies inside `data`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> Mat<'a> {
    /// Row-major `(rows, cols)` view of the start of `data`.
    pub(crate) fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// A view with explicit row and column strides; panics if it reaches past `data`.
    pub(crate) fn strided(data: &'a [f32], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        assert!(
            fits(data.len(), rows, cols, rs, cs),
            "matrix view ({rows}, {cols}) strides ({rs}, {cs}) exceeds {} elements",
            data.len()
        );
        Mat {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transpose (no copy: the strides swap).
    pub(crate) fn t(self) -> Self {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

/// A mutable, contiguous row-major `(rows, cols)` matrix.
///
/// Invariant (checked by the constructor): `rows * cols <= data.len()`.
#[derive(Debug)]
pub(crate) struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
}

impl<'a> MatMut<'a> {
    /// Row-major `(rows, cols)` view of the start of `data`; panics if `data` is too short.
    pub(crate) fn rows(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        assert!(
            rows.checked_mul(cols).is_some_and(|n| n <= data.len()),
            "output matrix ({rows}, {cols}) exceeds {} elements",
            data.len()
        );
        MatMut { data, rows, cols }
    }
}

/// Whether the last element of a `(rows, cols)` view with strides `(rs, cs)` is below `len`.
fn fits(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .zip((cols - 1).checked_mul(cs))
        .and_then(|(a, b)| a.checked_add(b));
    last.is_some_and(|last| last < len)
}

/// One product `C (m,n) (+)= A (m,k) @ B (k,n)` as raw parts, for the x86 kernels.
///
/// Element `(i, p)` of A is `a[i * rsa + p * csa]`, `(p, j)` of B is `b[p * ldb + j]`,
/// `(i, j)` of C is `c[i * ldc + j]`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gemm {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const f32,
    pub rsa: usize,
    pub csa: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub c: *mut f32,
    pub ldc: usize,
    /// `C += A @ B` instead of `C = A @ B`.
    pub add: bool,
}

/// Which matrix-multiply implementation this process can use.
///
/// Invariant: `avx2_fma` is true only if the CPU was detected to support AVX2 and
/// FMA, `avx512` only if additionally AVX-512F.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backend {
    avx2_fma: bool,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    avx512: bool,
}

impl Backend {
    /// The fastest implementation this CPU supports.
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2_fma =
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            let avx512 = avx2_fma && std::is_x86_feature_detected!("avx512f");
            Backend { avx2_fma, avx512 }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Backend {
            avx2_fma: false,
            avx512: false,
        }
    }

    /// Every implementation this CPU supports, the portable one first; for tests.
    #[cfg(test)]
    pub(crate) fn all() -> Vec<Self> {
        let best = Self::detect();
        let mut all = vec![Backend {
            avx2_fma: false,
            avx512: false,
        }];
        if best.avx2_fma {
            all.push(Backend {
                avx2_fma: true,
                avx512: false,
            });
        }
        if best.avx512 {
            all.push(best);
        }
        all
    }

    /// Whether AVX2 + FMA kernels are in use.
    pub(crate) fn has_avx2_fma(self) -> bool {
        self.avx2_fma
    }

    /// `C (m,n) = A (m,k) @ B (k,n)` or `C += A @ B`, single-threaded and deterministic.
    ///
    /// Panics if the shapes disagree.
    pub(crate) fn matmul(self, a: Mat<'_>, b: Mat<'_>, c: MatMut<'_>, update: Update) {
        assert_eq!(a.cols, b.rows, "inner dimensions of A @ B");
        assert_eq!((c.rows, c.cols), (a.rows, b.cols), "shape of C");
        let (m, k, n) = (a.rows, a.cols, b.cols);
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            if update == Update::Write {
                c.data[..m * n].fill(0.0);
            }
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.avx2_fma && b.cs == 1 {
            let g = Gemm {
                m,
                n,
                k,
                a: a.data.as_ptr(),
                rsa: a.rs,
                csa: a.cs,
                b: b.data.as_ptr(),
                ldb: b.rs,
                c: c.data.as_mut_ptr(),
                ldc: n,
                add: update == Update::Add,
            };
            // Safety: `avx2_fma` (`avx512`) is only true when the CPU has AVX2 and FMA
            // (and AVX-512F), see `detect`; `Mat`/`MatMut` guarantee every element
            // (i < m, p < k, j < n) of A, B (unit column stride checked above) and C is
            // inside its slice, and C is borrowed mutably, so it does not alias A or B.
            unsafe {
                if self.avx512 {
                    super::gemm_avx512::matmul(&g);
                } else {
                    super::gemm_avx2::matmul(&g);
                }
            }
            return;
        }
        let beta = match update {
            Update::Write => 0.0,
            Update::Add => 1.0,
        };
        // Safety: the views' invariants put every addressed element of A, B and C
        // inside its slice (strides fit in isize because they index a slice); C is a
        // unique borrow with distinct elements (row stride n >= 1, column stride 1);
        // with beta = 0, sgemm overwrites C without reading it.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.data.as_ptr(),
                a.rs as isize,
                a.cs as isize,
                b.data.as_ptr(),
                b.rs as isize,
                b.cs as isize,
                beta,
                c.data.as_mut_ptr(),
                n as isize,
                1,
            )
        };
    }
}

/// Writes rows `band` of the `(cols, rows)` transpose of the row-major
/// `(rows, cols)` matrix `src` into `dst`: `dst[(j - band.start) * rows + i] =
/// src[i * cols + j]` for `j` in `band`, so bands of one matrix can be made in
/// parallel.
///
/// Panics unless `src` holds `rows * cols` floats, `band` lies in `0..cols` and
/// `dst` holds `band.len() * rows` floats.
pub(crate) fn transpose_band(
    src: &[f32],
    rows: usize,
    cols: usize,
    band: Range<usize>,
    dst: &mut [f32],
) {
    assert_eq!(src.len(), rows * cols, "transpose source");
    assert!(band.start <= band.end && band.end <= cols, "transpose band");
    assert_eq!(dst.len(), band.len() * rows, "transpose destination");
    if rows == 0 || band.is_empty() {
        return;
    }
    let mut from = [band.start; 2];
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        // Whole 8 × 8 blocks in registers, then the edges one float at a time.
        let whole = band.start..band.start + band.len() / 8 * 8;
        super::transpose_avx::transpose_blocks(src, rows, cols, whole.clone(), dst);
        from[0] = whole.end;
    }
    // Rows of whole blocks start after them; the last `rows % 8` rows at the band.
    let r8 = if from[0] == band.start {
        0
    } else {
        rows - rows % 8
    };
    for (i, row) in src.chunks_exact(cols).enumerate() {
        for j in from[usize::from(i >= r8)]..band.end {
            dst[(j - band.start) * rows + i] = row[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive f64 product of strided views, the reference.
    fn naive(a: &Mat<'_>, b: &Mat<'_>) -> Vec<f64> {
        let mut c = vec![0.0f64; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                let mut s = 0.0f64;
                for p in 0..a.cols {
                    s += a.data[i * a.rs + p * a.cs] as f64 * b.data[p * b.rs + j * b.cs] as f64;
                }
                c[i * b.cols + j] = s;
            }
        }
        c
    }

    /// The whole transpose, made of bands of `width` columns.
    fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32], width: usize) {
        for (k, band) in dst.chunks_mut(width * rows).enumerate() {
            let j = k * width;
            transpose_band(src, rows, cols, j..(j + width).min(cols), band);
        }
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn matmul_matches_naive_for_all_edge_shapes() {
        for backend in Backend::all() {
            for &(m, k, n) in &[
                (1, 1, 1),
                (5, 7, 3),
                (6, 16, 16),
                (13, 9, 33),
                (7, 128, 30),
                (32, 20, 17),
                (3, 0, 4),
                (6, 1, 64),
                (12, 300, 128),
                (17, 130, 200),
                (5, 40, 64),
            ] {
                for a_transposed in [false, true] {
                    let a_data = values(m * k + 3, 7);
                    let a = if a_transposed {
                        Mat::rows(&a_data, k, m).t()
                    } else {
                        Mat::rows(&a_data, m, k)
                    };
                    // B with a row stride wider than its width, as a sub-block.
                    let b_data = values(k * (n + 2) + 1, 11);
                    let b = Mat::strided(&b_data, k, n, n + 2, 1);
                    let want = naive(&a, &b);
                    for update in [Update::Write, Update::Add] {
                        let mut c = vec![0.5f32; m * n + 2];
                        backend.matmul(a, b, MatMut::rows(&mut c, m, n), update);
                        let base = if update == Update::Add { 0.5 } else { 0.0 };
                        for (idx, w) in want.iter().enumerate() {
                            let got = c[idx] as f64 - base;
                            assert!(
                                (got - w).abs() < 1e-4 * (1.0 + w.abs()),
                                "{backend:?} {m}x{k}x{n} at {idx}: {got} vs {w}"
                            );
                        }
                        assert_eq!(&c[m * n..], &[0.5, 0.5], "wrote past C");
                    }
                }
            }
        }
    }

    #[test]
    fn transpose_matches_the_definition() {
        for (rows, cols) in [
            (512, 128),
            (29, 128),
            (16, 9),
            (7, 5),
            (1, 8),
            (8, 1),
            (28, 30),
        ] {
            // Whole, in bands of whole blocks, in bands cutting blocks.
            for width in [cols, 16, 8, 3] {
                let src = values(rows * cols, 5);
                let mut t = vec![0.0; src.len()];
                transpose(&src, rows, cols, &mut t, width);
                for i in 0..rows {
                    for j in 0..cols {
                        assert_eq!(
                            t[j * rows + i],
                            src[i * cols + j],
                            "{rows}x{cols} band {width} ({i}, {j})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn transpose_round_trips() {
        let src = values(37 * 21, 3);
        let mut t = vec![0.0; src.len()];
        let mut back = vec![0.0; src.len()];
        transpose(&src, 37, 21, &mut t, 21);
        assert_eq!(t[5 * 37 + 2], src[2 * 21 + 5]);
        transpose(&t, 21, 37, &mut back, 16);
        assert_eq!(back, src);
    }

    #[test]
    #[should_panic(expected = "exceeds")]
    fn views_past_the_slice_are_rejected() {
        let data = [0.0f32; 11];
        let _ = Mat::rows(&data, 3, 4);
    }
}
