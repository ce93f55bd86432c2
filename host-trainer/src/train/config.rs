//! Training hyper-parameters, with their defaults in one place.

use micrornn::cell::MAX_LAYERS;
use micrornn::format::{CellKind, Task};
use serde::{Deserialize, Serialize};

/// Widest learned embedding `train` accepts.
pub const MAX_EMBED: usize = 512;

/// Everything that shapes a training run; stored in the checkpoint so `--resume` continues it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Next-character generation, name classification, or message classification by
    /// words ([`Task::ClassifyWords`], which holds the words read per message).
    pub task: Task,
    /// The CSV column holding the label (classification).
    pub label_column: String,
    /// Recurrent cell of every layer.
    pub cell: CellKind,
    /// Stacked recurrent layers.
    pub layers: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Width of the learned character embedding; 0 = one-hot input.
    pub embed: usize,
    /// Passes over the training names.
    pub epochs: u32,
    /// Names per mini-batch.
    pub batch: usize,
    /// Peak learning rate of Adam (after warm-up; cosine decay to `lr * LR_FLOOR` at the end).
    pub lr: f32,
    /// Decoupled weight decay (AdamW), per unit of learning rate.
    pub weight_decay: f32,
    /// Largest global gradient norm; larger gradients are scaled down.
    pub clip: f32,
    /// Seed of the initial weights, the validation split and the batch order.
    pub seed: u64,
    /// Worker threads (the result depends on it: same seed and threads → same bytes).
    pub threads: usize,
    /// Fraction of the distinct names held out for validation.
    pub val_frac: f64,
    /// The training data, as an absolute path when a run has started from it (empty when
    /// not known): `--resume` reads it unless `--data` is given, from whatever folder it
    /// runs in. The checkpoint keeps it in its header, not in this struct's encoding
    /// ([`crate::train::checkpoint`]).
    #[serde(skip)]
    pub data: String,
    /// Word classifiers: the CSV column holding each message's text. Not part of the
    /// checkpoint's main record (older checkpoints lack it): stored after it, see
    /// [`crate::train::checkpoint`].
    #[serde(skip)]
    pub text_column: String,
    /// Word classifiers: most words in the vocabulary (the most frequent of the
    /// training split); stored as [`TrainConfig::text_column`] is.
    #[serde(skip)]
    pub vocab_size: usize,
}

/// The learning rate at the end of the cosine schedule, as a fraction of the peak.
pub const LR_FLOOR: f32 = 0.02;
/// Fraction of the steps spent warming the learning rate up linearly.
pub const WARMUP_FRAC: f64 = 0.02;

/// The label column `train --task classify` reads unless told otherwise.
pub const DEFAULT_LABEL_COLUMN: &str = "gender";
/// The text column `train --tokens word` reads unless told otherwise.
pub const DEFAULT_TEXT_COLUMN: &str = "text";
/// The label column `train --tokens word` reads unless told otherwise.
pub const WORDS_LABEL_COLUMN: &str = "label";
/// Default vocabulary size of a word classifier (the most frequent words; the rest
/// are `UNK`).
/// 4000 words cover 87% of the training tokens (2000: 83%); validation accuracy
/// (int8, GRU 64, embedding 32, weight decay 0.3): 0.958 with 2000 words, 0.970 with
/// 4000, 0.966 with 5000.
pub const WORDS_VOCAB_SIZE: usize = 4000;
/// Default number of words a word classifier reads from a message.
pub const WORDS_MAX_WORDS: u16 = 64;
/// Largest `--max-words`.
pub const MAX_MAX_WORDS: usize = 4096;
/// Default hidden units of a word classifier.
pub const WORDS_HIDDEN: usize = 64;
/// Default embedding width of a word classifier.
pub const WORDS_EMBED: usize = 32;
/// Default epochs of a word classifier.
pub const WORDS_EPOCHS: u32 = 12;
/// Default weight decay of a word classifier: it fits the training messages within
/// three epochs and then overfits. Validation accuracy (int8) with 4000 words, by
/// decay: 0.1 → 0.970, 0.3 → 0.970, 1.0 → 0.976, 2.0 → 0.966.
pub const WORDS_WEIGHT_DECAY: f32 = 1.0;
/// Default mini-batch of a word classifier (messages).
pub const WORDS_BATCH: usize = 32;
/// Default peak learning rate of a word classifier.
pub const WORDS_LR: f32 = 0.004;

/// Default cell of a classifier.
pub const CLASSIFY_CELL: CellKind = CellKind::Gru;
/// Default epochs of a classifier.
pub const CLASSIFY_EPOCHS: u32 = 20;
/// Default decoupled weight decay of a classifier: it overfits sooner than a generator
/// (one label per name); decay 0.1 rather than 0.05 gives 0.908 rather than 0.901
/// validation accuracy per name (GRU 128, embedding 32, 20 epochs).
pub const CLASSIFY_WEIGHT_DECAY: f32 = 0.1;

/// Default hidden units of the gated cells: each step costs 3 (GRU) or 4 (LSTM) times
/// the vanilla RNN's, so they default to a smaller state than its 192.
pub const GATED_HIDDEN: usize = 128;
/// Default embedding width of the gated cells.
pub const GATED_EMBED: usize = 32;
/// Default decoupled weight decay of the gated cells. They fit the training names
/// much faster than the vanilla RNN and then overfit. Validation loss (nats per
/// character) at hidden 128, embedding 32, 40 epochs, by decay:
///
/// | decay | 0.01 | 0.05 | 0.1 | 0.17 | 0.3 |
/// |---|---|---|---|---|---|
/// | GRU | 1.9831 | **1.9612** | 1.9663 | | |
/// | LSTM | 1.9736 | **1.9547** | 1.9643 | 1.998 (30 epochs) | 2.045 (30 epochs) |
///
/// (60 epochs at 0.1 gave the LSTM 1.9630: the decay, not the length, is the lever.)
pub const GATED_WEIGHT_DECAY: f32 = 0.05;

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            task: Task::Generate,
            label_column: DEFAULT_LABEL_COLUMN.to_string(),
            cell: CellKind::Rnn,
            layers: 1,
            hidden: 192,
            embed: 0,
            epochs: 40,
            batch: 64,
            lr: 0.004,
            weight_decay: 0.01,
            clip: 1.0,
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            val_frac: 0.1,
            data: String::new(),
            text_column: DEFAULT_TEXT_COLUMN.to_string(),
            vocab_size: WORDS_VOCAB_SIZE,
        }
    }
}

impl TrainConfig {
    /// The defaults for a model of `cell`: [`TrainConfig::default`] for the vanilla
    /// RNN; for the gated cells (GRU, LSTM) hidden [`GATED_HIDDEN`], a learned
    /// embedding of [`GATED_EMBED`] and weight decay [`GATED_WEIGHT_DECAY`].
    pub fn for_cell(cell: CellKind) -> TrainConfig {
        match cell {
            CellKind::Rnn => TrainConfig::default(),
            CellKind::Gru | CellKind::Lstm => TrainConfig {
                cell,
                hidden: GATED_HIDDEN,
                embed: GATED_EMBED,
                weight_decay: GATED_WEIGHT_DECAY,
                ..TrainConfig::default()
            },
        }
    }

    /// The defaults for `task` with `cell` (or the task's default cell): those of
    /// [`TrainConfig::for_cell`]; a classifier defaults to a GRU,
    /// [`CLASSIFY_EPOCHS`] epochs and weight decay [`CLASSIFY_WEIGHT_DECAY`]; a word
    /// classifier to the `WORDS_*` values (GRU, hidden [`WORDS_HIDDEN`], embedding
    /// [`WORDS_EMBED`], [`WORDS_VOCAB_SIZE`] words).
    pub fn for_task(task: Task, cell: Option<CellKind>) -> TrainConfig {
        match task {
            Task::Generate => TrainConfig::for_cell(cell.unwrap_or(CellKind::Rnn)),
            Task::Classify | Task::Seq2seq => TrainConfig {
                task,
                epochs: CLASSIFY_EPOCHS,
                weight_decay: CLASSIFY_WEIGHT_DECAY,
                ..TrainConfig::for_cell(cell.unwrap_or(CLASSIFY_CELL))
            },
            Task::ClassifyWords { .. } => TrainConfig {
                task,
                label_column: WORDS_LABEL_COLUMN.to_string(),
                hidden: WORDS_HIDDEN,
                embed: WORDS_EMBED,
                epochs: WORDS_EPOCHS,
                weight_decay: WORDS_WEIGHT_DECAY,
                batch: WORDS_BATCH,
                lr: WORDS_LR,
                ..TrainConfig::for_cell(cell.unwrap_or(CLASSIFY_CELL))
            },
        }
    }

    /// Learning rate at `step` of `total` steps: linear warm-up, then cosine decay.
    pub fn lr_at(&self, step: u64, total: u64) -> f32 {
        let total = total.max(1) as f64;
        let warm = (total * WARMUP_FRAC).max(1.0);
        let s = step as f64;
        let f = if s < warm {
            (s + 1.0) / warm
        } else {
            let t = ((s - warm) / (total - warm).max(1.0)).min(1.0);
            LR_FLOOR as f64
                + (1.0 - LR_FLOOR as f64) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        };
        self.lr * f as f32
    }

    /// Refuses values that cannot train.
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::bail;
        if !(1..=MAX_LAYERS).contains(&self.layers) {
            bail!("--layers must be in 1..={MAX_LAYERS}");
        }
        if self.hidden == 0 || self.hidden > micrornn::model::MAX_HIDDEN {
            bail!("--hidden must be in 1..={}", micrornn::model::MAX_HIDDEN);
        }
        if self.embed > MAX_EMBED {
            bail!("--embed must be in 0..={MAX_EMBED} (0 = one-hot input)");
        }
        if let Task::ClassifyWords { max_words } = self.task {
            if !(1..=MAX_MAX_WORDS).contains(&(max_words as usize)) {
                bail!("--max-words must be in 1..={MAX_MAX_WORDS}");
            }
            if !(1..=micrornn::words::MAX_WORD_TOKENS - micrornn::words::SPECIALS)
                .contains(&self.vocab_size)
            {
                bail!(
                    "--vocab-size must be in 1..={}",
                    micrornn::words::MAX_WORD_TOKENS - micrornn::words::SPECIALS
                );
            }
            if self.embed == 0 {
                bail!("a word model needs an embedding (--embed 1 or more)");
            }
            if self.text_column.trim().is_empty() {
                bail!("--text-column must name a column");
            }
        }
        if self.task == Task::Seq2seq {
            bail!("this build does not train seq2seq models");
        }
        if self.label_column.trim().is_empty() {
            bail!("--label-column must name a column");
        }
        if self.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if self.batch == 0 {
            bail!("--batch-size must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("--lr must be a positive number");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!("--weight-decay must be a non-negative number");
        }
        if !(self.clip.is_finite() && self.clip > 0.0) {
            bail!("--clip must be a positive number");
        }
        if self.threads == 0 {
            bail!("--threads must be at least 1");
        }
        if !(0.0..1.0).contains(&self.val_frac) || self.val_frac.is_nan() {
            bail!("--val-frac must be in [0, 1)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        let c = TrainConfig {
            lr: 1.0,
            ..TrainConfig::default()
        };
        assert!(c.lr_at(0, 1000) < 0.1);
        assert!((c.lr_at(20, 1000) - 1.0).abs() < 1e-3);
        assert!(c.lr_at(500, 1000) < c.lr_at(100, 1000));
        assert!((c.lr_at(999, 1000) - LR_FLOOR).abs() < 1e-3);
    }

    #[test]
    fn defaults_are_valid_and_bad_values_refused() {
        assert!(TrainConfig::default().validate().is_ok());
        for cell in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm] {
            let c = TrainConfig::for_cell(cell);
            assert_eq!(c.cell, cell);
            assert!(c.validate().is_ok());
        }
        assert!(TrainConfig {
            hidden: 0,
            ..TrainConfig::default()
        }
        .validate()
        .is_err());
        for bad in [
            TrainConfig {
                layers: 0,
                ..TrainConfig::default()
            },
            TrainConfig {
                layers: 5,
                ..TrainConfig::default()
            },
            TrainConfig {
                hidden: 512,
                ..TrainConfig::default()
            },
            TrainConfig {
                embed: 513,
                ..TrainConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert!(TrainConfig {
            cell: CellKind::Lstm,
            layers: 4,
            embed: 512,
            hidden: 511,
            ..TrainConfig::default()
        }
        .validate()
        .is_ok());
        assert!(TrainConfig {
            val_frac: 1.0,
            ..TrainConfig::default()
        }
        .validate()
        .is_err());
        assert!(TrainConfig {
            lr: f32::NAN,
            ..TrainConfig::default()
        }
        .validate()
        .is_err());
    }
}
