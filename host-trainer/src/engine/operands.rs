//! The weights as the matrix kernels read them, made once per batch and shared
//! by every shard: transposed copies for the forward pass (the kernels want `B`
//! operands with unit column stride) and cache-line-aligned copies for the
//! backward pass (see [`Aligned`]).
//!
//! Each matrix is cut into one piece per thread (row ranges of the copies, bands
//! of the transposes), made before the shards start; they are plain copies, so
//! how they are cut changes no result.

use std::ops::Range;

use micrornn::cell::FloatWeights;

use super::aligned::Aligned;
use super::gemm::transpose_band;
use super::on_threads;
use crate::train::params::Dims;

/// Floats per cache line: copy pieces start on one.
const LINE: usize = 16;

/// One layer's weights as kernel operands. `G·H` gate rows, `In` input width.
#[derive(Debug)]
pub(crate) struct LayerOperands {
    /// (H, G·H) `w_h` transposed (forward).
    pub w_h_t: Aligned,
    /// (In, G·H) `w_x` transposed (forward); empty for a one-hot layer 0, whose
    /// input terms are a lookup table rather than a product.
    pub w_x_t: Aligned,
    /// (G·H, H) copy of `w_h` (backward).
    pub w_h: Aligned,
    /// (G·H, In) copy of `w_x` (backward); empty for a one-hot layer 0.
    pub w_x: Aligned,
}

/// Every weight matrix as kernel operands, for one model size.
#[derive(Debug)]
pub(crate) struct Operands {
    dims: Dims,
    /// Per layer.
    pub layers: Vec<LayerOperands>,
    /// (H, O) `w_out` transposed (forward).
    pub w_out_t: Aligned,
    /// (O, H) copy of `w_out` (backward).
    pub w_out: Aligned,
}

/// One weight matrix to refresh: `src` copied as is, or the `(rows, cols)`
/// matrix `src` transposed.
enum Job<'a> {
    Copy(&'a [f32], &'a mut [f32]),
    Transpose(&'a [f32], usize, usize, &'a mut [f32]),
}

/// A thread's share of a [`Job`]: a range of a copy, or a band of a transpose.
enum Piece<'a> {
    Copy(&'a [f32], &'a mut [f32]),
    Transpose(&'a [f32], usize, usize, Range<usize>, &'a mut [f32]),
}

impl<'a> Job<'a> {
    /// Cuts the job into `parts` pieces of about equal size (some may be empty)
    /// and hands piece `k` to `out(k, piece)`.
    fn split(self, parts: usize, mut out: impl FnMut(usize, Piece<'a>)) {
        match self {
            Job::Copy(src, dst) => {
                let len = src.len().div_ceil(parts).next_multiple_of(LINE).max(LINE);
                for (k, (s, d)) in src.chunks(len).zip(dst.chunks_mut(len)).enumerate() {
                    out(k, Piece::Copy(s, d));
                }
            }
            Job::Transpose(src, rows, cols, dst) => {
                // Bands of whole 8-column blocks (see `transpose_band`).
                let width = cols.div_ceil(parts).next_multiple_of(8);
                for (k, d) in dst.chunks_mut(width * rows).enumerate() {
                    let band = k * width..(k * width + width).min(cols);
                    out(k, Piece::Transpose(src, rows, cols, band, d));
                }
            }
        }
    }
}

impl Piece<'_> {
    fn run(self) {
        match self {
            Piece::Copy(src, dst) => dst.copy_from_slice(src),
            Piece::Transpose(src, rows, cols, band, dst) => {
                transpose_band(src, rows, cols, band, dst)
            }
        }
    }
}

impl Operands {
    /// Buffers for a model of size `dims`.
    pub(crate) fn new(dims: Dims) -> Self {
        let (h, o) = (dims.hidden, dims.outputs);
        let gh = dims.gates() * h;
        let layers = (0..dims.layers)
            .map(|l| {
                let input = if l == 0 && dims.embed == 0 {
                    0
                } else {
                    dims.input_width(l)
                };
                LayerOperands {
                    w_h_t: Aligned::zeros(h * gh),
                    w_x_t: Aligned::zeros(input * gh),
                    w_h: Aligned::zeros(gh * h),
                    w_x: Aligned::zeros(gh * input),
                }
            })
            .collect();
        Operands {
            dims,
            layers,
            w_out_t: Aligned::zeros(h * o),
            w_out: Aligned::zeros(o * h),
        }
    }

    /// Refreshes the forward operands from `p`, and the backward ones too if
    /// `backward`; every matrix is cut into `threads` pieces, one per thread (the
    /// caller and `pool`'s workers).
    pub(crate) fn refresh(
        &mut self,
        pool: Option<&rayon::ThreadPool>,
        threads: usize,
        p: &FloatWeights<'_>,
        backward: bool,
    ) {
        let d = self.dims;
        let (h, o, gh) = (d.hidden, d.outputs, d.gates() * d.hidden);
        let mut jobs = Vec::with_capacity(4 * self.layers.len() + 2);
        for (l, (ops, w)) in self.layers.iter_mut().zip(&p.layers).enumerate() {
            let input = d.input_width(l);
            jobs.push(Job::Transpose(w.w_h, gh, h, &mut ops.w_h_t));
            if !ops.w_x_t.is_empty() {
                jobs.push(Job::Transpose(w.w_x, gh, input, &mut ops.w_x_t));
            }
            if backward {
                jobs.push(Job::Copy(w.w_h, &mut ops.w_h));
                if !ops.w_x.is_empty() {
                    jobs.push(Job::Copy(w.w_x, &mut ops.w_x));
                }
            }
        }
        jobs.push(Job::Transpose(p.w_out, o, h, &mut self.w_out_t));
        if backward {
            jobs.push(Job::Copy(p.w_out, &mut self.w_out));
        }
        let threads = threads.max(1);
        let mut shares: Vec<Vec<Piece<'_>>> = (0..threads)
            .map(|_| Vec::with_capacity(jobs.len()))
            .collect();
        for job in jobs {
            job.split(threads, |k, piece| shares[k].push(piece));
        }
        on_threads(pool, shares.into_iter(), |pieces| {
            pieces.into_iter().for_each(Piece::run)
        });
    }
}
