//! Training end to end: determinism, resume, and the int8 model staying close to float.

use micrornn_tests::{small_names, tiny_config, train_tiny};
use micrornn_trainer::data::names::load_names;
use micrornn_trainer::eval::generator::evaluate;
use micrornn_trainer::eval::host_model::HostModel;
use micrornn_trainer::train::checkpoint::Checkpoint;
use micrornn_trainer::train::run::{train, RunOptions, TrainPaths};

#[test]
fn same_seed_and_threads_give_the_same_checkpoint_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_names(dir.path(), 1500, 37);
    let (a, _) = train_tiny(dir.path(), "a", &data, tiny_config(7, 2, 2));
    let (b, _) = train_tiny(dir.path(), "b", &data, tiny_config(7, 2, 2));
    let (c, _) = train_tiny(dir.path(), "c", &data, tiny_config(8, 2, 2));
    let bytes = |p: &std::path::Path| std::fs::read(p).unwrap();
    assert_eq!(bytes(&a.ckpt()), bytes(&b.ckpt()));
    assert_eq!(bytes(&a.out), bytes(&b.out));
    assert_ne!(bytes(&a.ckpt()), bytes(&c.ckpt()));
}

#[test]
fn resume_continues_to_the_same_bytes_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_names(dir.path(), 1200, 41);
    let (whole, _) = train_tiny(dir.path(), "whole", &data, tiny_config(3, 2, 3));
    // The same run, killed after two epochs, then resumed.
    let part = TrainPaths {
        data: data.clone(),
        out: dir.path().join("part.mrnn"),
    };
    train(
        &part,
        tiny_config(3, 2, 3),
        None,
        RunOptions {
            quiet: true,
            stop_after: Some(2),
        },
    )
    .unwrap();
    let ck = Checkpoint::read(&part.ckpt()).unwrap();
    assert_eq!(ck.epochs_done, 2);
    train(
        &part,
        tiny_config(3, 2, 3),
        Some(ck),
        RunOptions {
            quiet: true,
            stop_after: None,
        },
    )
    .unwrap();
    let a = Checkpoint::read(&whole.ckpt()).unwrap();
    let b = Checkpoint::read(&part.ckpt()).unwrap();
    assert!(
        a.best == b.best && a.last == b.last,
        "weights differ after resume"
    );
    assert_eq!(a.history, b.history);
    assert_eq!(a.to_bytes(), b.to_bytes());
}

#[test]
fn learns_and_int8_stays_within_two_percent_of_float() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_names(dir.path(), 4000, 23);
    let (paths, summary) = train_tiny(dir.path(), "m", &data, tiny_config(1, 2, 4));
    // Uniform over 28 tokens would be ln 28 = 3.33 nats.
    assert!(
        summary.best_val < 2.6,
        "validation loss {}",
        summary.best_val
    );
    let val = load_names(&paths.val_names(), None).unwrap().names;
    let float = evaluate(&HostModel::open(&paths.ckpt()).unwrap(), &val);
    let int8 = evaluate(&HostModel::open(&paths.out).unwrap(), &val);
    assert_eq!(float.tokens, int8.tokens);
    assert!(
        (float.nll - summary.best_val).abs() < 1e-3,
        "{} vs {}",
        float.nll,
        summary.best_val
    );
    let rel = (int8.nll - float.nll).abs() / float.nll;
    assert!(rel < 0.02, "int8 {} float {}", int8.nll, float.nll);
}
