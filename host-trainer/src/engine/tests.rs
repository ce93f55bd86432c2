//! Engine tests against the plain f64 reference implementation of the model (`reference.rs`).

use micrornn::format::{CellKind, Task};

use super::reference::reference;
use super::rng::SplitMix64;
use super::*;

const CELLS: [CellKind; 3] = [CellKind::Rnn, CellKind::Gru, CellKind::Lstm];
const TASKS: [Task; 2] = [Task::Generate, Task::Classify];

/// Sizes of a test model; classify models get `outputs = 4`.
fn dims(
    cell: CellKind,
    task: Task,
    layers: usize,
    hidden: usize,
    embed: usize,
    vocab: usize,
) -> Dims {
    Dims {
        cell,
        task,
        layers,
        hidden,
        embed,
        vocab,
        outputs: if task == Task::Generate { vocab } else { 4 },
    }
}

/// A one-layer one-hot RNN for next-token prediction.
fn rnn(hidden: usize, vocab: usize) -> Dims {
    Dims::generate(CellKind::Rnn, 1, hidden, vocab)
}

/// Random parameters, larger than the initialisation so every path carries signal.
fn random_params(dims: Dims, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..dims.param_count()).map(|_| rng.uniform(0.6)).collect()
}

/// A batch for `dims` with rows of the given lengths (0 allowed), random tokens
/// (and labels for classify), padding at 0.
fn random_batch(dims: Dims, lens: &[usize], seed: u64) -> Batch {
    let mut rng = SplitMix64::new(seed);
    let vocab = dims.vocab;
    let mut tokens =
        |len: usize| -> Vec<u16> { (0..len).map(|_| rng.range(0, vocab) as u16).collect() };
    let rows: Vec<(Vec<u16>, Vec<u16>)> =
        lens.iter().map(|&len| (tokens(len), tokens(len))).collect();
    match dims.task {
        Task::Generate => Batch::from_sequences(rows.iter().map(|(i, t)| (&i[..], &t[..]))),
        _ => Batch::from_labelled(
            rows.iter()
                .map(|(i, t)| (&i[..], t.first().map_or(0, |&l| l % dims.outputs as u16))),
        ),
    }
}

fn to_f64(params: &[f32]) -> Vec<f64> {
    params.iter().map(|&x| x as f64).collect()
}

/// Central differences in f64 of the reference mean loss, for every parameter.
fn numeric_gradient(dims: Dims, params: &[f32], batch: &Batch) -> Vec<f64> {
    let count = batch.loss_count() as f64;
    let mut p = to_f64(params);
    let eps = 1e-5;
    (0..p.len())
        .map(|i| {
            let orig = p[i];
            p[i] = orig + eps;
            let up = reference(dims, &p, batch).0;
            p[i] = orig - eps;
            let down = reference(dims, &p, batch).0;
            p[i] = orig;
            (up - down) / (2.0 * eps * count)
        })
        .collect()
}

/// The tensors of a flat vector in layout order, with names.
fn named_tensors(dims: Dims, flat: &[f32]) -> Vec<(String, &[f32])> {
    let p = dims.split(flat);
    let mut out = vec![("emb".to_string(), p.emb)];
    for (l, w) in p.layers[..dims.layers].iter().enumerate() {
        for (name, t) in [
            ("w_x", w.w_x),
            ("b_x", w.b_x),
            ("w_h", w.w_h),
            ("b_h", w.b_h),
        ] {
            out.push((format!("layer {l} {name}"), t));
        }
    }
    out.push(("w_out".into(), p.w_out));
    out.push(("b_out".into(), p.b_out));
    out
}

/// Checks every element of every tensor of the analytic gradient against finite
/// differences, on every backend and on 1 and 2 threads.
fn check_gradient(dims: Dims, lens: &[usize], seed: u64) {
    let params = random_params(dims, seed);
    let batch = random_batch(dims, lens, seed + 1);
    check_gradient_on(dims, &params, &batch);
}

/// [`check_gradient`] for given parameters and batch.
fn check_gradient_on(dims: Dims, params: &[f32], batch: &Batch) {
    let (params, batch) = (params.to_vec(), batch.clone());
    let numeric = numeric_gradient(dims, &params, &batch);
    let want_loss = reference(dims, &to_f64(&params), &batch).0;
    for backend in Backend::all() {
        for threads in [1, 2] {
            let mut engine = Engine::with_backend(dims, threads, backend);
            let mut grad = vec![f32::NAN; dims.param_count()];
            let loss = engine.loss_and_grad(&params, &batch, &mut grad);
            assert!(
                (loss - want_loss).abs() < 1e-5 * want_loss.max(1.0),
                "loss {loss} vs {want_loss} ({dims:?})"
            );
            let mut offset = 0;
            for (name, tensor) in named_tensors(dims, &grad) {
                assert!(
                    tensor.is_empty() || tensor.iter().any(|&x| x != 0.0),
                    "{name} gradient is all zero ({dims:?})"
                );
                for (i, &a) in tensor.iter().enumerate() {
                    let n = numeric[offset + i];
                    assert!(
                        (a as f64 - n).abs() <= 3e-5 + 1e-3 * n.abs(),
                        "{name}[{i}] analytic {a} vs numeric {n} ({backend:?}, {threads} threads, {dims:?})"
                    );
                }
                offset += tensor.len();
            }
        }
    }
}

#[test]
fn gradient_matches_finite_differences_for_every_cell_depth_input_and_task() {
    // Padding in two rows, a one-step row; H = 3 exercises every kernel edge.
    for cell in CELLS {
        for task in TASKS {
            for layers in [1, 2, 3] {
                for embed in [0, 3] {
                    check_gradient(dims(cell, task, layers, 3, embed, 5), &[4, 1, 3], 10);
                }
            }
        }
    }
}

/// A word classifier's sizes: `vocab` words (with PAD 0 and UNK 1), embedding 4, 2 labels.
fn words(cell: CellKind, layers: usize, vocab: usize) -> Dims {
    Dims {
        task: Task::ClassifyWords { max_words: 8 },
        outputs: 2,
        ..dims(cell, Task::Classify, layers, 3, 4, vocab)
    }
}

/// A padded word batch: rows of random ids in `1..vocab` (UNK included, never PAD),
/// padded with PAD (0).
fn word_batch(dims: Dims, lens: &[usize], seed: u64) -> Batch {
    let mut rng = SplitMix64::new(seed);
    let rows: Vec<(Vec<u16>, u16)> = lens
        .iter()
        .map(|&len| {
            let ids = (0..len).map(|_| rng.range(1, dims.vocab) as u16).collect();
            (ids, rng.range(0, 2) as u16)
        })
        .collect();
    Batch::from_labelled(rows.iter().map(|(i, l)| (&i[..], *l)))
}

#[test]
fn gradient_through_a_word_embedding_with_padding_matches_finite_differences() {
    // 40 words and at most 14 tokens a shard: layer 0 gathers the embedding rows of
    // the tokens read, and their gradient goes back into those rows only.
    for cell in CELLS {
        for layers in [1, 2] {
            let d = words(cell, layers, 40);
            let params = random_params(d, 31);
            let batch = word_batch(d, &[5, 2, 6, 1, 0], 32);
            assert!(batch.inputs.contains(&micrornn::words::PAD));
            check_gradient_on(d, &params, &batch);
            let mut grad = vec![f32::NAN; d.param_count()];
            Engine::new(d, 2).loss_and_grad(&params, &batch, &mut grad);
            let emb = d.split(&grad).emb;
            let read: std::collections::HashSet<usize> = (0..batch.rows)
                .flat_map(|n| &batch.inputs[n * batch.steps..][..batch.lens[n]])
                .map(|&x| x as usize)
                .collect();
            for (t, row) in emb.chunks_exact(d.embed).enumerate() {
                let zero = row.iter().all(|&g| g == 0.0);
                assert_eq!(zero, !read.contains(&t), "embedding row {t} ({cell:?})");
            }
            assert!(emb[..d.embed].iter().all(|&g| g == 0.0), "PAD row");
        }
    }
}

#[test]
fn word_embedding_gather_and_table_give_the_same_logits() {
    // The same model and rows, once alone (fewer tokens than words: gathered) and once
    // among many rows (more tokens than words: the (V, G·H) table).
    let d = Dims {
        hidden: 16,
        ..words(CellKind::Gru, 1, 30)
    };
    let params = random_params(d, 41);
    let many = word_batch(d, &[7, 3, 8, 8, 8, 8, 8, 8], 42);
    let row = |n: usize| {
        (
            &many.inputs[n * many.steps..][..many.lens[n]],
            many.labels[n],
        )
    };
    let few = Batch::from_labelled([row(0), row(1)]);
    let mut engine = Engine::new(d, 1);
    let a = engine.logits(&params, &few);
    let b = engine.logits(&params, &many);
    assert_eq!(a.len(), 2 * d.outputs);
    for (x, y) in a.iter().zip(&b[..a.len()]) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
}

#[test]
fn gradient_matches_finite_differences_wider_than_a_tile() {
    // G·H = 76 and 57: a whole 64-wide AVX-512 tile plus edges, row tiles of 6 plus remainders.
    let lens = [8, 3, 8, 1, 5, 7, 2, 8, 6];
    check_gradient(
        dims(CellKind::Lstm, Task::Generate, 1, 19, 0, 11),
        &lens,
        20,
    );
    check_gradient(dims(CellKind::Gru, Task::Classify, 2, 19, 4, 11), &lens, 21);
    check_gradient(rnn(37, 19), &lens, 22);
}

#[test]
fn batched_forward_equals_the_plain_reference_for_every_combination() {
    for cell in CELLS {
        for task in TASKS {
            for layers in [1, 2, 3] {
                for embed in [0, 8] {
                    let dims = dims(cell, task, layers, 32, embed, 12);
                    let params = init_params(dims, 9);
                    let batch = random_batch(dims, &[16, 3, 0, 11, 16, 1, 7, 9], 8);
                    let (_, want) = reference(dims, &to_f64(&params), &batch);
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
        }
    }
}

#[test]
fn logits_match_the_reference_at_full_size() {
    let dims = dims(CellKind::Rnn, Task::Generate, 1, 128, 0, 30);
    let params = init_params(dims, 9);
    let batch = random_batch(dims, &[16, 3, 0, 11, 16, 1, 7], 8);
    let (_, want) = reference(dims, &to_f64(&params), &batch);
    for backend in Backend::all() {
        let got = Engine::with_backend(dims, 2, backend).logits(&params, &batch);
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g as f64 - w).abs() < 1e-5,
                "logit {i}: {g} vs {w} ({backend:?})"
            );
        }
    }
}

#[test]
fn padding_does_not_affect_loss_or_gradient() {
    for (cell, task) in [
        (CellKind::Rnn, Task::Generate),
        (CellKind::Lstm, Task::Classify),
    ] {
        let dims = dims(cell, task, 2, 20, 4, 9);
        let params = random_params(dims, 3);
        let batch = random_batch(dims, &[5, 2, 4, 1], 4);
        let mut altered = batch.clone();
        for n in 0..batch.rows {
            for t in batch.lens[n]..batch.steps {
                altered.inputs[n * batch.steps + t] = 7;
                if task == Task::Generate {
                    altered.targets[n * batch.steps + t] = 3;
                }
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
}

#[test]
fn threads_agree_and_each_count_is_deterministic() {
    for dims in [
        rnn(48, 30),
        dims(CellKind::Gru, Task::Generate, 2, 24, 8, 30),
        dims(CellKind::Lstm, Task::Classify, 2, 24, 8, 30),
    ] {
        let params = random_params(dims, 5);
        let lens: Vec<usize> = (0..23).map(|i| 3 + (i * 7) % 14).collect();
        let batch = random_batch(dims, &lens, 6);
        let small = random_batch(dims, &[2, 9], 7);
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
}

#[test]
fn empty_batch_gives_zero() {
    for task in TASKS {
        let dims = dims(CellKind::Gru, task, 2, 4, 0, 5);
        let params = random_params(dims, 1);
        let mut grad = vec![1.0; dims.param_count()];
        let mut engine = Engine::new(dims, 2);
        let empty_rows = random_batch(dims, &[0, 0], 1);
        assert_eq!(empty_rows.loss_count(), 0);
        assert_eq!(engine.loss_and_grad(&params, &empty_rows, &mut grad), 0.0);
        assert!(grad.iter().all(|&g| g == 0.0));
        assert_eq!(engine.loss(&params, &Batch::default()), 0.0);
    }
}

#[test]
#[should_panic(expected = "outside the vocabulary")]
fn tokens_outside_the_vocabulary_are_rejected() {
    let params = random_params(rnn(4, 5), 1);
    Engine::new(rnn(4, 5), 1).loss(&params, &random_batch(rnn(4, 6), &[40], 1));
}

#[test]
#[should_panic(expected = "one label per row")]
fn a_classify_model_refuses_unlabelled_batches() {
    let d = dims(CellKind::Rnn, Task::Classify, 1, 4, 0, 5);
    let params = random_params(d, 1);
    Engine::new(d, 1).loss(&params, &random_batch(rnn(4, 5), &[3], 1));
}

#[test]
fn adam_steps_learn_a_tiny_batch() {
    let seqs: [(&[u16], &[u16]); 4] = [
        (&[0, 2, 3, 4], &[2, 3, 4, 1]),
        (&[0, 5, 6], &[5, 6, 1]),
        (&[0, 7, 2, 9, 9, 8], &[7, 2, 9, 9, 8, 1]),
        (&[0, 3, 3], &[3, 3, 1]),
    ];
    let batch = Batch::from_sequences(seqs);
    let tokens = batch.tokens() as f64;
    for cell in CELLS {
        let dims = dims(cell, Task::Generate, 2, 16, 4, 10);
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
            "{cell:?}: mean loss {first} -> {last}, floor {floor}"
        );
    }
}

#[test]
fn adam_steps_learn_to_classify() {
    // The label is the row's last character: only memory of the whole row tells.
    let rows: [(&[u16], u16); 6] = [
        (&[0, 2, 3, 4], 0),
        (&[0, 2, 3, 5], 1),
        (&[0, 4, 4, 6, 2], 2),
        (&[0, 3, 5], 1),
        (&[0, 6], 2),
        (&[0, 5, 5, 4], 0),
    ];
    let batch = Batch::from_labelled(rows);
    for cell in CELLS {
        let dims = dims(cell, Task::Classify, 1, 16, 4, 8);
        let dims = Dims { outputs: 3, ..dims };
        let mut params = init_params(dims, 3);
        let mut grad = vec![0.0; params.len()];
        let mut adam = Adam::new(params.len());
        let mut engine = Engine::new(dims, 2);
        for _ in 0..200 {
            engine.loss_and_grad(&params, &batch, &mut grad);
            adam.update(&mut params, &grad, 0.02);
        }
        let mean = engine.loss(&params, &batch) / batch.loss_count() as f64;
        assert!(mean < 0.05, "{cell:?}: mean loss {mean}");
    }
}

#[test]
fn a_train_step_is_gradient_clipping_and_adam_in_sequence() {
    let dims = dims(CellKind::Lstm, Task::Generate, 2, 24, 8, 11);
    let batch = random_batch(dims, &[5, 9, 2, 7, 7, 3], 21);
    for threads in [1, 2, 3] {
        // Without clipping (huge limit) and with it (tiny limit).
        for clip in [1e9f32, 1e-3] {
            let mut params = init_params(dims, 5);
            let mut adam = Adam::new(params.len());
            let mut engine = Engine::new(dims, threads);
            let mut want = params.clone();
            let mut want_adam = adam.clone();
            let mut grad = vec![0.0; params.len()];
            for step in 0..3 {
                let want_loss = engine.loss_and_grad(&want, &batch, &mut grad);
                let want_norm = clip_grad_norm(&mut grad, clip);
                want_adam.update(&mut want, &grad, 0.01);
                let (loss, norm) = engine.train_step(&mut params, &batch, &mut adam, 0.01, clip);
                let exact = clip > 1.0 || threads == 1;
                let case = format!("{threads} thread(s), clip {clip}, step {step}");
                assert_eq!(loss, want_loss, "{case}");
                assert!((norm - want_norm).abs() <= 1e-6 * want_norm, "{case}");
                assert_eq!(adam.step, want_adam.step, "{case}");
                if exact {
                    assert_eq!(norm, want_norm, "{case}");
                    assert_eq!(
                        (&params, &adam.m, &adam.v),
                        (&want, &want_adam.m, &want_adam.v),
                        "{case}"
                    );
                } else {
                    for (a, b) in params.iter().zip(&want) {
                        assert!((a - b).abs() <= 1e-6, "{case}: {a} vs {b}");
                    }
                    // Continue both from the same state.
                    want.copy_from_slice(&params);
                    want_adam = adam.clone();
                }
            }
        }
    }
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

#[test]
fn the_benchmark_reports_ordered_windows() {
    let t = bench_train(rnn(8, 6), 2, 8, 1.0, 0.05);
    assert_eq!(t.windows, 4);
    assert!(
        0.0 < t.slowest && t.slowest <= t.median && t.median <= t.fastest,
        "{t:?}"
    );
}

/// Throughput on the target configurations; run with
/// `cargo test --release -p micrornn-trainer engine::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark, several seconds"]
fn bench_throughput() {
    for dims in [
        rnn(128, 30),
        dims(CellKind::Gru, Task::Generate, 1, 128, 32, 30),
        dims(CellKind::Lstm, Task::Generate, 1, 128, 32, 30),
    ] {
        for threads in [1, 2] {
            let tps = bench_train(dims, threads, 64, 1.0, 3.0);
            println!("{dims:?} batch 64, {threads} thread(s): {tps:?} tokens/s");
        }
    }
}

#[test]
fn every_backend_gives_the_same_gradient_at_full_size() {
    // H = 128: whole AVX-512 tiles, padded remainder rows, AVX2 edges for V = 30.
    for dims in [
        rnn(128, 30),
        dims(CellKind::Lstm, Task::Generate, 2, 128, 32, 30),
    ] {
        let params = init_params(dims, 4);
        let lens: Vec<usize> = (0..40).map(|i| 3 + (i * 5) % 14).collect();
        let batch = random_batch(dims, &lens, 12);
        let mut first: Option<(f64, Vec<f32>)> = None;
        for backend in Backend::all() {
            let mut grad = vec![0.0; dims.param_count()];
            let loss =
                Engine::with_backend(dims, 2, backend).loss_and_grad(&params, &batch, &mut grad);
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
}
