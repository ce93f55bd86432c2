//! The float checkpoint (`.ckpt`): weights, optimizer state and history of a training run.
//!
//! Layout: magic `MRNNCKPT`, format version (u32 LE), postcard body, CRC-32 (LE) of all
//! bytes before it. It records the model's dimensions (cell, task, layers, sizes) and
//! holds the best weights (by validation loss, used by `export`,
//! `eval`, `generate`) and the last weights with Adam's state (used by `--resume`).
//! Nothing in it depends on the clock, so the same run gives the same bytes.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::train::config::TrainConfig;
use crate::train::params::Dims;

const MAGIC: &[u8; 8] = b"MRNNCKPT";
/// Version 2: any cell, layers and embedding (the dimensions are recorded); version 1
/// held a one-layer vanilla RNN in another parameter layout.
const VERSION: u32 = 2;

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
    /// Sorted distinct characters.
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
        out.extend(postcard::to_stdvec(self).expect("checkpoint encodes"));
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
        if version != VERSION {
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
        let ck: Checkpoint =
            postcard::from_bytes(&body[12..]).context("checkpoint body does not decode")?;
        micrornn::vocab::Vocab::new(&ck.vocab).context("checkpoint")?;
        let d = ck.dims;
        d.check().map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?;
        let c = &ck.config;
        if d.vocab != ck.vocab.chars().count() + micrornn::vocab::SPECIALS
            || (d.cell, d.layers, d.hidden, d.embed) != (c.cell, c.layers, c.hidden, c.embed)
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
