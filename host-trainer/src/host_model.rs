//! A model file opened on the host: a quantized `.mrnn` (integer path) or a float
//! `.ckpt` (float path), behind one interface.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use micrornn::cell::rnn::{RnnF, RnnQ, RnnWeights};
use micrornn::vocab::Vocab;
use micrornn::{Model, Net};

use crate::checkpoint::Checkpoint;

/// The bytes of a model, kept so that the quantized model can borrow from them.
#[derive(Debug)]
pub enum HostModel {
    /// A `.mrnn` file, run with the integer-only path (the chip's arithmetic).
    Quantized {
        /// Where it came from.
        path: PathBuf,
        /// The whole file, validated.
        bytes: Vec<u8>,
    },
    /// A `.ckpt` file, run with the float path (its best weights).
    Float {
        /// Where it came from.
        path: PathBuf,
        /// The checkpoint.
        ckpt: Box<Checkpoint>,
        /// Its best weights in the layout of the float RNN path:
        /// `w_in` (`w_x` rows plus `b_x`), `w_hh`, `b_h`, `w_out`, `b_out`.
        rnn: Vec<f32>,
    },
}

/// The best weights of a one-layer one-hot RNN checkpoint in the float RNN path's layout.
fn float_rnn_layout(ckpt: &Checkpoint) -> Result<Vec<f32>> {
    let d = ckpt.dims();
    if crate::quantize::check_exportable(&d).is_err() {
        anyhow::bail!(
            "running {:?} checkpoints with {} layer(s) and embedding {} on the host is not supported yet",
            d.cell,
            d.layers,
            d.embed
        );
    }
    let p = d.split(&ckpt.best);
    let l = &p.layers[0];
    let mut out: Vec<f32> = l
        .w_x
        .chunks_exact(d.hidden)
        .flat_map(|row| row.iter().zip(l.b_x).map(|(w, b)| w + b))
        .collect();
    for t in [l.w_h, l.b_h, p.w_out, p.b_out] {
        out.extend_from_slice(t);
    }
    Ok(out)
}

impl HostModel {
    /// Opens a model file; the kind is read from its first bytes, not its name.
    pub fn open(path: &Path) -> Result<HostModel> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if bytes.starts_with(b"MRNNCKPT") {
            let ckpt =
                Checkpoint::from_bytes(&bytes).with_context(|| format!("{}", path.display()))?;
            let rnn = float_rnn_layout(&ckpt).with_context(|| format!("{}", path.display()))?;
            return Ok(HostModel::Float {
                path: path.to_owned(),
                ckpt: Box::new(ckpt),
                rnn,
            });
        }
        Model::load(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(HostModel::Quantized {
            path: path.to_owned(),
            bytes,
        })
    }

    /// A short name of the arithmetic used.
    pub fn path_kind(&self) -> &'static str {
        match self {
            HostModel::Quantized { .. } => "int8 (integer path)",
            HostModel::Float { .. } => "float (f32 path)",
        }
    }

    /// The sorted characters of the vocabulary.
    pub fn vocab_chars(&self) -> &str {
        match self {
            HostModel::Quantized { bytes, .. } => {
                Model::load(bytes).expect("validated at open").vocab.chars()
            }
            HostModel::Float { ckpt, .. } => &ckpt.vocab,
        }
    }

    /// A fresh runner with its own buffers (one per thread).
    pub fn runner(&self) -> Runner<'_> {
        match self {
            HostModel::Quantized { bytes, .. } => {
                let model = Model::load(bytes).expect("validated at open");
                let (ns, na) = RnnQ::needs(&model);
                Runner::Int {
                    model,
                    state: vec![0; ns],
                    scratch: vec![0; na],
                }
            }
            HostModel::Float { ckpt, rnn, .. } => {
                let (v, h) = (ckpt.dims().vocab, ckpt.dims().hidden);
                let (w_in, rest) = rnn.split_at(v * h);
                let (w_hh, rest) = rest.split_at(h * h);
                let (b_h, rest) = rest.split_at(h);
                let (w_out, b_out) = rest.split_at(v * h);
                let w = RnnWeights {
                    vocab: v,
                    hidden: h,
                    w_in,
                    w_hh,
                    b_h,
                    w_out,
                    b_out,
                };
                let (ns, na) = RnnF::needs(&w);
                Runner::Float {
                    vocab: Vocab::new(&ckpt.vocab).expect("checked at open"),
                    w,
                    state: vec![0.0; ns],
                    scratch: vec![0.0; na],
                }
            }
        }
    }
}

/// A model with the buffers to run it.
#[derive(Debug)]
pub enum Runner<'m> {
    /// Integer-only path.
    Int {
        /// The validated model.
        model: Model<'m>,
        /// Hidden state buffer.
        state: Vec<i16>,
        /// Scratch buffer.
        scratch: Vec<i32>,
    },
    /// Float path.
    Float {
        /// The vocabulary.
        vocab: Vocab<'m>,
        /// The float weights.
        w: RnnWeights<'m>,
        /// Hidden state buffer.
        state: Vec<f32>,
        /// Scratch buffer.
        scratch: Vec<f32>,
    },
}

impl Runner<'_> {
    /// The vocabulary.
    pub fn vocab(&self) -> Vocab<'_> {
        match self {
            Runner::Int { model, .. } => model.vocab,
            Runner::Float { vocab, .. } => *vocab,
        }
    }

    /// Runs `f` with the network (its state reset) and the vocabulary.
    pub fn with_net<R>(&mut self, f: impl FnOnce(&mut dyn Net, &Vocab<'_>) -> R) -> R {
        match self {
            Runner::Int {
                model,
                state,
                scratch,
            } => {
                let mut net = RnnQ::new(*model, state, scratch).expect("buffers sized by needs()");
                f(&mut net, &model.vocab)
            }
            Runner::Float {
                vocab,
                w,
                state,
                scratch,
            } => {
                let mut net = RnnF::new(*w, state, scratch).expect("buffers sized by needs()");
                f(&mut net, vocab)
            }
        }
    }
}

/// Generates `n` names from the model file `bytes` through the integer path, exactly as
/// `micrornn generate` (and the firmware's `gen`) does for this seed and these settings.
pub fn generate_names(
    bytes: &[u8],
    seed: u64,
    settings: &micrornn::sampler::Settings,
    prefix: &str,
    n: usize,
) -> Result<Vec<String>> {
    let model = Model::load(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (ns, na) = RnnQ::needs(&model);
    let (mut state, mut scratch) = (vec![0; ns], vec![0; na]);
    let mut net = RnnQ::new(model, &mut state, &mut scratch).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut logits = vec![0; model.vocab_size()];
    let mut rng = micrornn::rng::Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut s = String::new();
            micrornn::generate::generate(
                &mut net,
                &model.vocab,
                settings,
                prefix,
                &mut rng,
                &mut logits,
                |c| s.push(c),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(s)
        })
        .collect()
}
