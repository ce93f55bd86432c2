//! A model file opened on the host: a quantized `.mrnn` (integer network) or a float
//! `.ckpt` (float network), behind one interface, for any cell, layer count and task.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use micrornn::cell::{FloatWeights, NetF, NetQ};
use micrornn::format::Task;
use micrornn::vocab::Vocab;
use micrornn::{Model, Net};

use crate::train::checkpoint::Checkpoint;
use crate::train::params::Dims;

/// The float weights in the trainer's flat parameters `params` of sizes `dims`.
pub fn float_weights(dims: Dims, params: &[f32]) -> FloatWeights<'_> {
    dims.split(params)
}

/// The best float weights of a checkpoint (see [`float_weights`]).
pub fn checkpoint_weights(ckpt: &Checkpoint) -> FloatWeights<'_> {
    float_weights(ckpt.dims(), &ckpt.best)
}

/// The task and labels of a checkpoint.
pub fn checkpoint_task(ckpt: &Checkpoint) -> (Task, Vec<String>) {
    (ckpt.dims().task, ckpt.labels.clone())
}

/// The model file a checkpoint's best weights export to.
pub fn export_checkpoint(ckpt: &Checkpoint) -> Result<Vec<u8>> {
    let (task, labels) = checkpoint_task(ckpt);
    crate::export::quantize::export(&checkpoint_weights(ckpt), task, &ckpt.vocab, &labels)
}

/// The bytes of a model, kept so that the quantized model can borrow from them.
#[derive(Debug)]
pub enum HostModel {
    /// A `.mrnn` file, run with the integer-only network (the chip's arithmetic).
    Quantized {
        /// Where it came from.
        path: PathBuf,
        /// The whole file, validated.
        bytes: Vec<u8>,
    },
    /// A `.ckpt` file, run with the float network (its best weights).
    Float {
        /// Where it came from.
        path: PathBuf,
        /// The checkpoint.
        ckpt: Box<Checkpoint>,
    },
}

impl HostModel {
    /// Opens a model file; the kind is read from its first bytes, not its name.
    pub fn open(path: &Path) -> Result<HostModel> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if bytes.starts_with(b"MRNNCKPT") {
            let ckpt =
                Checkpoint::from_bytes(&bytes).with_context(|| format!("{}", path.display()))?;
            if !checkpoint_weights(&ckpt).is_consistent() {
                anyhow::bail!("{}: weights do not match their sizes", path.display());
            }
            return Ok(HostModel::Float {
                path: path.to_owned(),
                ckpt: Box::new(ckpt),
            });
        }
        Model::load(&bytes).with_context(|| path.display().to_string())?;
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

    /// The word vocabulary (words joined with `\n`) and the words read per message, of
    /// a word classifier ([`Task::ClassifyWords`]); `None` for character models.
    pub fn word_vocab(&self) -> Option<(&str, usize)> {
        match self {
            HostModel::Quantized { bytes, .. } => {
                let model = Model::load(bytes).expect("validated at open");
                let words = model.word_vocab()?.as_str();
                Some((words, model.max_words()?))
            }
            HostModel::Float { ckpt, .. } => match ckpt.dims().task {
                Task::ClassifyWords { max_words } => Some((&ckpt.vocab, max_words as usize)),
                _ => None,
            },
        }
    }

    /// The sorted characters of the vocabulary (empty for a word classifier).
    pub fn vocab_chars(&self) -> &str {
        match self {
            HostModel::Quantized { bytes, .. } => {
                Model::load(bytes).expect("validated at open").vocab.chars()
            }
            HostModel::Float { ckpt, .. } => match ckpt.dims().task {
                Task::ClassifyWords { .. } => "",
                _ => &ckpt.vocab,
            },
        }
    }

    /// The task: generation or classification.
    pub fn task(&self) -> Task {
        match self {
            HostModel::Quantized { bytes, .. } => Model::load(bytes).expect("validated").task(),
            HostModel::Float { ckpt, .. } => checkpoint_task(ckpt).0,
        }
    }

    /// The label names of a classifier (index = output), empty for a generator.
    pub fn labels(&self) -> Vec<String> {
        match self {
            HostModel::Quantized { bytes, .. } => Model::load(bytes)
                .expect("validated")
                .labels()
                .map(String::from)
                .collect(),
            HostModel::Float { ckpt, .. } => ckpt.labels.clone(),
        }
    }

    /// A fresh runner with its own buffers (one per thread).
    pub fn runner(&self) -> Runner<'_> {
        match self {
            HostModel::Quantized { bytes, .. } => {
                let model = Model::load(bytes).expect("validated at open");
                Runner::Int {
                    arena: vec![0; NetQ::needs_for_speed(&model)],
                    model: Box::new(model),
                }
            }
            HostModel::Float { ckpt, .. } => {
                let w = checkpoint_weights(ckpt);
                // A word model has no characters: its float network gets the empty
                // character vocabulary, as its int8 model holds.
                let vocab = match ckpt.dims().task {
                    Task::ClassifyWords { .. } => Vocab::EMPTY,
                    _ => Vocab::new(&ckpt.vocab).expect("checked at open"),
                };
                Runner::Float {
                    vocab,
                    arena: vec![0.0; NetF::needs(&w)],
                    w: Box::new(w),
                }
            }
        }
    }
}

/// A model with the buffers to run it.
#[derive(Debug)]
pub enum Runner<'m> {
    /// Integer-only network.
    Int {
        /// The validated model.
        model: Box<Model<'m>>,
        /// The network's arena.
        arena: Vec<i32>,
    },
    /// Float network.
    Float {
        /// The vocabulary.
        vocab: Vocab<'m>,
        /// The float weights.
        w: Box<FloatWeights<'m>>,
        /// The network's arena.
        arena: Vec<f32>,
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

    /// Number of outputs of the network.
    pub fn outputs(&self) -> usize {
        match self {
            Runner::Int { model, .. } => model.outputs(),
            Runner::Float { w, .. } => w.outputs,
        }
    }

    /// Runs `f` with the network (its state reset) and the vocabulary.
    pub fn with_net<R>(&mut self, f: impl FnOnce(&mut dyn Net, &Vocab<'_>) -> R) -> R {
        match self {
            Runner::Int { model, arena } => {
                let mut net = NetQ::new(model, arena).expect("arena sized by needs()");
                f(&mut net, &model.vocab)
            }
            Runner::Float { vocab, w, arena } => {
                let mut net = NetF::new(**w, arena).expect("arena sized by needs()");
                f(&mut net, vocab)
            }
        }
    }
}

/// Generates `n` names from the model file `bytes` through the integer network, exactly
/// as `micrornn generate` (and the firmware's `gen`) does for this seed and these settings.
pub fn generate_names(
    bytes: &[u8],
    seed: u64,
    settings: &micrornn::sampler::Settings,
    prefix: &str,
    n: usize,
) -> Result<Vec<String>> {
    let model = Model::load(bytes)?;
    let mut arena = vec![0; NetQ::needs(&model)];
    let mut net = NetQ::new(&model, &mut arena)?;
    let mut logits = vec![0; model.outputs()];
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
            )?;
            Ok(s)
        })
        .collect()
}
