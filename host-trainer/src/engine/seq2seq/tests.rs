//! Finite-difference gradient checks through encoder, attention and decoder, for
//! every cell and one and two layers; thread-count agreement; a tiny model learning.

use super::*;

fn pairs() -> Vec<Pair> {
    let rows: [(&[u16], &[u16]); 5] = [
        (&[2, 3, 4], &[0, 1]),
        (&[5], &[2, 2, 3, 0]),
        (&[3, 3, 2, 5, 4], &[4]),
        (&[4, 2], &[1, 3, 0]),
        (&[2, 5, 3, 4], &[3, 4, 1, 2, 0]),
    ];
    rows.iter()
        .map(|(i, o)| Pair {
            input: i.to_vec(),
            output: o.to_vec(),
        })
        .collect()
}

fn dims(cell: CellKind, layers: usize) -> Seq2seqDims {
    Seq2seqDims {
        cell,
        layers,
        hidden: 6,
        embed: 3,
        vocab: 6,
        phonemes: 5,
    }
}

#[test]
fn gradient_matches_finite_differences() {
    for cell in [CellKind::Gru, CellKind::Lstm, CellKind::Rnn] {
        for layers in [1, 2] {
            let d = dims(cell, layers);
            let data = pairs();
            let batch: Vec<&Pair> = data.iter().collect();
            let count: usize = data.iter().map(|p| p.output.len() + 1).sum();
            // Larger weights than the initialisation, so every path carries gradient.
            let mut params: Vec<f32> = init_seq2seq(d, 3).iter().map(|x| x * 2.0).collect();
            let mut engine = Seq2seqEngine::new(d, 1);
            let mut grad = vec![0.0; params.len()];
            engine.loss_and_grad(&params, &batch, &mut grad);
            let eps = 5e-3f32;
            let mut worst = 0.0f64;
            for i in 0..params.len() {
                let x = params[i];
                params[i] = x + eps;
                let up = engine.loss(&params, &batch);
                params[i] = x - eps;
                let down = engine.loss(&params, &batch);
                params[i] = x;
                let num = (up - down) / (2.0 * eps as f64) / count as f64;
                let err =
                    (num - grad[i] as f64).abs() / (1e-3 + num.abs().max(grad[i].abs() as f64));
                worst = worst.max(err);
                assert!(
                    err < 2e-2,
                    "{cell:?} L{layers} param {i}: numeric {num} vs analytic {}",
                    grad[i]
                );
            }
            assert!(grad.iter().all(|g| g.is_finite()));
            eprintln!("{cell:?} L{layers}: worst relative error {worst:.2e}");
        }
    }
}

#[test]
fn every_part_of_the_model_gets_gradient() {
    let d = dims(CellKind::Lstm, 2);
    let data = pairs();
    let batch: Vec<&Pair> = data.iter().collect();
    let params = init_seq2seq(d, 5);
    let mut grad = vec![0.0; params.len()];
    Seq2seqEngine::new(d, 1).loss_and_grad(&params, &batch, &mut grad);
    let g = d.split(&grad);
    for (name, s) in [("fwd", g.fwd), ("bwd", g.bwd), ("dec", g.dec)] {
        assert!(s.emb.iter().any(|&x| x != 0.0), "{name} emb");
        for l in &s.layers[..2] {
            for t in [l.w_x, l.b_x, l.w_h, l.b_h] {
                assert!(t.iter().any(|&x| x != 0.0), "{name} layer tensor");
            }
        }
    }
}

#[test]
fn threads_agree_and_runs_repeat() {
    let d = dims(CellKind::Gru, 1);
    let data: Vec<Pair> = (0..7).flat_map(|_| pairs()).collect();
    let batch: Vec<&Pair> = data.iter().collect();
    let params = init_seq2seq(d, 9);
    let (mut g1, mut g2, mut g3) = (
        vec![0.0; params.len()],
        vec![0.0; params.len()],
        vec![0.0; params.len()],
    );
    let l1 = Seq2seqEngine::new(d, 1).loss_and_grad(&params, &batch, &mut g1);
    let mut two = Seq2seqEngine::new(d, 2);
    let l2 = two.loss_and_grad(&params, &batch, &mut g2);
    let l3 = two.loss_and_grad(&params, &batch, &mut g3);
    assert_eq!((l2, &g2), (l3, &g3));
    assert!((l1 - l2).abs() < 1e-4 * l1.abs());
    for (a, b) in g1.iter().zip(&g2) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    let words: Vec<&[u16]> = data.iter().map(|p| &p.input[..]).collect();
    assert_eq!(
        Seq2seqEngine::new(d, 1).greedy(&params, &words),
        two.greedy(&params, &words)
    );
}

#[test]
fn a_tiny_model_learns_its_pairs() {
    let d = Seq2seqDims {
        hidden: 32,
        embed: 8,
        ..dims(CellKind::Gru, 1)
    };
    let data = pairs();
    let batch: Vec<&Pair> = data.iter().collect();
    let mut params = init_seq2seq(d, 1);
    let mut adam = Adam::new(params.len());
    let mut engine = Seq2seqEngine::new(d, 2);
    for _ in 0..300 {
        engine.train_step(&mut params, &batch, &mut adam, 0.01, 1.0);
    }
    let words: Vec<&[u16]> = data.iter().map(|p| &p.input[..]).collect();
    let got = engine.greedy(&params, &words);
    let want: Vec<Vec<u16>> = data.iter().map(|p| p.output.clone()).collect();
    assert_eq!(got, want);
}

#[test]
fn logits_agree_with_shared_float_path() {
    use micrornn::seq2seq::{Seq2seqF, Seq2seqNet, Seq2seqWeights};
    for cell in [CellKind::Gru, CellKind::Lstm, CellKind::Rnn] {
        for layers in [1, 2] {
            let d = dims(cell, layers);
            let data = pairs();
            let batch: Vec<&Pair> = data.iter().collect();
            let params: Vec<f32> = init_seq2seq(d, 11).iter().map(|x| x * 1.5).collect();
            let w = d.split(&params);
            let mut ops = Ops::default();
            ops.refresh(&d, &w);
            let mut work = Work::new(d);
            let backend = Backend::detect();
            work.load(&batch);
            work.encode(backend, &w, &ops);
            work.decode(backend, &w, &ops);
            let shape = crate::train::seq2seq_ckpt::shape_of(&d);
            let sw = Seq2seqWeights::from_flat(shape, &params).unwrap();
            let vocab = micrornn::vocab::Vocab::new("abcd").unwrap();
            let mut arena = vec![0.0f32; Seq2seqF::needs(&sw)];
            let mut net = Seq2seqF::new(&sw, vocab, &mut arena).unwrap();
            let p = d.tokens_out();
            let mut row = 0;
            let mut worst = 0.0f32;
            for pair in &data {
                net.encode_ids(&pair.input).unwrap();
                net.start();
                let mut prev = d.boundary();
                let mut logits = vec![0.0f32; p];
                for &next in pair.output.iter().chain([&d.boundary()]) {
                    net.step_f32(prev, &mut logits).unwrap();
                    for (a, b) in logits.iter().zip(&work.z[row * p..][..p]) {
                        worst = worst.max((a - b).abs());
                    }
                    prev = next;
                    row += 1;
                }
            }
            assert!(worst < 1e-5, "{cell:?} L{layers}: logits differ by {worst}");
        }
    }
}

#[test]
fn gradient_with_dropout_matches_finite_differences() {
    let d = dims(CellKind::Gru, 1);
    let data = pairs();
    let batch: Vec<&Pair> = data.iter().collect();
    let count: usize = data.iter().map(|p| p.output.len() + 1).sum();
    let mut params: Vec<f32> = init_seq2seq(d, 4).iter().map(|x| x * 2.0).collect();
    let mut engine = Seq2seqEngine::new(d, 1);
    engine.set_dropout(0.4, 17);
    let step = Some(3);
    let mut grad = vec![0.0; params.len()];
    let masked = engine.masked_loss_and_grad(&params, &batch, &mut grad, step);
    // The mask changes the loss, and the forward pass alone repeats it.
    assert_ne!(masked, engine.loss(&params, &batch));
    assert_eq!(masked, engine.masked_loss(&params, &batch, step));
    let eps = 5e-3f32;
    for i in 0..params.len() {
        let x = params[i];
        params[i] = x + eps;
        let up = engine.masked_loss(&params, &batch, step);
        params[i] = x - eps;
        let down = engine.masked_loss(&params, &batch, step);
        params[i] = x;
        let num = (up - down) / (2.0 * eps as f64) / count as f64;
        let err = (num - grad[i] as f64).abs() / (1e-3 + num.abs().max(grad[i].abs() as f64));
        assert!(
            err < 2e-2,
            "param {i}: numeric {num} vs analytic {}",
            grad[i]
        );
    }
}

#[test]
fn dropout_masks_agree_across_threads_and_change_with_the_step() {
    let d = dims(CellKind::Lstm, 1);
    let data: Vec<Pair> = (0..7).flat_map(|_| pairs()).collect();
    let batch: Vec<&Pair> = data.iter().collect();
    let params = init_seq2seq(d, 9);
    let mut one = Seq2seqEngine::new(d, 1);
    let mut two = Seq2seqEngine::new(d, 2);
    one.set_dropout(0.3, 5);
    two.set_dropout(0.3, 5);
    let (a, b) = (
        one.masked_loss(&params, &batch, Some(1)),
        two.masked_loss(&params, &batch, Some(1)),
    );
    assert!((a - b).abs() < 1e-4 * a.abs(), "{a} vs {b}");
    assert_ne!(a, one.masked_loss(&params, &batch, Some(2)));
}

#[test]
fn dropout_keeps_the_asked_share_scaled() {
    let drop = work::Dropout {
        p: 0.25,
        key: 42,
        row0: 0,
    };
    let n = 64;
    let mut keep = vec![0.0f32; 100 * n];
    drop.fill(3, &mut keep, n);
    let kept = keep.iter().filter(|&&v| v != 0.0).count() as f64 / keep.len() as f64;
    assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
    assert!(keep.iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
    // Another row, another mask.
    let mut other = vec![0.0f32; 100 * n];
    drop.fill(4, &mut other, n);
    assert_ne!(keep, other);
}
