//! A micrornn checkpoint → a PyTorch state_dict (safetensors), the inverse of
//! [`super::import`]: module names `embedding` (`nn.Embedding`, absent for one-hot input),
//! `rnn` (`nn.RNN`/`nn.GRU`/`nn.LSTM`, `batch_first` does not change the names) and
//! `linear` (`nn.Linear`); token ids are micrornn's (START 0, END 1, then the characters
//! sorted), written into the metadata with the rest of the configuration.

use std::collections::BTreeMap;

use micrornn::format::Task;

use super::import::cell_name;
use super::safetensors::{write, F32Tensor};
use super::{
    META_CELL, META_CHARS, META_EMBED, META_END, META_HIDDEN, META_LABELS, META_LAYERS, META_START,
    META_TASK,
};
use crate::train::checkpoint::Checkpoint;

/// The safetensors bytes of a checkpoint's best weights.
pub fn to_safetensors(ckpt: &Checkpoint) -> Vec<u8> {
    let d = ckpt.dims();
    let w = d.split(&ckpt.best);
    let gh = d.gates() * d.hidden;
    let mut t = Vec::new();
    let mut put = |name: String, shape: Vec<usize>, values: Vec<f32>| {
        t.push(F32Tensor {
            name,
            shape,
            values,
        })
    };
    if d.embed > 0 {
        put(
            "embedding.weight".into(),
            vec![d.vocab, d.embed],
            w.emb.to_vec(),
        );
    }
    for (k, layer) in w.layers[..d.layers].iter().enumerate() {
        let ih = if k == 0 && d.embed == 0 {
            // micrornn's (V, G·H) lookup table → PyTorch's (G·H, V).
            (0..gh * d.vocab)
                .map(|i| layer.w_x[(i % d.vocab) * gh + i / d.vocab])
                .collect()
        } else {
            layer.w_x.to_vec()
        };
        put(
            format!("rnn.weight_ih_l{k}"),
            vec![gh, d.input_width(k)],
            ih,
        );
        put(
            format!("rnn.weight_hh_l{k}"),
            vec![gh, d.hidden],
            layer.w_h.to_vec(),
        );
        put(format!("rnn.bias_ih_l{k}"), vec![gh], layer.b_x.to_vec());
        put(format!("rnn.bias_hh_l{k}"), vec![gh], layer.b_h.to_vec());
    }
    put(
        "linear.weight".into(),
        vec![d.outputs, d.hidden],
        w.w_out.to_vec(),
    );
    put("linear.bias".into(), vec![d.outputs], w.b_out.to_vec());
    let mut meta = BTreeMap::new();
    let mut m = |k: &str, v: String| meta.insert(k.to_string(), v);
    m(META_CHARS, ckpt.vocab.clone());
    m(META_START, micrornn::vocab::START.to_string());
    m(META_END, micrornn::vocab::END.to_string());
    m(META_CELL, cell_name(d.cell).into());
    m(META_LAYERS, d.layers.to_string());
    m(META_HIDDEN, d.hidden.to_string());
    m(META_EMBED, d.embed.to_string());
    match d.task {
        Task::Classify => {
            m(META_TASK, "classify".into());
            m(
                META_LABELS,
                serde_json::to_string(&ckpt.labels).unwrap_or_default(),
            );
        }
        _ => {
            m(META_TASK, "generate".into());
        }
    }
    m("format", "pt".into());
    write(&t, &meta)
}
