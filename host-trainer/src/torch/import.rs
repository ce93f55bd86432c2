//! A PyTorch state_dict (safetensors) → a micrornn checkpoint.
//!
//! [`layout::find`] locates the embedding, the recurrent layers and
//! the output layer; the vocabulary (from the flags or the file's metadata) gives the
//! PyTorch id of each micrornn token ([`TokenMap`]); the tensors are copied into the
//! trainer's flat layout ([`crate::train::params`]) with the token rows permuted:
//!
//! | PyTorch | micrornn |
//! |---|---|
//! | embedding (V, E) | `emb` row `t` = row `torch_id[t]` |
//! | `weight_ih_l0` (G·H, V), one-hot input | `w_x` (V, G·H): row `t` = column `torch_id[t]` |
//! | `weight_ih_l{k}`, `weight_hh_l{k}` | `w_x`, `w_h` as they are (same gate order) |
//! | `bias_ih_l{k}`, `bias_hh_l{k}` | `b_x`, `b_h` (zero if the layer has no bias) |
//! | linear `weight` (O, H), `bias` (O) | `w_out`, `b_out`; a generator's rows permuted like `emb` |
//!
//! When the model uses one id for both start and end, micrornn's END takes that id's
//! output row and START's output (never a target, never sampled) gets weights 0 and bias
//! [`SUPPRESSED_LOGIT`], so that it takes no share of the softmax.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use micrornn::format::{CellKind, Task};

use super::layout::{self, Choices, Layout};
use super::safetensors::SafeTensors;
use super::tokens::TokenMap;
use super::{META_CHARS, META_END, META_LABELS, META_START};
use crate::train::checkpoint::Checkpoint;
use crate::train::config::TrainConfig;
use crate::train::params::Dims;

/// The logit given to START when the model shares one id for start and end: e^-30
/// (about 1e-13) of a softmax whose other logits are near 0 is nothing.
pub const SUPPRESSED_LOGIT: f32 = -30.0;

/// What the file alone may not say.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Which tensors are which, when ambiguous; the cell as a check.
    pub choices: Choices,
    /// The characters in the model's id order (start and end ids left out); overrides
    /// the metadata's `micrornn.chars`.
    pub chars: Option<String>,
    /// The start token's id; overrides `micrornn.start`.
    pub start: Option<usize>,
    /// The end token's id; overrides `micrornn.end` (default: the start id).
    pub end: Option<usize>,
    /// A classifier's label names, by output; overrides `micrornn.labels`.
    pub labels: Option<Vec<String>>,
}

/// What an import found, for the command to print.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The checkpoint (best = last = the imported weights; no optimizer state).
    pub ckpt: Checkpoint,
    /// Where the parts were.
    pub layout: Layout,
    /// The token correspondence.
    pub tokens: TokenMap,
}

/// Imports a parsed file.
pub fn import(file: &SafeTensors<'_>, opts: &ImportOptions) -> Result<Imported> {
    // Names appear in the messages below as they are: keep every message one line.
    if let Some(n) = file
        .tensors
        .keys()
        .find(|n| n.chars().any(char::is_control))
    {
        bail!("tensor name {n:?} has a control character");
    }
    let shapes: BTreeMap<String, Vec<usize>> = file
        .tensors
        .iter()
        .map(|(n, t)| (n.clone(), t.shape.clone()))
        .collect();
    let layout = layout::find(&shapes, &opts.choices)?;
    let tokens = token_map(file, opts)?;
    let torch_tokens = match &layout.embedding {
        Some(e) => shapes[e][0],
        None => layout.input,
    };
    if tokens.torch_tokens != torch_tokens {
        bail!(
            "the model has {torch_tokens} token ids ({}), the vocabulary gives {} ({} characters and the start/end token{})",
            match &layout.embedding {
                Some(e) => format!("rows of {e}"),
                None => format!("one-hot input width of {}weight_ih_l0", layout.rnn),
            },
            tokens.torch_tokens,
            tokens.chars.chars().count(),
            if tokens.shared_start_end { "" } else { "s" }
        );
    }
    let labels = labels(file, opts)?;
    let task = if labels.is_empty() {
        if layout.outputs != torch_tokens {
            bail!(
                "the output layer has {} outputs, the vocabulary {torch_tokens} tokens: a generator predicts each token; for a classifier give its labels (--labels)",
                layout.outputs
            );
        }
        Task::Generate
    } else {
        if layout.outputs != labels.len() {
            bail!(
                "the output layer has {} outputs, but {} labels were given",
                layout.outputs,
                labels.len()
            );
        }
        Task::Classify
    };
    let dims = Dims {
        cell: layout.cell,
        task,
        layers: layout.layers,
        hidden: layout.hidden,
        embed: if layout.embedding.is_some() {
            layout.input
        } else {
            0
        },
        vocab: tokens.tokens(),
        outputs: if task == Task::Generate {
            tokens.tokens()
        } else {
            labels.len()
        },
    };
    dims.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let params = fill(file, &layout, &tokens, dims)?;
    let config = TrainConfig {
        task,
        cell: dims.cell,
        layers: dims.layers,
        hidden: dims.hidden,
        embed: dims.embed,
        threads: 1,
        ..TrainConfig::for_task(task, Some(dims.cell))
    };
    let n = params.len();
    let ckpt = Checkpoint {
        vocab: tokens.chars.clone(),
        labels,
        config,
        dims,
        data_fingerprint: 0,
        epochs_done: 0,
        best_epoch: 0,
        best_val: f64::INFINITY,
        history: Vec::new(),
        best: params.clone(),
        last: params,
        adam_m: vec![0.0; n],
        adam_v: vec![0.0; n],
        adam_step: 0,
    };
    Ok(Imported {
        ckpt,
        layout,
        tokens,
    })
}

/// The vocabulary from the options, else the metadata.
fn token_map(file: &SafeTensors<'_>, opts: &ImportOptions) -> Result<TokenMap> {
    let meta = |k: &str| file.metadata.get(k);
    let id = |flag: Option<usize>, key: &str| -> Result<Option<usize>> {
        match (flag, meta(key)) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(s)) => s
                .trim()
                .parse()
                .map(Some)
                .with_context(|| format!("metadata {key} is {s:?}, not a token id")),
            (None, None) => Ok(None),
        }
    };
    let Some(chars) = opts
        .chars
        .as_deref()
        .or(meta(META_CHARS).map(String::as_str))
    else {
        bail!("the file has no vocabulary (metadata {META_CHARS}): give the characters in the model's token order with --chars, and --start/--end");
    };
    let Some(start) = id(opts.start, META_START)? else {
        bail!("the start token's id is not given: --start N (or metadata {META_START})");
    };
    let end = id(opts.end, META_END)?.unwrap_or(start);
    TokenMap::new(chars, start, end)
}

/// A classifier's labels from the options, else the metadata (a JSON list of strings).
fn labels(file: &SafeTensors<'_>, opts: &ImportOptions) -> Result<Vec<String>> {
    let labels = match (&opts.labels, file.metadata.get(META_LABELS)) {
        (Some(l), _) => l.clone(),
        (None, Some(s)) => serde_json::from_str::<Vec<String>>(s)
            .with_context(|| format!("metadata {META_LABELS} is not a JSON list of strings"))?,
        (None, None) => Vec::new(),
    };
    if labels.len() == 1 {
        bail!("a classifier needs at least two labels, got {labels:?}");
    }
    for l in &labels {
        if l.is_empty() || l.contains(['\n', '\r']) {
            bail!("label {l:?} is empty or spans lines");
        }
    }
    Ok(labels)
}

/// The finite f32 values of tensor `name`.
fn values(file: &SafeTensors<'_>, name: &str) -> Result<Vec<f32>> {
    let t = file
        .tensors
        .get(name)
        .with_context(|| format!("missing tensor {name}"))?;
    let v = t.to_f32().with_context(|| format!("tensor {name}"))?;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        bail!(
            "tensor {name} has a value that is not finite ({} at flat index {i})",
            v[i]
        );
    }
    Ok(v)
}

/// The flat parameters of `dims` from the file's tensors.
fn fill(file: &SafeTensors<'_>, l: &Layout, tokens: &TokenMap, dims: Dims) -> Result<Vec<f32>> {
    let mut flat = vec![0.0f32; dims.param_count()];
    let p = dims.split_mut(&mut flat);
    let gh = dims.gates() * dims.hidden;
    let v_torch = tokens.torch_tokens;
    if let Some(e) = &l.embedding {
        let emb = values(file, e)?;
        let w = dims.embed;
        for (t, row) in p.emb.chunks_mut(w).enumerate() {
            let src = tokens.torch_id[t] * w;
            row.copy_from_slice(&emb[src..src + w]);
        }
    }
    for (k, layer) in p.layers.into_iter().take(dims.layers).enumerate() {
        let ih = values(file, &l.rnn_name("weight_ih", k))?;
        if k == 0 && dims.embed == 0 {
            // (G·H, V) → (V, G·H), columns in micrornn's token order.
            for (t, row) in layer.w_x.chunks_mut(gh).enumerate() {
                let col = tokens.torch_id[t];
                for (r, x) in row.iter_mut().enumerate() {
                    *x = ih[r * v_torch + col];
                }
            }
        } else {
            layer.w_x.copy_from_slice(&ih);
        }
        layer
            .w_h
            .copy_from_slice(&values(file, &l.rnn_name("weight_hh", k))?);
        if l.rnn_bias {
            layer
                .b_x
                .copy_from_slice(&values(file, &l.rnn_name("bias_ih", k))?);
            layer
                .b_h
                .copy_from_slice(&values(file, &l.rnn_name("bias_hh", k))?);
        }
    }
    let w_out = values(file, &l.linear_name("weight"))?;
    let b_out = if l.linear_bias {
        values(file, &l.linear_name("bias"))?
    } else {
        vec![0.0; l.outputs]
    };
    let h = dims.hidden;
    if dims.task == Task::Generate {
        for (t, (row, b)) in p.w_out.chunks_mut(h).zip(p.b_out.iter_mut()).enumerate() {
            let src = tokens.torch_id[t];
            if tokens.shared_start_end && t == micrornn::vocab::START as usize {
                row.fill(0.0);
                *b = SUPPRESSED_LOGIT;
                continue;
            }
            row.copy_from_slice(&w_out[src * h..(src + 1) * h]);
            *b = b_out[src];
        }
    } else {
        p.w_out.copy_from_slice(&w_out);
        p.b_out.copy_from_slice(&b_out);
    }
    Ok(flat)
}

/// The cell's name as in messages and metadata (`rnn`, `gru`, `lstm`).
pub fn cell_name(c: CellKind) -> &'static str {
    match c {
        CellKind::Rnn => "rnn",
        CellKind::Gru => "gru",
        CellKind::Lstm => "lstm",
    }
}
