//! One forward pass: the trainer's batched forward equals `shared`'s float inference, for
//! every cell, layer count, input (one-hot or embedding) and task.

use micrornn::cell::NetF;
use micrornn::format::{CellKind, Task};
use micrornn::vocab::Vocab;
use micrornn::Net;
use micrornn_trainer::data::batch::Batch;
use micrornn_trainer::data::names::encode;
use micrornn_trainer::engine::{init_params, Engine};
use micrornn_trainer::eval::host_model::float_weights;
use micrornn_trainer::train::params::Dims;

const NAMES: [&str; 7] = ["anna", "bob", "christopher", "x", "zelda", "mohammed", "li"];

/// Largest |batched - shared| over every output the batch produces.
fn worst_difference(dims: Dims, vocab: &Vocab<'_>) -> f32 {
    // Random weights scaled up so that the nonlinearities work beyond their linear parts.
    let params: Vec<f32> = init_params(dims, 5).iter().map(|w| w * 3.0).collect();
    let seqs: Vec<_> = NAMES.iter().map(|n| encode(n, vocab)).collect();
    let batch = match dims.task {
        Task::Generate => Batch::from_sequences(seqs.iter().map(|(i, t)| (&i[..], &t[..]))),
        _ => Batch::from_labelled(
            seqs.iter()
                .enumerate()
                .map(|(n, (i, _))| (&i[..], (n % dims.outputs) as u16)),
        ),
    };
    let mut engine = Engine::new(dims, 2);
    let batched = engine.logits(&params, &batch);

    let w = float_weights(dims, &params);
    let mut arena = vec![0.0; NetF::needs(&w)];
    let o = dims.outputs;
    let mut out = vec![0.0; o];
    let mut worst = 0f32;
    let mut compare = |out: &[f32], at: usize| {
        for (a, b) in out.iter().zip(&batched[at..at + o]) {
            worst = worst.max((a - b).abs());
        }
    };
    for (n, (inputs, _)) in seqs.iter().enumerate() {
        let mut net = NetF::new(w, &mut arena).unwrap();
        match dims.task {
            Task::Generate => {
                for (t, &x) in inputs.iter().enumerate() {
                    net.step_f32(x, &mut out);
                    compare(&out, (n * batch.steps + t) * o);
                }
            }
            _ => {
                for &x in inputs {
                    net.feed(x);
                }
                net.output_f32(&mut out);
                compare(&out, n * o);
            }
        }
    }
    worst
}

#[test]
fn batched_forward_equals_shared_float_inference() {
    let vocab = Vocab::new("abcdefghijklmnopqrstuvwxyz").unwrap();
    for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
        for layers in [1, 2, 3] {
            for embed in [0, 5] {
                for task in [Task::Generate, Task::Classify] {
                    let dims = Dims {
                        cell,
                        task,
                        layers,
                        hidden: 24,
                        embed,
                        vocab: vocab.tokens(),
                        outputs: match task {
                            Task::Generate => vocab.tokens(),
                            _ => 3,
                        },
                    };
                    let worst = worst_difference(dims, &vocab);
                    assert!(worst <= 1e-5, "{dims:?}: largest difference {worst}");
                }
            }
        }
    }
}
