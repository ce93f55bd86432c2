//! Finding an `Embedding → RNN/GRU/LSTM → Linear` model among a state_dict's tensors by
//! PyTorch's names and the shapes that connect them.
//!
//! - the recurrent layer: `<P>weight_ih_l{k}`, `<P>weight_hh_l{k}` and, unless it was built
//!   with `bias=False`, `<P>bias_ih_l{k}`, `<P>bias_hh_l{k}` for `k = 0..L`; `weight_hh_l0`
//!   of shape (G·H, H) gives the cell (G = 1 RNN, 3 GRU, 4 LSTM) and H; or one cell module
//!   (`nn.GRUCell` …) with the same names without `_l{k}`;
//! - the output layer: `<Q>weight` (O, H) with `<Q>bias` (O);
//! - the embedding: a (V, E) tensor whose E is `weight_ih_l0`'s input width; none means
//!   one-hot input (V = the input width).
//!
//! `P`, `Q` and the embedding's name are the module names the model gave them. When more
//! than one tensor fits a role the candidates are named and the caller chooses
//! (`--rnn`, `--linear`, `--embedding`). A tensor that fits no role is refused: a model
//! with more layers than these would not compute what micrornn computes.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use micrornn::cell::MAX_LAYERS;
use micrornn::format::CellKind;

/// The caller's choices when the names alone are ambiguous.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    /// The recurrent module's name (`rnn` for `rnn.weight_ih_l0`; empty for a bare
    /// `nn.GRU`'s own state_dict).
    pub rnn: Option<String>,
    /// The output `nn.Linear`'s name.
    pub linear: Option<String>,
    /// The embedding tensor's full name (e.g. `emb.weight`).
    pub embedding: Option<String>,
    /// The cell, as a check of the one the shapes give.
    pub cell: Option<CellKind>,
}

/// Where each part of the model is, and its sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The recurrent module's name prefix, with its trailing `.` (empty for none).
    pub rnn: String,
    /// Whether it is a cell module (`nn.GRUCell` …: `weight_ih`, no `_l{k}` suffix).
    pub cell_module: bool,
    /// The cell.
    pub cell: CellKind,
    /// Stacked layers `L`.
    pub layers: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// Layer 0's input width (E, or V for one-hot input).
    pub input: usize,
    /// Whether the recurrent layers have biases.
    pub rnn_bias: bool,
    /// The embedding tensor's name; `None` for one-hot input.
    pub embedding: Option<String>,
    /// The output module's name prefix, with its trailing `.` (empty for none).
    pub linear: String,
    /// Whether the output layer has a bias.
    pub linear_bias: bool,
    /// Outputs `O`.
    pub outputs: usize,
}

impl Layout {
    /// The name of recurrent tensor `what` (`weight_ih`, …) of layer `k`.
    pub fn rnn_name(&self, what: &str, k: usize) -> String {
        if self.cell_module {
            format!("{}{what}", self.rnn)
        } else {
            format!("{}{what}_l{k}", self.rnn)
        }
    }

    /// The name of the output layer's `weight` or `bias`.
    pub fn linear_name(&self, what: &str) -> String {
        format!("{}{what}", self.linear)
    }
}

/// `name` as a prefix: empty, or ending with one `.`.
fn prefix(name: &str) -> String {
    let n = name.trim_end_matches('.');
    if n.is_empty() {
        String::new()
    } else {
        format!("{n}.")
    }
}

/// Shows a prefix for messages (`rnn`, or `(top level)`).
fn shown(p: &str) -> String {
    if p.is_empty() {
        "(top level)".into()
    } else {
        p.trim_end_matches('.').to_string()
    }
}

/// Finds the model in `shapes` (every tensor's name and shape).
pub fn find(shapes: &BTreeMap<String, Vec<usize>>, choices: &Choices) -> Result<Layout> {
    for name in shapes.keys() {
        if name.contains("weight_ih_l") && name.ends_with("_reverse") {
            bail!("tensor {name:?} is the reverse direction of a bidirectional layer; micrornn runs one direction (bidirectional=False)");
        }
        if name.contains("weight_hr_l") {
            bail!("tensor {name:?} is an LSTM projection (proj_size > 0); micrornn's LSTM has none (proj_size=0)");
        }
    }
    let shape = |n: &str| shapes.get(n).map(Vec::as_slice);
    let mut used = BTreeSet::new();

    // ---- the recurrent module ----
    // `<P>weight_ih_l{k}` (nn.RNN, nn.GRU, nn.LSTM), or `<P>weight_ih` (nn.RNNCell,
    // nn.GRUCell, nn.LSTMCell: one layer, the same math run by the model's own loop).
    let (rnn, cell_module) = match &choices.rnn {
        Some(r) => {
            let p = prefix(r);
            if shapes.contains_key(&format!("{p}weight_ih_l0")) {
                (p, false)
            } else if shapes.contains_key(&format!("{p}weight_ih")) {
                (p, true)
            } else {
                bail!("--rnn {r}: no tensor {p}weight_ih_l0 (or {p}weight_ih) in the file");
            }
        }
        None => {
            let found: Vec<(String, bool)> = shapes
                .keys()
                .filter_map(|n| {
                    n.strip_suffix("weight_ih_l0")
                        .map(|p| (p, false))
                        .or_else(|| n.strip_suffix("weight_ih").map(|p| (p, true)))
                })
                .filter(|(p, _)| p.is_empty() || p.ends_with('.'))
                .map(|(p, c)| (p.to_string(), c))
                .collect();
            match &found[..] {
                [] => bail!("no recurrent layer: no tensor named <module>.weight_ih_l0 (nn.RNN, nn.GRU or nn.LSTM) or <module>.weight_ih (nn.RNNCell, nn.GRUCell or nn.LSTMCell)"),
                [p] => p.clone(),
                _ => bail!(
                    "ambiguous: recurrent layers at {}; choose one with --rnn",
                    found.iter().map(|(p, _)| shown(p)).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    };
    let name = |what: &str, k: usize| {
        if cell_module {
            format!("{rnn}{what}")
        } else {
            format!("{rnn}{what}_l{k}")
        }
    };
    let hh0 = name("weight_hh", 0);
    let Some(&[gh, h]) = shape(&hh0) else {
        bail!(
            "{hh0} is missing or not 2-D (found {:?}); expected (gates × hidden, hidden)",
            shape(&hh0)
        );
    };
    if h == 0 || gh % h != 0 {
        bail!("{hh0} has shape ({gh}, {h}): its rows are not a multiple of its columns");
    }
    let cell = match gh / h {
        1 => CellKind::Rnn,
        3 => CellKind::Gru,
        4 => CellKind::Lstm,
        g => {
            bail!("{hh0} has shape ({gh}, {h}): {g} gate blocks; an RNN has 1, a GRU 3, an LSTM 4")
        }
    };
    if let Some(c) = choices.cell {
        if c != cell {
            bail!(
                "--cell {}: but {hh0} has shape ({gh}, {h}), {} gate blocks of {h}: a {}",
                format!("{c:?}").to_lowercase(),
                gh / h,
                format!("{cell:?}").to_uppercase()
            );
        }
    }
    let mut layers = 1;
    while !cell_module && shapes.contains_key(&name("weight_ih", layers)) {
        layers += 1;
    }
    if layers > MAX_LAYERS {
        bail!(
            "the recurrent module {} has {layers} layers; micrornn runs at most {MAX_LAYERS}",
            shown(&rnn)
        );
    }
    let rnn_bias = shapes.contains_key(&name("bias_ih", 0));
    let mut input = 0;
    for k in 0..layers {
        let ih = name("weight_ih", k);
        let cols = match shape(&ih) {
            Some(&[r, c]) if r == gh && (k == 0 || c == h) => c,
            s => bail!(
                "{ih} has shape {s:?}, expected ({gh}, {})",
                if k == 0 {
                    "input".to_string()
                } else {
                    h.to_string()
                }
            ),
        };
        if k == 0 {
            input = cols;
        }
        used.insert(ih);
        let hh = name("weight_hh", k);
        if shape(&hh) != Some(&[gh, h]) {
            bail!("{hh} has shape {:?}, expected ({gh}, {h})", shape(&hh));
        }
        used.insert(hh);
        for b in ["bias_ih", "bias_hh"] {
            let b = name(b, k);
            match (shape(&b), rnn_bias) {
                (Some([n]), true) if *n == gh => {}
                (None, false) => continue,
                (None, true) => bail!("missing tensor {b} (the other layers have biases)"),
                (Some(s), true) => bail!("{b} has shape {s:?}, expected ({gh},)"),
                (Some(_), false) => bail!("{b} is present but {} is missing", name("bias_ih", 0)),
            }
            used.insert(b);
        }
    }
    if input == 0 {
        bail!("{} has no input columns", name("weight_ih", 0));
    }
    // A stray tensor of a layer beyond the last one found.
    if let Some(n) = shapes.keys().find(|n| {
        n.strip_prefix(&rnn).is_some_and(|rest| {
            ["weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"]
                .iter()
                .any(|w| rest.starts_with(w))
        }) && !used.contains(*n)
    }) {
        bail!("tensor {n:?} belongs to no complete layer (layers 0..{layers} have weight_ih_l<k>)");
    }

    // ---- the output layer ----
    let linear = match &choices.linear {
        Some(l) => {
            let p = prefix(l);
            match shape(&format!("{p}weight")) {
                Some(&[_, c]) if c == h => p,
                s => bail!("--linear {l}: {p}weight has shape {s:?}, expected (outputs, {h})"),
            }
        }
        None => {
            let found: Vec<String> = shapes
                .iter()
                .filter(|(n, s)| !used.contains(*n) && s.len() == 2 && s[1] == h)
                .filter_map(|(n, s)| {
                    let p = n.strip_suffix("weight")?;
                    (p.is_empty() || p.ends_with('.'))
                        .then_some(p)
                        .filter(|p| shape(&format!("{p}bias")) == Some(&[s[0]]))
                        .map(String::from)
                })
                .collect();
            match &found[..] {
                [] => bail!("no output layer: no <module>.weight of shape (outputs, {h}) with a <module>.bias (nn.Linear); name a bias-free one with --linear"),
                [p] => p.clone(),
                _ => bail!(
                    "ambiguous: output layers at {}; choose one with --linear",
                    found.iter().map(|p| shown(p)).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    };
    let lw = format!("{linear}weight");
    let outputs = shape(&lw).map_or(0, |s| s[0]);
    if outputs == 0 {
        bail!("{lw} has no rows");
    }
    used.insert(lw);
    let lb = format!("{linear}bias");
    let linear_bias = match shape(&lb) {
        None => false,
        Some([o]) if *o == outputs => true,
        Some(s) => bail!("{lb} has shape {s:?}, expected ({outputs},)"),
    };
    if linear_bias {
        used.insert(lb);
    }

    // ---- the embedding ----
    let embedding = match &choices.embedding {
        Some(e) => match shape(e) {
            Some(&[v, c]) if c == input && v > 0 && !used.contains(e) => Some(e.clone()),
            s => bail!("--embedding {e}: shape {s:?}, expected (tokens, {input}) (weight_ih_l0's input width)"),
        },
        None => {
            let found: Vec<&String> = shapes
                .iter()
                .filter(|(n, s)| !used.contains(*n) && s.len() == 2 && s[1] == input && s[0] > 0)
                .map(|(n, _)| n)
                .collect();
            match &found[..] {
                [] => None,
                [e] => Some((*e).clone()),
                _ => bail!(
                    "ambiguous: embeddings {}; choose one with --embedding",
                    found.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    };
    if let Some(e) = &embedding {
        used.insert(e.clone());
    }
    if let Some(extra) = shapes.keys().find(|n| !used.contains(*n)) {
        bail!(
            "tensor {extra:?} {:?} is not part of an embedding → {} → linear model; micrornn runs exactly that (remove it from the state_dict if the model does not use it)",
            shapes[extra],
            format!("{cell:?}").to_uppercase()
        );
    }
    Ok(Layout {
        rnn,
        cell_module,
        cell,
        layers,
        hidden: h,
        input,
        rnn_bias,
        embedding,
        linear,
        linear_bias,
        outputs,
    })
}
