//! Export of every cell, layer count, embedding and task: the file loads with the right
//! shape, the integer network follows the float one closely, and an LSTM remembers.

use micrornn::cell::{FloatLayer, FloatWeights, NetF, NetQ, MAX_LAYERS};
use micrornn::format::{CellKind, Task};
use micrornn::rng::Rng;
use micrornn::{Model, Net};
use micrornn_trainer::export::quantize::export;

const CHARS: &str = "abcdefghij";
const V: usize = CHARS.len() + 2;

/// Owned float tensors in the layout of `FloatWeights`.
struct Owned {
    cell: CellKind,
    hidden: usize,
    embed: usize,
    outputs: usize,
    emb: Vec<f32>,
    layers: Vec<[Vec<f32>; 4]>,
    w_out: Vec<f32>,
    b_out: Vec<f32>,
}

impl Owned {
    /// Random weights, uniform in ±`scale / sqrt(fan-in)`.
    fn random(cell: CellKind, layers: usize, hidden: usize, embed: usize, outputs: usize) -> Owned {
        let mut rng = Rng::new((layers * 100 + hidden * 7 + embed) as u64 + cell as u64);
        let mut v = |n: usize, fan_in: usize| -> Vec<f32> {
            let a = 1.7 / (fan_in as f32).sqrt();
            (0..n)
                .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * a)
                .collect()
        };
        let gh = cell.gates() * hidden;
        let emb = v(V * embed, 1);
        let layers = (0..layers)
            .map(|l| {
                let w_x = match (l, embed) {
                    (0, 0) => v(V * gh, 1),
                    (0, e) => v(gh * e, e),
                    _ => v(gh * hidden, hidden),
                };
                [w_x, v(gh, 4), v(gh * hidden, hidden), v(gh, 4)]
            })
            .collect();
        Owned {
            cell,
            hidden,
            embed,
            outputs,
            emb,
            layers,
            w_out: v(outputs * hidden, hidden),
            b_out: v(outputs, 4),
        }
    }

    fn weights(&self) -> FloatWeights<'_> {
        let mut layers = [FloatLayer::default(); MAX_LAYERS];
        for (l, t) in self.layers.iter().enumerate() {
            layers[l] = FloatLayer {
                w_x: &t[0],
                b_x: &t[1],
                w_h: &t[2],
                b_h: &t[3],
            };
        }
        FloatWeights {
            cell: self.cell,
            vocab: V,
            hidden: self.hidden,
            embed: self.embed,
            outputs: self.outputs,
            n_layers: self.layers.len(),
            emb: &self.emb,
            layers,
            w_out: &self.w_out,
            b_out: &self.b_out,
        }
    }
}

fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("class {i}")).collect()
}

/// Feeds the same tokens to the integer and the float network; returns the largest
/// output difference and the share of steps whose largest output is the same.
fn compare(model: &Model<'_>, w: FloatWeights<'_>, rng: &mut Rng) -> (f64, f64) {
    let mut arena_q = vec![0; NetQ::needs(model)];
    let mut arena_f = vec![0.0; NetF::needs(&w)];
    let mut q = NetQ::new(model, &mut arena_q).unwrap();
    let mut f = NetF::new(w, &mut arena_f).unwrap();
    let o = model.outputs();
    let (mut out_q, mut out_f) = (vec![0; o], vec![0.0; o]);
    let (mut worst, mut same, mut steps) = (0f64, 0, 0);
    for seq in 0..20 {
        q.reset();
        f.reset();
        for t in 0..(3 + seq % 9) {
            let token = if t == 0 {
                0
            } else {
                rng.below(V as u64) as u16
            };
            q.step(token, &mut out_q);
            f.step_f32(token, &mut out_f);
            for (&a, &b) in out_q.iter().zip(&out_f) {
                worst = worst.max((a as f64 / 65536.0 - b as f64).abs());
            }
            let argmax = |x: &[f64]| (0..x.len()).max_by(|&i, &j| x[i].total_cmp(&x[j])).unwrap();
            let qa: Vec<f64> = out_q.iter().map(|&x| x as f64).collect();
            let fa: Vec<f64> = out_f.iter().map(|&x| x as f64).collect();
            same += (argmax(&qa) == argmax(&fa)) as usize;
            steps += 1;
        }
    }
    (worst, same as f64 / steps as f64)
}

#[test]
fn every_cell_layer_count_embedding_and_task_round_trips() {
    let mut rng = Rng::new(3);
    for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
        for layers in 1..=3 {
            for embed in [0, 5] {
                for task in [Task::Generate, Task::Classify] {
                    let (o, names) = match task {
                        Task::Generate => (V, vec![]),
                        _ => (3, labels(3)),
                    };
                    let w = Owned::random(cell, layers, 24 + layers, embed, o);
                    let bytes = export(&w.weights(), task, CHARS, &names).unwrap();
                    let m = Model::load(&bytes).unwrap();
                    let ctx = format!("{cell:?} {layers} layers, embed {embed}, {task:?}");
                    assert_eq!(m.cell(), cell, "{ctx}");
                    assert_eq!((m.layer_count(), m.task()), (layers, task), "{ctx}");
                    assert_eq!(m.config().embed as usize, embed, "{ctx}");
                    assert_eq!(m.outputs(), o, "{ctx}");
                    assert_eq!(m.labels().collect::<Vec<_>>(), names, "{ctx}");
                    assert_eq!(m.vocab.chars(), CHARS);
                    let (worst, same) = compare(&m, w.weights(), &mut rng);
                    assert!(worst < 0.15, "{ctx}: outputs differ by {worst}");
                    assert!(same >= 0.85, "{ctx}: same argmax at {same} of the steps");
                }
            }
        }
    }
}

#[test]
fn export_refuses_what_does_not_fit_the_task() {
    let w = Owned::random(CellKind::Gru, 2, 8, 0, 3);
    let e = export(&w.weights(), Task::Classify, CHARS, &labels(2)).unwrap_err();
    assert!(format!("{e:#}").contains("3 outputs"), "{e:#}");
    let e = export(&w.weights(), Task::Generate, CHARS, &[]).unwrap_err();
    assert!(format!("{e:#}").contains("outputs"), "{e:#}");
    let e = export(&w.weights(), Task::Classify, "abc", &labels(3)).unwrap_err();
    assert!(format!("{e:#}").contains("tokens"), "{e:#}");
    let bad = vec!["a".to_string(), "a".to_string(), "b".to_string()];
    let e = export(&w.weights(), Task::Classify, CHARS, &bad).unwrap_err();
    assert!(format!("{e:#}").contains("bad labels"), "{e:#}");
}

/// An LSTM of one unit that stores `+1` for `a` and `-1` for `b` in its cell state, keeps
/// it through any other character, and says which it saw: the output after `a` or `b`
/// and ten other characters names the one seen ten steps back.
#[test]
fn an_lstm_remembers_a_character_ten_steps_back() {
    let (a, b) = (2usize, 3usize);
    // Layer 0's table: per token the input terms of i, f, g, o (biases zero).
    let mut table = vec![0.0; V * 4];
    for t in 0..V {
        let (i, g) = match t {
            _ if t == a => (8.0, 8.0),
            _ if t == b => (8.0, -8.0),
            _ => (-8.0, 0.0),
        };
        table[t * 4..t * 4 + 4].copy_from_slice(&[i, 10.0, g, 8.0]);
    }
    // Output: token a scores +5·h, token b -5·h, the rest 0.
    let mut w_out = vec![0.0; V];
    (w_out[a], w_out[b]) = (5.0, -5.0);
    let w = Owned {
        cell: CellKind::Lstm,
        hidden: 1,
        embed: 0,
        outputs: V,
        emb: vec![],
        layers: vec![[table, vec![0.0; 4], vec![0.0; 4], vec![0.0; 4]]],
        w_out,
        b_out: vec![0.0; V],
    };
    let bytes = export(&w.weights(), Task::Generate, CHARS, &[]).unwrap();
    let m = Model::load(&bytes).unwrap();
    let mut arena_q = vec![0; NetQ::needs(&m)];
    let mut arena_f = vec![0.0; NetF::needs(&w.weights())];
    let mut q = NetQ::new(&m, &mut arena_q).unwrap();
    let mut f = NetF::new(w.weights(), &mut arena_f).unwrap();
    for first in [a, b] {
        q.reset();
        f.reset();
        for token in [0, first as u16]
            .into_iter()
            .chain([4, 7, 9, 5, 4, 6, 8, 11, 10, 4])
        {
            q.feed(token);
            f.feed(token);
        }
        let (mut out_q, mut out_f) = (vec![0; V], vec![0.0; V]);
        q.output(&mut out_q);
        f.output_f32(&mut out_f);
        let best_q = (0..V).max_by_key(|&t| out_q[t]).unwrap();
        let best_f = (0..V)
            .max_by(|&s, &t| out_f[s].total_cmp(&out_f[t]))
            .unwrap();
        assert_eq!((best_q, best_f), (first, first), "{out_q:?} {out_f:?}");
        // tanh(1) · 5 ≈ 3.8, nearly undecayed after ten steps.
        assert!(out_f[first] > 3.5 && out_q[first] > 3 * 65536, "{out_f:?}");
        assert!(
            q.cell_state(0, 0).abs() > 60_000,
            "c = {}",
            q.cell_state(0, 0)
        );
    }
}
