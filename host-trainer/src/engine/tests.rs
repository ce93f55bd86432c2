//! Engine tests against a plain f64 reference implementation of the model.

use super::rng::SplitMix64;
use super::*;

/// The model written as plainly as possible in f64: returns the summed NLL and the
/// logits of every real position (`B * T * V`, padding left at 0).
fn reference(dims: Dims, params: &[f64], batch: &Batch) -> (f64, Vec<f64>) {
    let (h, v) = (dims.hidden, dims.vocab);
    let (w_in, rest) = params.split_at(v * h);
    let (w_hh, rest) = rest.split_at(h * h);
    let (b_h, rest) = rest.split_at(h);
    let (w_out, b_out) = rest.split_at(v * h);
    let mut logits = vec![0.0; batch.rows * batch.steps * v];
    let mut nll = 0.0;
    for n in 0..batch.rows {
        let mut state = vec![0.0f64; h];
        for t in 0..batch.lens[n] {
            let x = batch.inputs[n * batch.steps + t] as usize;
            let y = batch.targets[n * batch.steps + t] as usize;
            state = (0..h)
                .map(|i| {
                    let rec: f64 = (0..h).map(|j| w_hh[i * h + j] * state[j]).sum();
                    (w_in[x * h + i] + rec + b_h[i]).tanh()
                })
                .collect();
            let z = &mut logits[(n * batch.steps + t) * v..][..v];
            for (o, zo) in z.iter_mut().enumerate() {
                *zo = b_out[o] + (0..h).map(|i| w_out[o * h + i] * state[i]).sum::<f64>();
            }
            let max = z.iter().cloned().fold(f64::MIN, f64::max);
            let lse = max + z.iter().map(|&zo| (zo - max).exp()).sum::<f64>().ln();
            nll += lse - z[y];
        }
    }
    (nll, logits)
}

/// Random parameters, larger than the initialisation so every path carries signal.
fn random_params(dims: Dims, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..dims.param_count()).map(|_| rng.uniform(0.6)).collect()
}

/// A batch with rows of the given lengths (0 allowed), random tokens, padding at 0.
fn random_batch(vocab: usize, lens: &[usize], seed: u64) -> Batch {
    let mut rng = SplitMix64::new(seed);
    let seqs: Vec<(Vec<u16>, Vec<u16>)> = lens
        .iter()
        .map(|&len| {
            let mut tok = || {
                (0..len)
                    .map(|_| rng.range(0, vocab) as u16)
                    .collect::<Vec<u16>>()
            };
            (tok(), tok())
        })
        .collect();
    Batch::from_sequences(seqs.iter().map(|(i, t)| (&i[..], &t[..])))
}

/// Central differences in f64 of the reference mean loss, for every parameter.
fn numeric_gradient(dims: Dims, params: &[f32], batch: &Batch) -> Vec<f64> {
    let tokens = batch.tokens() as f64;
    let mut p: Vec<f64> = params.iter().map(|&x| x as f64).collect();
    let eps = 1e-5;
    (0..p.len())
        .map(|i| {
            let orig = p[i];
            p[i] = orig + eps;
            let up = reference(dims, &p, batch).0;
            p[i] = orig - eps;
            let down = reference(dims, &p, batch).0;
            p[i] = orig;
            (up - down) / (2.0 * eps * tokens)
        })
        .collect()
}

/// Checks every element of every tensor of the analytic gradient against finite differences.
fn check_gradient(dims: Dims, lens: &[usize], seed: u64) {
    let params = random_params(dims, seed);
    let batch = random_batch(dims.vocab, lens, seed + 1);
    let numeric = numeric_gradient(dims, &params, &batch);
    let names = ["w_in", "w_hh", "b_h", "w_out", "b_out"];
    for backend in Backend::all() {
        for threads in [1, 2] {
            let mut engine = Engine::with_backend(dims, threads, backend);
            let mut grad = vec![f32::NAN; dims.param_count()];
            let loss = engine.loss_and_grad(&params, &batch, &mut grad);
            let p64: Vec<f64> = params.iter().map(|&x| x as f64).collect();
            let want_loss = reference(dims, &p64, &batch).0;
            assert!(
                (loss - want_loss).abs() < 1e-5 * want_loss.max(1.0),
                "loss {loss} vs {want_loss}"
            );
            // Walk the five tensors in layout order.
            let g = dims.split(&grad);
            let tensors = [g.w_in, g.w_hh, g.b_h, g.w_out, g.b_out];
            let mut offset = 0;
            for (name, tensor) in names.iter().zip(tensors) {
                assert!(
                    tensor.iter().any(|&x| x != 0.0),
                    "{name} gradient is all zero"
                );
                for (i, &a) in tensor.iter().enumerate() {
                    let n = numeric[offset + i];
                    assert!(
                        (a as f64 - n).abs() <= 3e-5 + 1e-3 * n.abs(),
                        "{name}[{i}] analytic {a} vs numeric {n} ({backend:?}, {threads} threads)"
                    );
                }
                offset += tensor.len();
            }
        }
    }
}

#[test]
fn gradient_matches_finite_differences_tiny() {
    // Padding in two rows, a one-step row.
    check_gradient(
        Dims {
            vocab: 7,
            hidden: 5,
        },
        &[4, 1, 3],
        10,
    );
}

#[test]
fn gradient_matches_finite_differences_wider_than_a_tile() {
    // H = 37: full 16-wide column tiles plus a masked edge, and row tiles of 6 plus remainders.
    check_gradient(
        Dims {
            vocab: 19,
            hidden: 37,
        },
        &[8, 3, 8, 1, 5, 7, 2, 8, 6],
        20,
    );
}

#[test]
fn padding_does_not_affect_loss_or_gradient() {
    let dims = Dims {
        vocab: 9,
        hidden: 20,
    };
    let params = random_params(dims, 3);
    let batch = random_batch(dims.vocab, &[5, 2, 4, 1], 4);
    let mut altered = batch.clone();
    for n in 0..batch.rows {
        for t in batch.lens[n]..batch.steps {
            altered.inputs[n * batch.steps + t] = 7;
            altered.targets[n * batch.steps + t] = 3;
        }
    }
    assert_ne!(altered, batch);
    for threads in [1, 2] {
        let mut engine = Engine::new(dims, threads);
        let (mut g1, mut g2) = (vec![0.0; dims.param_count()], vec![0.0; dims.param_count()]);
        let l1 = engine.loss_and_grad(&params, &batch, &mut g1);
        let l2 = engine.loss_and_grad(&params, &altered, &mut g2);
        assert_eq!(l1.to_bits(), l2.to_bits());
        assert_eq!(g1, g2);
    }
}

#[test]
fn threads_agree_and_each_count_is_deterministic() {
    let dims = Dims {
        vocab: 30,
        hidden: 48,
    };
    let params = random_params(dims, 5);
    let lens: Vec<usize> = (0..23).map(|i| 3 + (i * 7) % 14).collect();
    let batch = random_batch(dims.vocab, &lens, 6);
    let small = random_batch(dims.vocab, &[2, 9], 7);
    let grad_of = |engine: &mut Engine, batch: &Batch| {
        let mut g = vec![0.0; dims.param_count()];
        let loss = engine.loss_and_grad(&params, batch, &mut g);
        (loss, g)
    };
    let mut one = Engine::new(dims, 1);
    let (l1, g1) = grad_of(&mut one, &batch);
    for threads in [2, 3] {
        let mut engine = Engine::new(dims, threads);
        let (l, g) = grad_of(&mut engine, &batch);
        assert!(
            (l - l1).abs() < 1e-4,
            "loss {l} vs {l1} with {threads} threads"
        );
        for (a, b) in g.iter().zip(&g1) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b} with {threads} threads");
        }
        // Same thread count: bit-identical, also after the workspaces served other shapes.
        let _ = grad_of(&mut engine, &small);
        let (l_again, g_again) = grad_of(&mut engine, &batch);
        assert_eq!(l.to_bits(), l_again.to_bits());
        assert_eq!(g, g_again);
        let fresh = grad_of(&mut Engine::new(dims, threads), &batch);
        assert_eq!((l.to_bits(), &g), (fresh.0.to_bits(), &fresh.1));
        // The forward-only loss is the same number.
        assert_eq!(engine.loss(&params, &batch).to_bits(), l.to_bits());
    }
    // More threads than rows: empty shards contribute nothing.
    let (l_small, g_small) = grad_of(&mut Engine::new(dims, 1), &small);
    let (l4, g4) = grad_of(&mut Engine::new(dims, 4), &small);
    assert!((l4 - l_small).abs() < 1e-6);
    assert!(g4.iter().zip(&g_small).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn logits_match_the_reference_forward() {
    for dims in [
        Dims {
            vocab: 30,
            hidden: 128,
        },
        Dims {
            vocab: 7,
            hidden: 5,
        },
    ] {
        let params = init_params(dims, 9);
        let batch = random_batch(dims.vocab, &[16, 3, 0, 11, 16, 1, 7], 8);
        let p64: Vec<f64> = params.iter().map(|&x| x as f64).collect();
        let (_, want) = reference(dims, &p64, &batch);
        for backend in Backend::all() {
            let got = Engine::with_backend(dims, 2, backend).logits(&params, &batch);
            assert_eq!(got.len(), want.len());
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g as f64 - w).abs() < 1e-5,
                    "logit {i}: {g} vs {w} ({backend:?}, {dims:?})"
                );
            }
        }
    }
}

#[test]
fn empty_batch_gives_zero() {
    let dims = Dims {
        vocab: 5,
        hidden: 4,
    };
    let params = random_params(dims, 1);
    let mut grad = vec![1.0; dims.param_count()];
    let mut engine = Engine::new(dims, 2);
    assert_eq!(
        engine.loss_and_grad(&params, &random_batch(5, &[0, 0], 1), &mut grad),
        0.0
    );
    assert!(grad.iter().all(|&g| g == 0.0));
    assert_eq!(engine.loss(&params, &Batch::default()), 0.0);
}

#[test]
#[should_panic(expected = "outside the vocabulary")]
fn tokens_outside_the_vocabulary_are_rejected() {
    let dims = Dims {
        vocab: 5,
        hidden: 4,
    };
    let params = random_params(dims, 1);
    Engine::new(dims, 1).loss(&params, &random_batch(6, &[40], 1));
}

#[test]
fn adam_steps_learn_a_tiny_batch() {
    let dims = Dims {
        vocab: 10,
        hidden: 16,
    };
    let seqs: [(&[u16], &[u16]); 4] = [
        (&[0, 2, 3, 4], &[2, 3, 4, 1]),
        (&[0, 5, 6], &[5, 6, 1]),
        (&[0, 7, 2, 9, 9, 8], &[7, 2, 9, 9, 8, 1]),
        (&[0, 3, 3], &[3, 3, 1]),
    ];
    let batch = Batch::from_sequences(seqs);
    let tokens = batch.tokens() as f64;
    let mut params = init_params(dims, 2);
    let mut grad = vec![0.0; params.len()];
    let mut adam = Adam::new(params.len());
    let mut engine = Engine::new(dims, 2);
    let first = engine.loss(&params, &batch) / tokens;
    for _ in 0..300 {
        engine.loss_and_grad(&params, &batch, &mut grad);
        clip_grad_norm(&mut grad, 5.0);
        adam.update(&mut params, &grad, 0.02);
    }
    let last = engine.loss(&params, &batch) / tokens;
    // Start near ln(10) = 2.3. The first token of each row is unpredictable (4 rows,
    // 4 different first letters): the floor is 4 ln(4) / 16 = 0.347 nats per token;
    // memorising everything else reaches it.
    let floor = 4.0 * 4f64.ln() / tokens;
    assert!(
        first > 2.0 && last < floor + 0.03,
        "mean loss {first} -> {last}, floor {floor}"
    );
}

#[test]
fn rows_split_by_token_count() {
    let mut ranges = vec![0..0; 2];
    split_rows(&[10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], &mut ranges);
    assert_eq!(ranges, vec![0..1, 1..11]);
    split_rows(&[3, 3, 3, 3], &mut ranges);
    assert_eq!(ranges, vec![0..2, 2..4]);
    let mut three = vec![0..0; 3];
    split_rows(&[5], &mut three);
    // The single row's middle token lies in the second third.
    assert_eq!(three, vec![0..0, 0..1, 1..1]);
    split_rows(&[], &mut three);
    assert_eq!(three, vec![0..0, 0..0, 0..0]);
}

/// Throughput on the target configuration; run with
/// `cargo test --release -p micrornn-trainer engine::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark, several seconds"]
fn bench_throughput() {
    let dims = Dims {
        vocab: 30,
        hidden: 128,
    };
    for threads in [1, 2] {
        let tps = bench_train(dims, threads, 64, 3.0);
        println!("H=128 V=30 batch 64, {threads} thread(s): {tps:.0} tokens/s");
    }
}

#[test]
fn every_backend_gives_the_same_gradient_at_full_size() {
    // H = 128: whole AVX-512 tiles, padded remainder rows, AVX2 edges for V = 30.
    let dims = Dims {
        vocab: 30,
        hidden: 128,
    };
    let params = init_params(dims, 4);
    let lens: Vec<usize> = (0..40).map(|i| 3 + (i * 5) % 14).collect();
    let batch = random_batch(dims.vocab, &lens, 12);
    let mut first: Option<(f64, Vec<f32>)> = None;
    for backend in Backend::all() {
        let mut grad = vec![0.0; dims.param_count()];
        let loss = Engine::with_backend(dims, 2, backend).loss_and_grad(&params, &batch, &mut grad);
        let (want_loss, want) = first.get_or_insert_with(|| (loss, grad.clone()));
        assert!(
            (loss - *want_loss).abs() < 1e-4,
            "loss {loss} vs {want_loss} ({backend:?})"
        );
        for (i, (a, b)) in grad.iter().zip(want.iter()).enumerate() {
            assert!(
                (a - b).abs() < 1e-6 + 1e-4 * b.abs(),
                "{i}: {a} vs {b} ({backend:?})"
            );
        }
    }
}
