//! Tests: the integer network against a plain reference written straight from the
//! equations (natural order, whole vectors, `requant_q16`, the portable dot product), bit
//! for bit, for every cell, layer count, odd sizes, row alignments and chunk sizes.

use super::gate_math::sigmoid_q15;
use super::{Net, NetQ, MAX_LAYERS};
use crate::fixed::{requant_q16, tanh_q15};
use crate::format::{CellKind, Task};
use crate::kernels::dot_q8_q15_portable;
use crate::model::tests::{random_model, Shape};
use crate::model::Model;
use crate::rng::Rng;
use crate::tensor::QTensor;

const MAX_H: usize = 80;
const MAX_GH: usize = 4 * MAX_H;

/// The reference network's states.
struct Reference {
    h: [[i16; MAX_H]; MAX_LAYERS],
    c: [[i32; MAX_H]; MAX_LAYERS],
}

/// Row `r` of `t` times `x`, requantized, plus `x_term`, plus the bias (each saturated).
fn row_q16(t: &QTensor<'_>, r: usize, x: &[i16], x_term: i32) -> i32 {
    let acc = dot_q8_q15_portable(t.row(r), x);
    requant_q16(acc, t.scale_bits(r))
        .saturating_add(x_term)
        .saturating_add(t.bias_q16(r))
}

impl Reference {
    fn new() -> Self {
        Reference {
            h: [[0; MAX_H]; MAX_LAYERS],
            c: [[0; MAX_H]; MAX_LAYERS],
        }
    }

    fn feed(&mut self, m: &Model<'_>, token: u16) {
        let (n, g) = (m.hidden(), m.cell().gates());
        let t = token as usize;
        for l in 0..m.layer_count() {
            let (w_x, w_h) = (&m.layer(l).w_x, &m.layer(l).w_h);
            // x: the input term of every gate row.
            let mut x = [0i32; MAX_GH];
            let below = if l > 0 { self.h[l - 1] } else { [0; MAX_H] };
            for (r, x) in x[..g * n].iter_mut().enumerate() {
                *x = if l == 0 {
                    requant_q16((w_x.weight(t, r) as i32) << 15, w_x.scale_bits(t))
                } else {
                    row_q16(w_x, r, &below[..n], 0)
                };
            }
            let h = &mut self.h[l];
            let c = &mut self.c[l];
            let mut new = [0i16; MAX_H];
            for u in 0..n {
                // The sum of both terms of gate block `k`: layer 0's looked-up x is added
                // before the recurrent bias; above, the two terms are added.
                let pre = |k: usize| match l {
                    0 => row_q16(w_h, k * n + u, &h[..n], x[k * n + u]),
                    _ => row_q16(w_h, k * n + u, &h[..n], 0).saturating_add(x[k * n + u]),
                };
                new[u] = match m.cell() {
                    CellKind::Rnn => tanh_q15(pre(0)),
                    CellKind::Gru => {
                        let (r, z) = (sigmoid_q15(pre(0)) as i64, sigmoid_q15(pre(1)) as i64);
                        let a_n = row_q16(w_h, 2 * n + u, &h[..n], 0) as i64;
                        let ra = ((r * a_n + (1 << 14)) >> 15) as i32;
                        let nn = tanh_q15(x[2 * n + u].saturating_add(ra)) as i64;
                        // h' = (1 - z) n + z h, as n + z (h - n), rounded once.
                        (nn + ((z * (h[u] as i64 - nn) + (1 << 14)) >> 15)) as i16
                    }
                    CellKind::Lstm => {
                        let i = sigmoid_q15(pre(0)) as i64;
                        let f = sigmoid_q15(pre(1)) as i64;
                        let gg = tanh_q15(pre(2)) as i64;
                        let o = sigmoid_q15(pre(3)) as i64;
                        let fc = ((f * c[u] as i64 + (1 << 14)) >> 15) as i32;
                        let ig = ((i * gg + (1 << 13)) >> 14) as i32;
                        c[u] = fc.saturating_add(ig);
                        ((o * tanh_q15(c[u]) as i64 + (1 << 14)) >> 15) as i16
                    }
                };
            }
            h[..n].copy_from_slice(&new[..n]);
        }
    }

    fn output(&self, m: &Model<'_>, out: &mut [i32]) {
        let top = &self.h[m.layer_count() - 1][..m.hidden()];
        for (k, o) in out[..m.outputs()].iter_mut().enumerate() {
            *o = row_q16(m.w_out(), k, top, 0);
        }
    }
}

/// Runs `steps` random tokens through the network and the reference, resetting now and
/// then, and compares states and outputs bit for bit.
fn compare(m: &Model<'_>, arena_len: usize, steps: usize, rng: &mut Rng) {
    let mut arena = [0i32; 4096];
    let mut net = NetQ::new(m, &mut arena[..arena_len]).unwrap();
    let mut reference = Reference::new();
    let (n, v) = (m.hidden(), m.vocab_size());
    for step in 0..steps {
        if step % 13 == 12 {
            net.reset();
            reference = Reference::new();
        }
        let token = (rng.next_u32() % v as u32) as u16;
        let (mut out, mut want) = ([0i32; 40], [0i32; 40]);
        net.step(token, &mut out);
        reference.feed(m, token);
        reference.output(m, &mut want);
        let ctx = (m.cell(), m.layer_count(), n, net.chunk(), step);
        for l in 0..m.layer_count() {
            for u in 0..n {
                assert_eq!(
                    net.hidden_state(l, u),
                    reference.h[l][u],
                    "{ctx:?} l={l} u={u}"
                );
                if m.cell() == CellKind::Lstm {
                    assert_eq!(net.cell_state(l, u), reference.c[l][u], "{ctx:?} c");
                }
            }
        }
        assert_eq!(out, want, "{ctx:?}");
    }
}

#[test]
fn every_cell_and_layer_count_matches_the_reference_bit_for_bit() {
    let mut rng = Rng::new(13);
    let mut data = [0u8; 160_000];
    let hidden = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 20, 31, 33, 48, 65, 80];
    let mut case = 0;
    for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
        for layers in 1..=MAX_LAYERS {
            for &h in hidden
                .iter()
                .skip(case % 3)
                .step_by(2)
                .filter(|&&h| h * layers <= 100)
            {
                case += 1;
                let shape = Shape {
                    cell,
                    task: if case % 4 == 0 {
                        Task::Classify
                    } else {
                        Task::Generate
                    },
                    layers,
                    vocab: [3, 4, 7, 28, 29][case % 5],
                    hidden: h,
                    labels: 2 + case % 9,
                };
                let m = random_model(&mut data, shape, case % 4, case % 2 == 1, &mut rng);
                // The smallest arena, one a few units larger, and one for whole layers.
                let need = NetQ::needs(&m);
                let per_unit = cell.gates() + 1;
                for arena in [need, need + 5 * per_unit, NetQ::needs_for_speed(&m)] {
                    compare(&m, arena, 30, &mut rng);
                }
            }
        }
    }
}

#[test]
fn the_chunk_is_whole_groups_or_the_layer() {
    let mut rng = Rng::new(14);
    let mut data = [0u8; 60_000];
    let shape = Shape {
        cell: CellKind::Gru,
        task: Task::Generate,
        layers: 2,
        vocab: 7,
        hidden: 50,
        labels: 0,
    };
    let m = random_model(&mut data, shape, 1, false, &mut rng);
    let mut arena = [0i32; 1000];
    let need = NetQ::needs(&m);
    assert_eq!(need, 2 * 2 * 25 + 4 * 16);
    for (len, chunk) in [
        (need, 16),
        (need + 4 * 3, 16),
        (need + 4 * 7, 20),
        (1000, 50),
    ] {
        let net = NetQ::new(&m, &mut arena[..len]).unwrap();
        assert_eq!(net.chunk(), chunk, "arena {len}");
    }
    let e = NetQ::new(&m, &mut arena[..need - 1]).unwrap_err();
    assert_eq!(
        e,
        crate::Error::BufferTooSmall {
            what: "RAM for the state",
            needed: 4 * need,
            capacity: 4 * (need - 1)
        }
    );
}
