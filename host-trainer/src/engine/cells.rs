//! The cells' element-wise work for one time step, fused: one pass over the rows
//! running at that step, forward (gates, new state, what the backward pass needs)
//! and backward (gradients of the pre-activations and of the previous state).
//!
//! Per row, `x` = the input term `W_x·x + b_x` and `a` = the recurrent term
//! `W_h·h + b_h`, both split in gate blocks of `H` (order: RNN `h`; GRU `r, z, n`;
//! LSTM `i, f, g, o`); `σ` is the logistic function:
//! - RNN: `h' = tanh(x + a)`;
//! - GRU: `r = σ(x_r + a_r)`, `z = σ(x_z + a_z)`, `n = tanh(x_n + r ⊙ a_n)`,
//!   `h' = (1 - z) ⊙ n + z ⊙ h`;
//! - LSTM: `i, f, o = σ(x + a)`, `g = tanh(x_g + a_g)`, `c' = f ⊙ c + i ⊙ g`,
//!   `h' = o ⊙ tanh(c')`.
//!
//! Only the GRU needs `a` apart from `x` ([`separate_recurrent`]); for the others
//! the caller hands over the sum `x + a` (the recurrent product added onto the
//! input terms, both biases folded into one).
//!
//! Saved per row for the backward pass ([`saved_blocks`] blocks of `H`): nothing
//! for the RNN (its `h'` is enough); GRU `r, z, n, a_n + b_hn`; LSTM `c', tanh(c')`
//! (so the LSTM's cell state lives in block 0). The LSTM keeps its gate
//! activations `i, f, g, o` in place of their pre-activations in `xp`, and the
//! backward step overwrites them with their gradient: one buffer, read and
//! written in the same cache lines, instead of a second copy of that size.
//!
//! The loops are straight-line `f32` code over equal-length slices so they
//! vectorise; [`Backend::has_avx2_fma`] selects a copy compiled for AVX2 + FMA.

use micrornn::format::CellKind;

use super::gemm::Backend;
use super::math::tanh;

/// Floats saved per token and layer for the backward pass, in blocks of `H`.
pub(crate) const fn saved_blocks(cell: CellKind) -> usize {
    match cell {
        CellKind::Rnn => 0,
        CellKind::Gru => 4,
        CellKind::Lstm => 2,
    }
}

/// Whether the cell needs the recurrent term `a` apart from the input term `x`
/// (the GRU, whose `n` gate scales `a_n` by `r`); otherwise only their sum matters.
pub(crate) const fn separate_recurrent(cell: CellKind) -> bool {
    matches!(cell, CellKind::Gru)
}

/// Block of the saved values holding the LSTM's cell state `c'`.
const LSTM_C: usize = 0;

/// The logistic function through the fast `tanh`: `σ(x) = (1 + tanh(x / 2)) / 2`.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    0.5 * tanh(0.5 * x) + 0.5
}

/// One forward step over `a` rows (`a = h_new.len() / H`); `G·H` = `g`, `S·H` = `s`.
#[derive(Debug)]
pub(crate) struct Forward<'a> {
    /// Hidden units `H`.
    pub h: usize,
    /// (a, G·H) input terms `W_x·x + b_x`; without [`separate_recurrent`], the
    /// whole pre-activations `x + a`. The LSTM overwrites them with its gates.
    pub xp: &'a mut [f32],
    /// (a, G·H) recurrent products `W_h·h` (zeros at the first step); empty
    /// without [`separate_recurrent`].
    pub rec: &'a [f32],
    /// (G·H,) recurrent bias; empty without [`separate_recurrent`].
    pub b_h: &'a [f32],
    /// (a, H) previous states (zeros at the first step).
    pub h_prev: &'a [f32],
    /// (a, S·H) saved values of the previous step (zeros at the first step).
    pub saved_prev: &'a [f32],
    /// (a, H) the new states.
    pub h_new: &'a mut [f32],
    /// (a, S·H) the values the backward pass needs.
    pub saved: &'a mut [f32],
}

/// One backward step over `a` rows (`a = dh.len() / H`).
#[derive(Debug)]
pub(crate) struct Backward<'a> {
    /// Hidden units `H`.
    pub h: usize,
    /// (a, H) gradient of the new states (from above and from the next step).
    pub dh: &'a [f32],
    /// (a, H) the new states (RNN).
    pub h_new: &'a [f32],
    /// (a, H) previous states (GRU; zeros at the first step).
    pub h_prev: &'a [f32],
    /// (a, S·H) saved values of this step.
    pub saved: &'a [f32],
    /// (a, S·H) saved values of the previous step (LSTM; zeros at the first step).
    pub saved_prev: &'a [f32],
    /// (a, H) gradient of the new cell states from the next step (LSTM).
    pub dc: &'a [f32],
    /// (a, G·H) out: gradient of the input terms `x`; in (LSTM): the gate
    /// activations `i, f, g, o` the forward step left there.
    pub dx: &'a mut [f32],
    /// (a, G·H) out: gradient of the recurrent pre-activations `a + b_h` (GRU only,
    /// where it differs from `dx`; empty otherwise).
    pub da: &'a mut [f32],
    /// (a, H) previous step's state gradient, added to directly (GRU: `dh ⊙ z`);
    /// `None` at the first step.
    pub dh_prev: Option<&'a mut [f32]>,
    /// (a, H) previous step's cell-state gradient, written (LSTM: `dc' ⊙ f`);
    /// `None` at the first step.
    pub dc_prev: Option<&'a mut [f32]>,
}

/// Runs one forward step of `cell`.
pub(crate) fn forward(backend: Backend, cell: CellKind, f: Forward<'_>) {
    #[cfg(target_arch = "x86_64")]
    if backend.has_avx2_fma() {
        // Safety: the backend reports AVX2 + FMA only when the CPU has them.
        unsafe { avx2::forward(cell, f) };
        return;
    }
    let _ = backend;
    forward_rows(cell, f);
}

/// Runs one backward step of `cell`.
pub(crate) fn backward(backend: Backend, cell: CellKind, b: Backward<'_>) {
    #[cfg(target_arch = "x86_64")]
    if backend.has_avx2_fma() {
        // Safety: the backend reports AVX2 + FMA only when the CPU has them.
        unsafe { avx2::backward(cell, b) };
        return;
    }
    let _ = backend;
    backward_rows(cell, b);
}

/// The element-wise loops compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;

    /// # Safety
    /// The CPU supports AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn forward(cell: CellKind, f: Forward<'_>) {
        forward_rows(cell, f)
    }

    /// # Safety
    /// The CPU supports AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn backward(cell: CellKind, b: Backward<'_>) {
        backward_rows(cell, b)
    }
}

#[inline(always)]
fn forward_rows(cell: CellKind, f: Forward<'_>) {
    let h = f.h;
    let (g, s) = (cell.gates() * h, saved_blocks(cell) * h);
    let rows = f.h_new.len() / h;
    for r in 0..rows {
        let xp = &mut f.xp[r * g..][..g];
        let out = &mut f.h_new[r * h..][..h];
        match cell {
            CellKind::Rnn => rnn_forward(xp, out),
            CellKind::Gru => {
                let rec = &f.rec[r * g..][..g];
                let saved = &mut f.saved[r * s..][..s];
                gru_forward(h, xp, rec, f.b_h, &f.h_prev[r * h..][..h], out, saved);
            }
            CellKind::Lstm => {
                let c_prev = &f.saved_prev[r * s + LSTM_C * h..][..h];
                let saved = &mut f.saved[r * s..][..s];
                lstm_forward(h, xp, c_prev, out, saved);
            }
        }
    }
}

#[inline(always)]
fn rnn_forward(pre: &[f32], out: &mut [f32]) {
    map([pre], [out], |[p]| [tanh(p)]);
}

/// Splits `v` into `N` consecutive blocks of `h`.
#[inline(always)]
fn blocks<const N: usize>(v: &[f32], h: usize) -> [&[f32]; N] {
    std::array::from_fn(|k| &v[k * h..][..h])
}

/// Splits `v` into `N` consecutive mutable blocks of `h`.
#[inline(always)]
fn blocks_mut<const N: usize>(v: &mut [f32], h: usize) -> [&mut [f32]; N] {
    let mut it = v.chunks_exact_mut(h);
    std::array::from_fn(|_| it.next().expect("N blocks of h"))
}

/// Elements per chunk of [`map`].
const LANES: usize = 8;

/// `outs[k][i] = f([ins[0][i], ins[1][i], ...])[k]` for every `i < outs[0].len()`.
///
/// Works in chunks of [`LANES`] elements copied to and from local arrays: the
/// per-element code then vectorises however many slices it reads and writes (on
/// slices alone, the compiler gives up checking that many pointers for overlap).
/// Every element gets the same operations, so chunks and the tail agree bit for bit.
#[inline(always)]
fn map<const I: usize, const O: usize>(
    ins: [&[f32]; I],
    mut outs: [&mut [f32]; O],
    f: impl Fn([f32; I]) -> [f32; O],
) {
    let n = outs[0].len();
    let mut i0 = 0;
    while i0 + LANES <= n {
        let x: [[f32; LANES]; I] =
            std::array::from_fn(|k| ins[k][i0..i0 + LANES].try_into().expect("a chunk"));
        let mut y = [[0.0f32; LANES]; O];
        for j in 0..LANES {
            let r = f(std::array::from_fn(|k| x[k][j]));
            for k in 0..O {
                y[k][j] = r[k];
            }
        }
        for (out, y) in outs.iter_mut().zip(&y) {
            out[i0..i0 + LANES].copy_from_slice(y);
        }
        i0 += LANES;
    }
    for i in i0..n {
        let r = f(std::array::from_fn(|k| ins[k][i]));
        for (out, r) in outs.iter_mut().zip(r) {
            out[i] = r;
        }
    }
}

/// [`map`] with `M` slices read and written in place:
/// `(io[·][i], outs[·][i]) = f(io[·][i], ins[·][i])` for every `i < io[0].len()`.
///
/// Each chunk is read whole before any of it is written, as in [`map`].
#[inline(always)]
fn map_io<const M: usize, const I: usize, const O: usize>(
    mut io: [&mut [f32]; M],
    ins: [&[f32]; I],
    mut outs: [&mut [f32]; O],
    f: impl Fn([f32; M], [f32; I]) -> ([f32; M], [f32; O]),
) {
    let n = io[0].len();
    let mut i0 = 0;
    while i0 + LANES <= n {
        let u: [[f32; LANES]; M] =
            std::array::from_fn(|k| io[k][i0..i0 + LANES].try_into().expect("a chunk"));
        let x: [[f32; LANES]; I] =
            std::array::from_fn(|k| ins[k][i0..i0 + LANES].try_into().expect("a chunk"));
        let mut yu = [[0.0f32; LANES]; M];
        let mut y = [[0.0f32; LANES]; O];
        for j in 0..LANES {
            let (ru, r) = f(
                std::array::from_fn(|k| u[k][j]),
                std::array::from_fn(|k| x[k][j]),
            );
            for k in 0..M {
                yu[k][j] = ru[k];
            }
            for k in 0..O {
                y[k][j] = r[k];
            }
        }
        for (out, y) in io.iter_mut().zip(&yu) {
            out[i0..i0 + LANES].copy_from_slice(y);
        }
        for (out, y) in outs.iter_mut().zip(&y) {
            out[i0..i0 + LANES].copy_from_slice(y);
        }
        i0 += LANES;
    }
    for i in i0..n {
        let (ru, r) = f(
            std::array::from_fn(|k| io[k][i]),
            std::array::from_fn(|k| ins[k][i]),
        );
        for (out, r) in io.iter_mut().zip(ru) {
            out[i] = r;
        }
        for (out, r) in outs.iter_mut().zip(r) {
            out[i] = r;
        }
    }
}

#[inline(always)]
fn gru_forward(
    h: usize,
    xp: &[f32],
    rec: &[f32],
    b: &[f32],
    h_prev: &[f32],
    out: &mut [f32],
    saved: &mut [f32],
) {
    let [xr, xz, xn] = blocks(xp, h);
    let [ar, az, an] = blocks(rec, h);
    let [br, bz, bn] = blocks(b, h);
    let [sr, sz, sn, san] = blocks_mut(saved, h);
    map(
        [xr, xz, xn, ar, az, an, br, bz, bn, &h_prev[..h]],
        [&mut out[..h], sr, sz, sn, san],
        |[xr, xz, xn, ar, az, an, br, bz, bn, hp]| {
            let r = sigmoid(xr + ar + br);
            let z = sigmoid(xz + az + bz);
            let a_n = an + bn;
            let n = tanh(xn + r * a_n);
            // (1 - z) n + z h
            [n + z * (hp - n), r, z, n, a_n]
        },
    );
}

#[inline(always)]
fn lstm_forward(h: usize, pre: &mut [f32], c_prev: &[f32], out: &mut [f32], saved: &mut [f32]) {
    let [sc, stc] = blocks_mut(saved, h);
    map_io(
        blocks_mut(pre, h),
        [&c_prev[..h]],
        [&mut out[..h], sc, stc],
        |[pi, pf, pg, po], [cp]| {
            let i = sigmoid(pi);
            let f = sigmoid(pf);
            let g = tanh(pg);
            let o = sigmoid(po);
            let c = f * cp + i * g;
            let tc = tanh(c);
            ([i, f, g, o], [o * tc, c, tc])
        },
    );
}

#[inline(always)]
fn backward_rows(cell: CellKind, mut b: Backward<'_>) {
    let h = b.h;
    let (g, s) = (cell.gates() * h, saved_blocks(cell) * h);
    let rows = b.dh.len() / h;
    for r in 0..rows {
        let dh = &b.dh[r * h..][..h];
        let dx = &mut b.dx[r * g..][..g];
        match cell {
            CellKind::Rnn => rnn_backward(dh, &b.h_new[r * h..][..h], dx),
            CellKind::Gru => {
                let saved = &b.saved[r * s..][..s];
                let da = &mut b.da[r * g..][..g];
                let h_prev = &b.h_prev[r * h..][..h];
                let dh_prev = b.dh_prev.as_deref_mut().map(|d| &mut d[r * h..][..h]);
                gru_backward(h, dh, h_prev, saved, dx, da, dh_prev);
            }
            CellKind::Lstm => {
                let tc = &b.saved[r * s + h..][..h];
                let c_prev = &b.saved_prev[r * s + LSTM_C * h..][..h];
                let dc = &b.dc[r * h..][..h];
                let dc_prev = b.dc_prev.as_deref_mut().map(|d| &mut d[r * h..][..h]);
                lstm_backward(h, dh, c_prev, dc, tc, dx, dc_prev);
            }
        }
    }
}

#[inline(always)]
fn rnn_backward(dh: &[f32], y: &[f32], dx: &mut [f32]) {
    map([dh, y], [dx], |[d, y]| [d * (1.0 - y * y)]);
}

#[inline(always)]
fn gru_backward(
    h: usize,
    dh: &[f32],
    h_prev: &[f32],
    saved: &[f32],
    dx: &mut [f32],
    da: &mut [f32],
    dh_prev: Option<&mut [f32]>,
) {
    let [sr, sz, sn, san] = blocks(saved, h);
    let [dxr, dxz, dxn] = blocks_mut(dx, h);
    let [dar, daz, dan] = blocks_mut(da, h);
    let (dh, h_prev) = (&dh[..h], &h_prev[..h]);
    map(
        [sr, sz, sn, san, dh, h_prev],
        [dxr, dxz, dxn, dar, daz, dan],
        |[r, z, n, a_n, d, hp]| {
            // Pre-activation gradients of n, z and r.
            let dn = d * (1.0 - z) * (1.0 - n * n);
            let dz = d * (hp - n) * z * (1.0 - z);
            let dr = dn * a_n * r * (1.0 - r);
            [dr, dz, dn, dr, dz, dn * r]
        },
    );
    if let Some(dh_prev) = dh_prev {
        let dh_prev = &mut dh_prev[..h];
        for i in 0..h {
            dh_prev[i] += dh[i] * sz[i];
        }
    }
}

#[inline(always)]
fn lstm_backward(
    h: usize,
    dh: &[f32],
    c_prev: &[f32],
    dc_next: &[f32],
    tc: &[f32],
    dx: &mut [f32],
    dc_prev: Option<&mut [f32]>,
) {
    // dx holds the gates i, f, g, o on entry.
    let gates = blocks_mut(dx, h);
    let ins = [&tc[..h], &dh[..h], &c_prev[..h], &dc_next[..h]];
    // Gate pre-activation gradients and the full cell-state gradient dc'.
    let lane = |[i, f, g, o]: [f32; 4], [tc, d, cp, dcn]: [f32; 4]| {
        let dc = dcn + d * o * (1.0 - tc * tc);
        let gates = [
            dc * g * i * (1.0 - i),
            dc * cp * f * (1.0 - f),
            dc * i * (1.0 - g * g),
            d * tc * o * (1.0 - o),
        ];
        (gates, [dc * f])
    };
    match dc_prev {
        Some(dc_prev) => map_io(gates, ins, [&mut dc_prev[..h]], lane),
        None => map_io(gates, ins, [], |g, x| (lane(g, x).0, [])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_accurate() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - want).abs() < 1e-6, "σ({x})");
        }
    }
}
