//! The float checkpoint of a seq2seq run (`.ckpt`): shape, vocabularies, weights,
//! optimizer state and history.
//!
//! Layout: magic `MRNNS2SC`, format version (u32 LE), a postcard body
//! ([`Seq2seqCheckpoint`]), CRC-32 (LE) of all bytes before it. Its magic differs from
//! the character models' (`MRNNCKPT`), so each reader refuses the other's files by
//! their first bytes ([`is_seq2seq_checkpoint`]). Nothing in it depends on the clock.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::engine::seq2seq::Seq2seqDims;

const MAGIC: &[u8; 8] = b"MRNNS2SC";
// 2: `Seq2seqConfig::dropout`; `best_val` is the selection score.
const VERSION: u32 = 2;

/// Hyper-parameters of a seq2seq run (defaults: its `Default`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2seqConfig {
    /// Epochs (passes over the training pairs).
    pub epochs: u32,
    /// Pairs per mini-batch.
    pub batch: usize,
    /// Peak learning rate (warm-up, then cosine decay).
    pub lr: f32,
    /// Decoupled weight decay per unit of learning rate.
    pub weight_decay: f32,
    /// Largest global gradient norm.
    pub clip: f32,
    /// Dropout on the output layer's input `[h ; c]` in training, in `[0, 1)`.
    pub dropout: f32,
    /// Seed of the weights, the split and the batch order.
    pub seed: u64,
    /// Threads (same seed and threads: same bytes).
    pub threads: usize,
    /// Fraction of the words held out for validation.
    pub val_frac: f64,
    /// The training data's absolute path (empty when unknown).
    pub data: String,
}

/// Losses and scores of one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2seqEpoch {
    /// Mean training loss, nats per predicted token.
    pub train: f64,
    /// Validation loss (NaN without validation words).
    pub val: f64,
    /// Float greedy word error rate on the validation words (NaN without).
    pub wer: f64,
    /// Float greedy phoneme error rate (NaN without).
    pub per: f64,
}

/// A seq2seq training run's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2seqCheckpoint {
    /// The model's shape: the layout of every weight vector below.
    pub dims: Seq2seqDims,
    /// The input characters, sorted (a `micrornn::vocab::Vocab` string).
    pub vocab: String,
    /// The phonemes, sorted: phoneme id `i` is `phonemes[i]`; id `len` is the boundary.
    pub phonemes: Vec<String>,
    /// Hyper-parameters.
    pub config: Seq2seqConfig,
    /// Epochs completed.
    pub epochs_done: u32,
    /// Epoch (1-based) whose weights are in `best`.
    pub best_epoch: u32,
    /// The score `best` was chosen by, lower is better: its float greedy word error
    /// rate on the validation words, or its training loss without validation words.
    pub best_val: f64,
    /// Per epoch.
    pub history: Vec<Seq2seqEpoch>,
    /// Best weights, flat in the plan's order ([`crate::engine::seq2seq`]).
    pub best: Vec<f32>,
    /// Weights after the last epoch.
    pub last: Vec<f32>,
    /// Adam first moments.
    pub adam_m: Vec<f32>,
    /// Adam second moments.
    pub adam_v: Vec<f32>,
    /// Adam steps taken.
    pub adam_step: u64,
}

/// Whether `bytes` start like a seq2seq checkpoint.
pub fn is_seq2seq_checkpoint(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// What a seq2seq model is, apart from its weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Seq2seqMeta {
    /// Shape (cell, layers, H, E, input tokens, phonemes).
    pub dims: Seq2seqDims,
    /// Sorted input characters.
    pub vocab: String,
    /// Sorted phonemes (id = index; boundary = `phonemes.len()`).
    pub phonemes: Vec<String>,
}

/// Reads a seq2seq checkpoint's best weights: `(meta, params)`, `params` flat in the
/// plan's order (`enc_fwd`, `enc_bwd`, `dec`, `w_out`, `b_out`).
pub fn load_seq2seq(path: &Path) -> Result<(Seq2seqMeta, Vec<f32>)> {
    let ck = Seq2seqCheckpoint::read(path)?;
    let meta = Seq2seqMeta {
        dims: ck.dims,
        vocab: ck.vocab,
        phonemes: ck.phonemes,
    };
    Ok((meta, ck.best))
}

/// `shared`'s shape of a model of `dims`.
pub fn shape_of(dims: &Seq2seqDims) -> micrornn::seq2seq::Seq2seqShape {
    micrornn::seq2seq::Seq2seqShape {
        cell: dims.cell,
        layers: dims.layers,
        hidden: dims.hidden,
        embed: dims.embed,
        in_tokens: dims.vocab,
        out_tokens: dims.tokens_out(),
    }
}

impl Seq2seqCheckpoint {
    /// The int8 model file of the best weights (`export::seq2seq::quantize`).
    pub fn export(&self) -> Result<Vec<u8>> {
        let w = micrornn::seq2seq::Seq2seqWeights::from_flat(shape_of(&self.dims), &self.best)
            .map_err(|e| anyhow::anyhow!("checkpoint weights: {e}"))?;
        crate::export::seq2seq::quantize(&w, &self.vocab, &self.phonemes)
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
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < MAGIC.len() + 8 || !is_seq2seq_checkpoint(bytes) {
            bail!("not a micrornn seq2seq checkpoint (bad magic)");
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            bail!(
                "unsupported seq2seq checkpoint version {version} (this micrornn reads {VERSION})"
            );
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
        let computed = micrornn::format::crc32(body);
        if stored != computed {
            bail!("checkpoint is damaged: CRC-32 is {computed:#010x}, file says {stored:#010x}");
        }
        let ck: Seq2seqCheckpoint =
            postcard::from_bytes(&body[12..]).context("checkpoint body does not decode")?;
        let d = ck.dims;
        d.check().map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?;
        let vocab = micrornn::vocab::Vocab::new(&ck.vocab).context("checkpoint vocabulary")?;
        if vocab.tokens() != d.vocab || ck.phonemes.len() != d.phonemes {
            bail!("checkpoint: vocabularies do not match the model's shape");
        }
        let n = d.param_count();
        if [&ck.best, &ck.last, &ck.adam_m, &ck.adam_v]
            .iter()
            .any(|v| v.len() != n)
        {
            bail!("checkpoint: a weight vector is not {n} long");
        }
        Ok(ck)
    }

    /// Reads a checkpoint file.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| format!("{}", path.display()))
    }

    /// Writes the checkpoint atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::export::atomic::write_atomic(path, &self.to_bytes())
    }
}
