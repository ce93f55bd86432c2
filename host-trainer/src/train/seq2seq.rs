//! Training an encoder–decoder on a pronunciation dictionary (`train --task seq2seq`).
//!
//! Read the `.dict` ([`crate::data::cmudict`]), split by word, build both vocabularies
//! from the training words, then epochs of shuffled mini-batches through
//! [`Seq2seqEngine::train_step`] (Adam, warm-up then cosine decay, clipping). After
//! each epoch: validation loss, and the float model's greedy word and phoneme error
//! rates on the validation words; the best epoch by validation word error rate is kept. Every
//! epoch writes the checkpoint (`OUT.ckpt`) atomically; the validation words go to
//! `OUT.val.dict`; the int8 model (`OUT.mrnn`) is written from the best weights.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use micrornn::format::CellKind;
use micrornn::vocab::Vocab;

use crate::data::cmudict::{phoneme_vocab, read_dict, Pair};
use crate::data::names::shuffle;
use crate::engine::seq2seq::{init_seq2seq, Seq2seqDims, Seq2seqEngine};
use crate::engine::Adam;
use crate::export::atomic::write_atomic;
use crate::train::config::TrainConfig;
use crate::train::run::thousands;
use crate::train::seq2seq_ckpt::{Seq2seqCheckpoint, Seq2seqConfig, Seq2seqEpoch};

/// Default cell (the plan's default model).
pub const SEQ2SEQ_CELL: CellKind = CellKind::Gru;
/// Default decoder width `H` (each encoder direction `H/2`).
pub const SEQ2SEQ_HIDDEN: usize = 256;
/// Default embedding width.
pub const SEQ2SEQ_EMBED: usize = 32;
/// Default layers.
pub const SEQ2SEQ_LAYERS: usize = 1;
/// Default data file.
pub const SEQ2SEQ_DATA: &str = "data/cmudict-train.dict";
/// Default output name (`pronounce.mrnn`, `.ckpt`, `.val.dict`).
pub const SEQ2SEQ_OUT: &str = "pronounce.mrnn";

impl Default for Seq2seqConfig {
    fn default() -> Self {
        Seq2seqConfig {
            // Measured (docs/measurements.md, float greedy WER on the validation words,
            // seed 1, 2 threads): 15 epochs at lr 0.005 without dropout 35.61% (chosen by
            // loss; 35.01% at its best epoch), 30 epochs at lr 0.005 with dropout 0.3
            // 35.07%, these 34.82% (int8 34.79%) in 320–490 s.
            epochs: 30,
            batch: 64,
            lr: 0.008,
            weight_decay: 0.05,
            clip: 1.0,
            dropout: 0.3,
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            val_frac: 0.1,
            data: String::new(),
        }
    }
}

/// The model shape asked for (vocabulary sizes are set from the data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seq2seqShapeArgs {
    /// Cell of every stack.
    pub cell: CellKind,
    /// Layers per stack.
    pub layers: usize,
    /// Decoder width `H` (even).
    pub hidden: usize,
    /// Embedding width.
    pub embed: usize,
}

impl Default for Seq2seqShapeArgs {
    fn default() -> Self {
        Seq2seqShapeArgs {
            cell: SEQ2SEQ_CELL,
            layers: SEQ2SEQ_LAYERS,
            hidden: SEQ2SEQ_HIDDEN,
            embed: SEQ2SEQ_EMBED,
        }
    }
}

/// What a finished run reports.
#[derive(Clone, Debug)]
pub struct Seq2seqSummary {
    /// Best epoch (1-based).
    pub best_epoch: u32,
    /// Its scores.
    pub best: Seq2seqEpoch,
    /// The int8 model's greedy word error rate on the validation words (NaN without).
    pub int8_wer: f64,
    /// The int8 model's greedy phoneme error rate (NaN without).
    pub int8_per: f64,
    /// Training throughput, predicted phonemes (and boundaries) per second.
    pub tokens_per_sec: f64,
    /// Greedy decoding throughput on the validation words, phonemes per second.
    pub decode_per_sec: f64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// The files written.
    pub ckpt: PathBuf,
    /// The validation words.
    pub val_dict: PathBuf,
}

/// Trains a seq2seq model on `data`, writing `out` (`.mrnn`), `out.ckpt`, `out.val.dict`.
/// With `resume`, continues that checkpoint's run from its last epoch (its shape, seed
/// and split; `config.epochs` is the run's total): the files end as an uninterrupted
/// run's would.
pub fn train_seq2seq(
    data: &Path,
    out: &Path,
    shape: Seq2seqShapeArgs,
    mut config: Seq2seqConfig,
    quiet: bool,
    resume: Option<Seq2seqCheckpoint>,
) -> Result<Seq2seqSummary> {
    validate(&shape, &config)?;
    let run_start = Instant::now();
    // ---- data ----
    let dict = read_dict(data)?;
    config.data = std::fs::canonicalize(data)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (train, val) = dict.split(config.val_frac, config.seed);
    if train.words.is_empty() {
        bail!("{}: no words to train on", data.display());
    }
    let chars = train.chars();
    let vocab = Vocab::new(&chars)?;
    let phonemes = phoneme_vocab(&train);
    let (val, unknown) = val.known(&vocab, &phonemes);
    let train_pairs = train.encode(&vocab, &phonemes)?;
    let val_pairs = val.encode(&vocab, &phonemes)?;
    let val_words: Vec<Vec<u16>> = val
        .words
        .iter()
        .map(|w| crate::data::cmudict::encode_word(&w.word, &vocab))
        .collect::<Result<_>>()?;
    let val_refs: Vec<Vec<Vec<u16>>> = val
        .words
        .iter()
        .map(|w| {
            w.prons
                .iter()
                .map(|p| p.iter().map(|ph| phoneme_id(&phonemes, ph)).collect())
                .collect()
        })
        .collect();
    let paths = OutPaths::new(out);
    write_atomic(&paths.val_dict, val.to_text().as_bytes())?;
    let mut notes = Vec::new();
    if dict.skipped_long_words + dict.skipped_long_prons > 0 {
        notes.push(format!(
            "skipped {} words over 32 characters and {} pronunciations over 32 phonemes",
            dict.skipped_long_words, dict.skipped_long_prons
        ));
    }
    if unknown > 0 {
        notes.push(format!(
            "{unknown} validation words left out (a character or phoneme no training word has)"
        ));
    }
    for n in notes {
        println!("{}: {n}", data.display());
    }
    let dims = Seq2seqDims {
        cell: shape.cell,
        layers: shape.layers,
        hidden: shape.hidden,
        embed: shape.embed,
        vocab: vocab.tokens(),
        phonemes: phonemes.len(),
    };
    dims.check().map_err(anyhow::Error::msg)?;

    // ---- model and optimizer ----
    let params = init_seq2seq(dims, config.seed);
    let n = params.len();
    let fresh = Seq2seqCheckpoint {
        dims,
        vocab: chars.clone(),
        phonemes: phonemes.clone(),
        config: config.clone(),
        epochs_done: 0,
        best_epoch: 0,
        best_val: f64::INFINITY,
        history: Vec::new(),
        best: params.clone(),
        last: Vec::new(),
        adam_m: vec![0.0; n],
        adam_v: vec![0.0; n],
        adam_step: 0,
    };
    let mut ck = match resume {
        None => fresh,
        Some(old) => continued(old, fresh, data)?,
    };
    let mut adam = Adam::new(n);
    adam.weight_decay = config.weight_decay;
    let mut params = if ck.epochs_done == 0 {
        params
    } else {
        adam.m = std::mem::take(&mut ck.adam_m);
        adam.v = std::mem::take(&mut ck.adam_v);
        adam.step = ck.adam_step;
        std::mem::take(&mut ck.last)
    };
    let mut engine = Seq2seqEngine::new(dims, config.threads);
    engine.set_dropout(config.dropout, config.seed);
    let steps_per_epoch = train_pairs.len().div_ceil(config.batch) as u64;
    let total_steps = steps_per_epoch * config.epochs as u64;
    let schedule = TrainConfig {
        lr: config.lr,
        ..TrainConfig::default()
    };
    println!(
        "training seq2seq {}: {} layer(s), decoder {} (encoder 2 x {}), embedding {}, {} characters, {} phonemes, {} parameters | {} train words ({} pairs), {} validation words | {} epochs, batch {}, lr {}, weight decay {}, clip {}, dropout {}, seed {}, {} threads",
        format!("{:?}", dims.cell).to_lowercase(),
        dims.layers,
        dims.hidden,
        dims.hidden / 2,
        dims.embed,
        chars.chars().count(),
        phonemes.len(),
        n,
        train.words.len(),
        train_pairs.len(),
        val.words.len(),
        config.epochs,
        config.batch,
        config.lr,
        config.weight_decay,
        config.clip,
        config.dropout,
        config.seed,
        config.threads
    );

    // ---- epochs ----
    let (mut run_tokens, mut run_secs) = (0usize, 0.0f64);
    let (mut dec_tokens, mut dec_secs) = (0usize, 0.0f64);
    if ck.epochs_done > 0 {
        println!(
            "resuming after epoch {} of {} (best so far: epoch {})",
            ck.epochs_done, config.epochs, ck.best_epoch
        );
    }
    for epoch in ck.epochs_done..config.epochs {
        let start = Instant::now();
        let batches = epoch_order(train_pairs.len(), config.batch, config.seed, epoch);
        let (mut loss_sum, mut counted) = (0.0f64, 0usize);
        for (i, idx) in batches.iter().enumerate() {
            let batch: Vec<&Pair> = idx.iter().map(|&i| &train_pairs[i]).collect();
            let lr = schedule.lr_at(adam.step, total_steps);
            loss_sum += engine
                .train_step(&mut params, &batch, &mut adam, lr, config.clip)
                .0;
            counted += batch.iter().map(|p| p.output.len() + 1).sum::<usize>();
            if !quiet && (i % 200 == 199) {
                eprint!(
                    "\repoch {}/{} {}/{} batches  loss {:.4}  {} phonemes/s   ",
                    epoch + 1,
                    config.epochs,
                    i + 1,
                    batches.len(),
                    loss_sum / counted as f64,
                    thousands(counted as f64 / start.elapsed().as_secs_f64())
                );
            }
        }
        if !quiet {
            eprint!("\r{:78}\r", "");
        }
        let secs = start.elapsed().as_secs_f64();
        if !params.iter().all(|p| p.is_finite()) {
            bail!(
                "training diverged in epoch {} (non-finite weights); try a lower --lr",
                epoch + 1
            );
        }
        run_tokens += counted;
        run_secs += secs;
        let train_loss = loss_sum / counted.max(1) as f64;
        let val_loss = validation_loss(&mut engine, &params, &val_pairs);
        let dstart = Instant::now();
        let (wer, per, said) = score_greedy(&mut engine, &params, &val_words, &val_refs);
        dec_secs += dstart.elapsed().as_secs_f64();
        dec_tokens += said;
        // Chosen by what the model is for: words said right, then phonemes, then the
        // loss (loss alone is a poor proxy late in training, when it rises on the words
        // the model gets wrong with confidence).
        let score = if wer.is_nan() { train_loss } else { wer };
        let improved = match ck.history.get(ck.best_epoch.max(1) as usize - 1) {
            Some(b) if !wer.is_nan() && score == ck.best_val => (per, val_loss) < (b.per, b.val),
            _ => score < ck.best_val,
        };
        let stats = Seq2seqEpoch {
            train: train_loss,
            val: val_loss,
            wer,
            per,
        };
        ck.history.push(stats);
        ck.epochs_done = epoch + 1;
        if improved {
            ck.best_val = score;
            ck.best_epoch = epoch + 1;
            ck.best.clone_from(&params);
        }
        println!(
            "epoch {:>3}/{}  train {:.4}  val {:.4}  WER {:.2}%  PER {:.2}% (float greedy)  {} phonemes/s  {:.1} s (elapsed {:.0} s){}",
            epoch + 1,
            config.epochs,
            train_loss,
            val_loss,
            100.0 * wer,
            100.0 * per,
            thousands(counted as f64 / secs),
            secs,
            run_start.elapsed().as_secs_f64(),
            if improved { "  *best" } else { "" }
        );
        ck.last = std::mem::take(&mut params);
        ck.adam_m = std::mem::take(&mut adam.m);
        ck.adam_v = std::mem::take(&mut adam.v);
        ck.adam_step = adam.step;
        ck.write(&paths.ckpt)?;
        if improved {
            write_atomic(out, &ck.export()?)?;
        }
        params = std::mem::take(&mut ck.last);
        adam.m = std::mem::take(&mut ck.adam_m);
        adam.v = std::mem::take(&mut ck.adam_v);
    }
    // Always, though an improving epoch wrote it (a kill between the two files).
    let model = ck.export()?;
    write_atomic(out, &model)?;
    let (int8_wer, int8_per) =
        crate::train::seq2seq_int8::score_int8(&model, &val, &val_refs, config.threads)?;
    if !val.words.is_empty() {
        let b = ck.history[ck.best_epoch.max(1) as usize - 1];
        println!(
            "best epoch {}: validation WER {:.2}% int8 / {:.2}% float, PER {:.2}% int8 / {:.2}% float (greedy, stress included, {} words)",
            ck.best_epoch,
            100.0 * int8_wer,
            100.0 * b.wer,
            100.0 * int8_per,
            100.0 * b.per,
            val.words.len()
        );
    }
    let best = ck.history[ck.best_epoch.max(1) as usize - 1];
    Ok(Seq2seqSummary {
        best_epoch: ck.best_epoch,
        best,
        int8_wer,
        int8_per,
        tokens_per_sec: run_tokens as f64 / run_secs.max(1e-9),
        decode_per_sec: dec_tokens as f64 / dec_secs.max(1e-9),
        seconds: run_start.elapsed().as_secs_f64(),
        ckpt: paths.ckpt,
        val_dict: paths.val_dict,
    })
}

/// The checkpoint `old` to continue, checked against the run `fresh` set up from the
/// same data: same shape and vocabularies, the new settings.
fn continued(
    mut old: Seq2seqCheckpoint,
    fresh: Seq2seqCheckpoint,
    data: &Path,
) -> Result<Seq2seqCheckpoint> {
    if old.dims != fresh.dims || old.vocab != fresh.vocab || old.phonemes != fresh.phonemes {
        bail!(
            "{}: its words give another model than the checkpoint's (shape or vocabularies differ); resume with the data the run was trained on",
            data.display()
        );
    }
    if old.epochs_done >= fresh.config.epochs {
        bail!(
            "the checkpoint has done all {} epochs; give a larger --epochs to train further",
            old.epochs_done
        );
    }
    old.config = fresh.config;
    Ok(old)
}

/// The files beside the model.
struct OutPaths {
    ckpt: PathBuf,
    val_dict: PathBuf,
}

impl OutPaths {
    fn new(out: &Path) -> Self {
        OutPaths {
            ckpt: out.with_extension("ckpt"),
            val_dict: out.with_extension("val.dict"),
        }
    }
}

/// Refuses shapes and settings that cannot train.
fn validate(shape: &Seq2seqShapeArgs, c: &Seq2seqConfig) -> Result<()> {
    if !(1..=micrornn::cell::MAX_LAYERS).contains(&shape.layers) {
        bail!("--layers must be in 1..={}", micrornn::cell::MAX_LAYERS);
    }
    if shape.hidden < 2 || shape.hidden % 2 != 0 || shape.hidden > micrornn::model::MAX_HIDDEN {
        bail!(
            "--hidden must be even and in 2..={} for seq2seq (the encoder's two directions get half each)",
            micrornn::model::MAX_HIDDEN
        );
    }
    if shape.embed == 0 || shape.embed > crate::train::config::MAX_EMBED {
        bail!(
            "--embed must be in 1..={} for seq2seq",
            crate::train::config::MAX_EMBED
        );
    }
    if c.epochs == 0 || c.batch == 0 || c.threads == 0 {
        bail!("--epochs, --batch-size and --threads must be at least 1");
    }
    if !(c.lr.is_finite() && c.lr > 0.0 && c.clip.is_finite() && c.clip > 0.0) {
        bail!("--lr and --clip must be positive numbers");
    }
    if !(c.weight_decay.is_finite() && c.weight_decay >= 0.0) {
        bail!("--weight-decay must be a non-negative number");
    }
    if !(c.dropout.is_finite() && (0.0..1.0).contains(&c.dropout)) {
        bail!("--dropout must be in [0, 1)");
    }
    if !(0.0..1.0).contains(&c.val_frac) {
        bail!("--val-frac must be in [0, 1)");
    }
    Ok(())
}

/// The batches of one epoch: indices in an order fixed by `(seed, epoch)`.
fn epoch_order(n: usize, batch: usize, seed: u64, epoch: u32) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(
        &mut order,
        seed ^ (epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    order.chunks(batch).map(<[usize]>::to_vec).collect()
}

/// Words per greedy-decoding call (each call runs until its longest word ends).
const GREEDY_CHUNK: usize = 256;

/// Rows per validation batch.
const VAL_BATCH: usize = 512;

/// Mean NLL per predicted token over `pairs`; NaN without any.
fn validation_loss(engine: &mut Seq2seqEngine, params: &[f32], pairs: &[Pair]) -> f64 {
    let count: usize = pairs.iter().map(|p| p.output.len() + 1).sum();
    if count == 0 {
        return f64::NAN;
    }
    let sum: f64 = pairs
        .chunks(VAL_BATCH)
        .map(|c| engine.loss(params, &c.iter().collect::<Vec<_>>()))
        .sum();
    sum / count as f64
}

/// Float greedy word and phoneme error rates on `words` (their ids) against `refs`
/// (each word's pronunciations as phoneme ids)
/// (a word is right when equal to any of its pronunciations; its phoneme errors
/// count against the closest), and the phonemes said. NaN without words.
fn score_greedy(
    engine: &mut Seq2seqEngine,
    params: &[f32],
    words: &[Vec<u16>],
    refs: &[Vec<Vec<u16>>],
) -> (f64, f64, usize) {
    if words.is_empty() {
        return (f64::NAN, f64::NAN, 0);
    }
    let (mut wrong, mut errors, mut length, mut said) = (0usize, 0usize, 0usize, 0usize);
    // By spelling length, so that the words of a chunk end at about the same step.
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by_key(|&i| (words[i].len(), i));
    for chunk in order.chunks(GREEDY_CHUNK) {
        let rows: Vec<&[u16]> = chunk.iter().map(|&i| words[i].as_slice()).collect();
        let got = engine.greedy(params, &rows);
        for (g, prons) in got.iter().zip(chunk.iter().map(|&i| &refs[i])) {
            said += g.len() + 1;
            let (dist, len) = prons
                .iter()
                .map(|p| (edit_distance(g, p), p.len()))
                .min()
                .expect("a pronunciation");
            wrong += usize::from(dist > 0);
            errors += dist;
            length += len;
        }
    }
    (
        wrong as f64 / words.len() as f64,
        errors as f64 / length.max(1) as f64,
        said,
    )
}

/// The id of a phoneme the vocabulary has (checked by [`crate::data::cmudict::Dict::known`]).
fn phoneme_id(phonemes: &[String], ph: &str) -> u16 {
    phonemes
        .binary_search_by(|p| p.as_str().cmp(ph))
        .expect("a known phoneme") as u16
}

/// Levenshtein distance between two id sequences.
pub fn edit_distance(a: &[u16], b: &[u16]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let next = (diag + usize::from(x != y))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
