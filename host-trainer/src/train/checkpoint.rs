//! The float checkpoint (`.ckpt`): weights, optimizer state and history of a training run.
//!
//! Layout: magic `MRNNCKPT`, format version (u32 LE), the training data's absolute path
//! (a postcard string: varint length, UTF-8 bytes), postcard body, a postcard extension
//! (text column, vocabulary size), CRC-32 (LE) of all bytes before it. Version 2 files (no
//! data path, no extension: character models) still load; the path is then unknown and
//! the extension's fields take their defaults. It records the model's dimensions (cell, task, layers, sizes) and
//! holds the best weights (by validation loss, used by `export`,
//! `eval`, `generate`) and the last weights with Adam's state (used by `--resume`).
//! Nothing in it depends on the clock, so the same run gives the same bytes.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use micrornn::format::Task;

use crate::train::config::TrainConfig;
use crate::train::params::Dims;

const MAGIC: &[u8; 8] = b"MRNNCKPT";
/// Version 3: the data path before the body, so that `--resume` finds the data from any
/// folder, and an [`Extension`] after it (word models); version 2 (still read): the same
/// body alone — any cell, layers and embedding (the dimensions are recorded); version 1
/// held a one-layer vanilla RNN in another parameter layout.
const VERSION: u32 = 3;

/// What version 3 adds after the body: the settings of [`TrainConfig`] that version 2
/// has no room for (postcard records have no optional fields).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Extension {
    /// [`TrainConfig::text_column`].
    text_column: String,
    /// [`TrainConfig::vocab_size`].
    vocab_size: u64,
}

/// Train and validation loss of one epoch (nats per predicted character).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    /// Mean training loss over the epoch.
    pub train: f64,
    /// Validation loss at the end of the epoch (NaN without a validation split).
    pub val: f64,
}

/// A training run's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Sorted distinct characters; for a word model ([`Task::ClassifyWords`]) the
    /// words, sorted in byte order and joined with `\n` (`micrornn::words::WordVocab`).
    pub vocab: String,
    /// Label names of a classifier (index = output), empty for generation.
    pub labels: Vec<String>,
    /// Hyper-parameters of the run.
    pub config: TrainConfig,
    /// The model's dimensions (the layout of every weight vector below).
    pub dims: Dims,
    /// Fingerprint of the training names, to warn when a resumed run reads other data.
    pub data_fingerprint: u64,
    /// Epochs completed.
    pub epochs_done: u32,
    /// Epoch (1-based) whose weights are in `best`.
    pub best_epoch: u32,
    /// Validation loss of `best`.
    pub best_val: f64,
    /// Per-epoch losses.
    pub history: Vec<EpochLoss>,
    /// Best weights (flat, see [`crate::train::params`]).
    pub best: Vec<f32>,
    /// Weights after the last completed epoch.
    pub last: Vec<f32>,
    /// Adam first moments.
    pub adam_m: Vec<f32>,
    /// Adam second moments.
    pub adam_v: Vec<f32>,
    /// Adam steps taken.
    pub adam_step: u64,
}

impl Checkpoint {
    /// Model dimensions.
    pub fn dims(&self) -> Dims {
        self.dims
    }

    /// Encodes the checkpoint.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend(postcard::to_stdvec(&self.config.data).expect("a string encodes"));
        out.extend(postcard::to_stdvec(self).expect("checkpoint encodes"));
        let ext = Extension {
            text_column: self.config.text_column.clone(),
            vocab_size: self.config.vocab_size as u64,
        };
        out.extend(postcard::to_stdvec(&ext).expect("checkpoint encodes"));
        let crc = micrornn::format::crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks a checkpoint.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint> {
        if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
            bail!("not a micrornn checkpoint (bad magic)");
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        if version == 1 {
            bail!("checkpoint version 1 comes from an older micrornn (one-layer vanilla RNN, another weight layout); retrain the model with this version");
        }
        if version != VERSION && version != 2 {
            bail!(
                "unsupported checkpoint version {version} (this micrornn reads version {VERSION})"
            );
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes(crc.try_into().unwrap());
        let computed = micrornn::format::crc32(body);
        if stored != computed {
            bail!("checkpoint is damaged: CRC-32 is {computed:#010x}, file says {stored:#010x}");
        }
        let (data, body) = match version {
            2 => (String::new(), &body[12..]),
            _ => postcard::take_from_bytes::<String>(&body[12..])
                .context("checkpoint header does not decode")?,
        };
        let (mut ck, rest): (Checkpoint, _) =
            postcard::take_from_bytes(body).context("checkpoint body does not decode")?;
        ck.config.data = data;
        if version == VERSION {
            let ext: Extension =
                postcard::from_bytes(rest).context("checkpoint extension does not decode")?;
            ck.config.text_column = ext.text_column;
            ck.config.vocab_size = usize::try_from(ext.vocab_size).unwrap_or(usize::MAX);
        } else if !rest.is_empty() {
            bail!(
                "checkpoint version 2 has {} bytes after its body",
                rest.len()
            );
        } else {
            let d = TrainConfig::default();
            (ck.config.text_column, ck.config.vocab_size) = (d.text_column, d.vocab_size);
        }
        let d = ck.dims;
        d.check().map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?;
        let tokens = if let Task::ClassifyWords { .. } = d.task {
            micrornn::words::WordVocab::new(&ck.vocab)
                .context("checkpoint")?
                .tokens()
        } else {
            micrornn::vocab::Vocab::new(&ck.vocab)
                .context("checkpoint")?
                .tokens()
        };
        let c = &ck.config;
        if d.vocab != tokens
            || (d.cell, d.layers, d.hidden, d.embed, d.task)
                != (c.cell, c.layers, c.hidden, c.embed, c.task)
        {
            bail!("checkpoint: its dimensions {d:?} disagree with its vocabulary or configuration");
        }
        let n = d.param_count();
        for (what, len) in [
            ("best", ck.best.len()),
            ("last", ck.last.len()),
            ("adam_m", ck.adam_m.len()),
            ("adam_v", ck.adam_v.len()),
        ] {
            if len != n {
                bail!("checkpoint: {what} has {len} values, the model needs {n}");
            }
        }
        Ok(ck)
    }

    /// Reads a checkpoint file.
    pub fn read(path: &Path) -> Result<Checkpoint> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Checkpoint::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
    }

    /// Writes a checkpoint file atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::export::atomic::write_atomic(path, &self.to_bytes())
    }
}

/// FNV-1a hash of the names, in order.
pub fn fingerprint(names: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in names.iter().flat_map(|n| n.bytes().chain([b'\n'])) {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Checkpoint {
        let config = TrainConfig {
            cell: micrornn::format::CellKind::Gru,
            hidden: 2,
            layers: 2,
            embed: 3,
            data: "/data/names.txt".into(),
            ..TrainConfig::default()
        };
        let dims = Dims {
            embed: 3,
            ..Dims::generate(micrornn::format::CellKind::Gru, 2, 2, 4)
        };
        let n = dims.param_count();
        Checkpoint {
            vocab: "ab".into(),
            labels: vec!["F".into(), "M".into()],
            config,
            dims,
            data_fingerprint: 7,
            epochs_done: 1,
            best_epoch: 1,
            best_val: 1.5,
            history: vec![EpochLoss {
                train: 2.0,
                val: 1.5,
            }],
            best: vec![0.5; n],
            last: vec![0.25; n],
            adam_m: vec![0.0; n],
            adam_v: vec![0.0; n],
            adam_step: 3,
        }
    }

    #[test]
    fn round_trips_and_detects_damage() {
        let ck = tiny();
        let bytes = ck.to_bytes();
        assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), ck);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            assert!(
                Checkpoint::from_bytes(&bad).is_err(),
                "flip at {i} accepted"
            );
        }
        for n in 0..bytes.len() {
            assert!(
                Checkpoint::from_bytes(&bytes[..n]).is_err(),
                "truncation to {n} accepted"
            );
        }
    }

    #[test]
    fn version_2_files_still_load_and_word_settings_round_trip() {
        // A version 2 file: the same body, no data path, no extension.
        let ck = tiny();
        let mut v2 = MAGIC.to_vec();
        v2.extend_from_slice(&2u32.to_le_bytes());
        v2.extend(postcard::to_stdvec(&ck).unwrap());
        let crc = micrornn::format::crc32(&v2);
        v2.extend_from_slice(&crc.to_le_bytes());
        let read = Checkpoint::from_bytes(&v2).unwrap();
        assert_eq!(read.config.data, "");
        assert_eq!(read.best, ck.best);
        assert_eq!(read.config.hidden, ck.config.hidden);
        assert!(v2.len() < ck.to_bytes().len());
        // A word model keeps its text column and vocabulary size.
        let mut w = tiny();
        w.vocab = "!\nfree\nmoney".into();
        w.dims.task = Task::ClassifyWords { max_words: 9 };
        w.dims.vocab = 5;
        w.config.task = w.dims.task;
        w.config.text_column = "body".into();
        w.config.vocab_size = 3;
        let n = w.dims.param_count();
        (w.best, w.last, w.adam_m, w.adam_v) =
            (vec![0.5; n], vec![0.5; n], vec![0.0; n], vec![0.0; n]);
        assert_eq!(Checkpoint::from_bytes(&w.to_bytes()).unwrap(), w);
        w.vocab = "money\nfree\n!".into();
        assert!(Checkpoint::from_bytes(&w.to_bytes()).is_err());
    }

    #[test]
    fn old_versions_and_inconsistent_dimensions_are_refused_clearly() {
        let mut bytes = tiny().to_bytes();
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        let e = Checkpoint::from_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("version 1") && e.contains("retrain"), "{e}");
        let mut ck = tiny();
        ck.dims.layers = 1;
        let e = Checkpoint::from_bytes(&ck.to_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("disagree"), "{e}");
    }
}
