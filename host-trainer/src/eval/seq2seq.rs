//! An encoder–decoder (spelling → phonemes) opened on the host, pronouncing words and
//! scored on a pronunciation dictionary.
//!
//! In: a seq2seq `.mrnn` (run with the chip's integer arithmetic, [`Seq2seqQ`]) or its
//! float checkpoint (`.ckpt`, run with [`Seq2seqF`]); words; a `.dict` file. Out: each
//! word's phoneme ids (greedy, or a beam of `K` with [`beam_search`]) and the
//! phoneme and word error rates ([`ErrorCounts`]), with and without stress digits.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use micrornn::format::Task;
use micrornn::seq2seq::{
    greedy, Phonemes, Seq2seqF, Seq2seqNet, Seq2seqQ, Seq2seqShape, Seq2seqWeights, MAX_OUTPUT,
};
use micrornn::vocab::Vocab;
use micrornn::Model;
use rayon::prelude::*;

use crate::eval::beam::beam_search;
use crate::eval::phoneme_errors::ErrorCounts;
use crate::train::checkpoint::Checkpoint;
use crate::train::seq2seq_ckpt::{is_seq2seq_checkpoint, Seq2seqCheckpoint};

/// A seq2seq model's bytes or float weights, kept so that its networks can borrow them.
#[derive(Debug)]
pub enum Seq2seqModel {
    /// A `.mrnn` file, run with the integer-only network (the chip's arithmetic).
    Quantized {
        /// Where it came from.
        path: PathBuf,
        /// The whole file, validated as a seq2seq model.
        bytes: Vec<u8>,
    },
    /// A float checkpoint, run with the float network.
    Float {
        /// Where it came from.
        path: PathBuf,
        /// The shapes.
        shape: Seq2seqShape,
        /// The flat float parameters (PLAN order), `shape.param_count()` of them.
        params: Vec<f32>,
        /// The spelling's characters (sorted, as `Vocab` takes them).
        chars: String,
        /// The phonemes, `'\n'`-separated (as a model file's labels).
        phonemes: String,
    },
}

impl Seq2seqModel {
    /// Opens a seq2seq model file (`.mrnn`) or checkpoint (`.ckpt`); the kind is read
    /// from the first bytes, not the name. Any other kind of model is an error that says
    /// what it is.
    pub fn open(path: &Path) -> Result<Seq2seqModel> {
        let name = path.display();
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        if is_seq2seq_checkpoint(&bytes) {
            return open_checkpoint(path, &bytes);
        }
        if bytes.starts_with(b"MRNNCKPT") {
            let ckpt = Checkpoint::from_bytes(&bytes).with_context(|| name.to_string())?;
            bail!("{}", wrong_kind(path, ckpt.dims().task));
        }
        let model = Model::load(&bytes).with_context(|| name.to_string())?;
        if model.task() != Task::Seq2seq {
            bail!("{}", wrong_kind(path, model.task()));
        }
        Seq2seqQ::needs(&model).with_context(|| name.to_string())?;
        Ok(Seq2seqModel::Quantized {
            path: path.to_owned(),
            bytes,
        })
    }

    /// Where the model came from.
    pub fn path(&self) -> &Path {
        match self {
            Seq2seqModel::Quantized { path, .. } | Seq2seqModel::Float { path, .. } => path,
        }
    }

    /// A short name of the arithmetic used.
    pub fn path_kind(&self) -> &'static str {
        match self {
            Seq2seqModel::Quantized { .. } => "int8 (integer path)",
            Seq2seqModel::Float { .. } => "float (f32 path)",
        }
    }

    /// The model file: a `.mrnn`'s own bytes, or what a checkpoint quantizes to.
    pub fn model_bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            Seq2seqModel::Quantized { bytes, .. } => Ok(bytes.as_slice().into()),
            Seq2seqModel::Float {
                shape,
                params,
                chars,
                phonemes,
                ..
            } => {
                let w = Seq2seqWeights::from_flat(*shape, params)?;
                let names: Vec<String> = phonemes.split('\n').map(String::from).collect();
                Ok(crate::export::seq2seq::quantize(&w, chars, &names)?.into())
            }
        }
    }

    /// Runs `f` with a fresh network (its own arena) and the phonemes.
    pub fn with_net<R>(
        &self,
        f: impl FnOnce(&mut dyn Seq2seqNet, &Phonemes<'_>) -> Result<R>,
    ) -> Result<R> {
        match self {
            Seq2seqModel::Quantized { bytes, .. } => {
                let model = Model::load(bytes)?;
                let mut arena = vec![0i32; Seq2seqQ::needs(&model)?];
                let mut net = Seq2seqQ::new(&model, &mut arena)?;
                let phonemes = net.phonemes();
                f(&mut net, &phonemes)
            }
            Seq2seqModel::Float {
                shape,
                params,
                chars,
                phonemes,
                ..
            } => {
                let w = Seq2seqWeights::from_flat(*shape, params)?;
                let vocab = Vocab::new(chars)?;
                let phonemes = Phonemes::new(phonemes)?;
                let mut arena = vec![0f32; Seq2seqF::needs(&w)];
                let mut net = Seq2seqF::new(&w, vocab, &mut arena)?;
                f(&mut net, &phonemes)
            }
        }
    }
}

/// The error for a model of another task given where a seq2seq model is needed.
pub fn wrong_kind(path: &Path, task: Task) -> String {
    let what = match task {
        Task::Generate => "generates names",
        Task::Classify => "classifies names",
        Task::ClassifyWords { .. } => "classifies messages",
        Task::Seq2seq => "is an encoder-decoder",
    };
    format!(
        "{} {what}: this needs a seq2seq model (train --task seq2seq)",
        path.display()
    )
}

/// A seq2seq checkpoint's best float weights.
fn open_checkpoint(path: &Path, bytes: &[u8]) -> Result<Seq2seqModel> {
    let ck = Seq2seqCheckpoint::from_bytes(bytes).with_context(|| path.display().to_string())?;
    let d = ck.dims;
    let shape = Seq2seqShape {
        cell: d.cell,
        layers: d.layers,
        hidden: d.hidden,
        embed: d.embed,
        in_tokens: d.vocab,
        out_tokens: d.phonemes + 1,
    };
    let model = Seq2seqModel::Float {
        path: path.to_owned(),
        shape,
        params: ck.best,
        chars: ck.vocab,
        phonemes: ck.phonemes.join("\n"),
    };
    // Every view is checked once here, so that `with_net` cannot fail later on them.
    model
        .with_net(|_, _| Ok(()))
        .with_context(|| path.display().to_string())?;
    Ok(model)
}

/// The phoneme ids of `word`: greedy decoding for `beam` ≤ 1, else a beam of `beam`.
/// Errors (an empty word, one too long, a character the model does not know) name the
/// word.
pub fn decode(net: &mut dyn Seq2seqNet, word: &str, beam: usize) -> Result<Vec<u16>> {
    let ids = if beam <= 1 {
        let mut logits = vec![0; net.out_tokens()];
        let mut ids = [0u16; MAX_OUTPUT];
        let n = greedy(net, word, &mut logits, &mut ids)?;
        ids[..n].to_vec()
    } else {
        beam_search(net, word, beam)?
    };
    Ok(ids)
}

/// The pronunciation line of `word` (`word PH PH …`, the device's line), as
/// [`micrornn::seq2seq::write_line`] writes it.
pub fn line(word: &str, phonemes: &Phonemes<'_>, ids: &[u16]) -> String {
    let mut s = String::new();
    micrornn::seq2seq::write_line(&mut s, word, phonemes, ids).expect("a String takes any line");
    s
}

/// One dictionary word: its spelling and its listed pronunciations (at least one).
pub type Entry = (String, Vec<Vec<String>>);

/// What [`evaluate`] found.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// The error counts of the words scored.
    pub counts: ErrorCounts,
    /// Words left out because the model cannot read them (a character it does not know,
    /// or too long), with the first few of them.
    pub skipped: usize,
    /// Up to 5 of the words left out.
    pub skipped_examples: Vec<String>,
}

/// Words per work item when decoding in parallel (each item has its own network).
const CHUNK: usize = 64;

/// Pronounces every word of `entries` (greedy, or a beam of `beam`) and scores it
/// against its listed pronunciations. Parallel over words; the counts do not depend on
/// the thread count. `progress` is called with the number of words each finished chunk
/// held (from any thread).
pub fn evaluate(
    model: &Seq2seqModel,
    entries: &[Entry],
    beam: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Evaluation> {
    let parts: Vec<Result<(ErrorCounts, Vec<String>)>> = entries
        .par_chunks(CHUNK)
        .map(|chunk| {
            let r = model.with_net(|net, phonemes| {
                let (mut counts, mut skipped) = (ErrorCounts::default(), Vec::new());
                for (word, prons) in chunk {
                    match decode(net, word, beam) {
                        Ok(ids) => {
                            let names: Vec<&str> = ids
                                .iter()
                                .map(|&i| phonemes.name(i).unwrap_or("?"))
                                .collect();
                            counts.add(&names, prons);
                        }
                        Err(e) if is_unreadable(&e) => skipped.push(word.clone()),
                        Err(e) => return Err(e.context(format!("{word:?}"))),
                    }
                }
                Ok((counts, skipped))
            });
            progress(chunk.len());
            r
        })
        .collect();
    let mut out = Evaluation::default();
    for p in parts {
        let (counts, skipped) = p?;
        out.counts = out.counts.merge(counts);
        out.skipped += skipped.len();
        let room = 5 - out.skipped_examples.len().min(5);
        out.skipped_examples.extend(skipped.into_iter().take(room));
    }
    Ok(out)
}

/// Whether a decoding error says the word cannot be read by this model (rather than
/// that something is broken).
fn is_unreadable(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<micrornn::Error>(),
        Some(
            micrornn::Error::UnknownChar { .. }
                | micrornn::Error::InputTooLong { .. }
                | micrornn::Error::BadSetting { what: "empty word" }
        )
    )
}

/// Whether `path` holds a seq2seq model or checkpoint (unreadable or malformed files are
/// not: opening them as any model then gives the error).
pub fn is_seq2seq_file(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    if is_seq2seq_checkpoint(&bytes) {
        return true;
    }
    Model::load(&bytes).is_ok_and(|m| m.task() == Task::Seq2seq)
}
