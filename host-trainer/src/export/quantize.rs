//! Float weights → the int8 model file: per-row symmetric quantization and encoding.

use anyhow::{bail, Context, Result};
use micrornn::cell::FloatWeights;
use micrornn::fixed::scale_is_valid;
use micrornn::format::{self, Body, Config, Span, Task, TensorEntry};
use micrornn::model::input_layout_bytes;
use micrornn::words::WordVocab;
use micrornn::Model;

/// One row-quantized matrix: int8 weights (as bytes), per-row scales, Q16 biases.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantMatrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows * cols` int8 weights stored as `u8`.
    pub weights: Vec<u8>,
    /// One scale per row: weight ≈ int8 * scale.
    pub scales: Vec<f32>,
    /// Q16 biases (empty for none).
    pub bias: Vec<i32>,
}

/// Quantizes a row-major `(rows, cols)` matrix: each row gets `scale = max|w| / 127` and
/// `q = round(w / scale)`. An all-zero (or vanishingly small) row gets scale 0.
pub fn quantize_matrix(
    w: &[f32],
    rows: usize,
    cols: usize,
    bias: Option<&[f32]>,
) -> Result<QuantMatrix> {
    assert_eq!(w.len(), rows * cols);
    let mut weights = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(rows);
    for (r, row) in w.chunks(cols).enumerate() {
        if row.iter().any(|x| !x.is_finite()) {
            bail!("row {r} has a weight that is not finite");
        }
        let max = row.iter().fold(0f32, |m, &x| m.max(x.abs()));
        let mut scale = max / 127.0;
        if scale != 0.0 && !scale_is_valid(scale.to_bits()) {
            if scale < 1.0 {
                scale = 0.0; // below 2^-40: the row is zero for every practical purpose
            } else {
                bail!("row {r} has a weight of {max}, too large to quantize");
            }
        }
        scales.push(scale);
        weights.extend(row.iter().map(|&x| {
            if scale == 0.0 {
                0u8
            } else {
                (x / scale).round().clamp(-127.0, 127.0) as i8 as u8
            }
        }));
    }
    let bias = bias.map_or(Vec::new(), |b| b.iter().map(|&x| to_q16(x)).collect());
    Ok(QuantMatrix {
        rows,
        cols,
        weights,
        scales,
        bias,
    })
}

/// A float to Q16, rounded and saturated.
pub fn to_q16(x: f32) -> i32 {
    micrornn::cell::f32_to_q16(x)
}

/// Quantizes a network's float weights and encodes the complete `.mrnn` file: per layer
/// `w_x` then `w_h`, then `w_out` (see `micrornn::model`). Layer 0's input becomes a
/// (V, G·H) token table, row `t` = the input term of token `t` with `b_x` (and the
/// embedding, `W_x·emb[t] + b_x` in f64) folded in; every matrix is quantized per row.
///
/// A word classifier ([`Task::ClassifyWords`]) keeps its embedding apart instead when
/// that is smaller ([`input_layout_bytes`]): first the (V, E) embedding, divided by its
/// largest magnitude `c` (the device reads it as Q15, in [-1, 1)), then layer 0's
/// (G·H, E) `w_x · c` with `b_x`, then `w_h` and the rest as above.
///
/// `vocab` is the sorted characters, or the words joined with `\n` (word classifier);
/// `labels` the class names of a classifier (one per output), none for
/// [`Task::Generate`].
pub fn export(
    w: &FloatWeights<'_>,
    task: Task,
    vocab_chars: &str,
    labels: &[String],
) -> Result<Vec<u8>> {
    if !w.is_consistent() {
        bail!("float weights do not match their sizes");
    }
    let (v, h, gh) = (w.vocab, w.hidden, w.cell.gates() * w.hidden);
    let tokens = match task {
        Task::ClassifyWords { .. } => WordVocab::new(vocab_chars)?.tokens(),
        _ => vocab_chars.chars().count() + micrornn::vocab::SPECIALS,
    };
    if tokens != v {
        bail!("the weights are for {v} tokens, the vocabulary has {tokens}");
    }
    let outputs = match task {
        Task::Generate if labels.is_empty() => v,
        Task::Generate => bail!("a generation model has no labels"),
        Task::Seq2seq => bail!("a seq2seq model is exported by export::seq2seq::quantize"),
        Task::Classify | Task::ClassifyWords { .. } => labels.len(),
    };
    if outputs != w.outputs {
        bail!(
            "the weights have {} outputs, the task needs {outputs}",
            w.outputs
        );
    }
    if labels.iter().any(|l| l.contains('\n')) {
        bail!("a label name contains a line break");
    }
    let mut tensors = Vec::with_capacity(2 * w.n_layers + 2);
    let apart = matches!(task, Task::ClassifyWords { .. }) && w.embed > 0 && {
        let (folded, apart) = input_layout_bytes(v, w.embed, gh);
        apart < folded
    };
    for (l, layer) in w.layers[..w.n_layers].iter().enumerate() {
        let w_x = if l == 0 && apart {
            let (emb, w_x) = embedding_apart(w);
            tensors.push(quantize_matrix(&emb, v, w.embed, None).context("embedding")?);
            quantize_matrix(&w_x, gh, w.embed, Some(layer.b_x))
        } else if l == 0 {
            quantize_matrix(&input_table(w), v, gh, None)
        } else {
            quantize_matrix(layer.w_x, gh, h, Some(layer.b_x))
        };
        tensors.push(w_x.with_context(|| format!("layer {l} w_x"))?);
        let w_h = quantize_matrix(layer.w_h, gh, h, Some(layer.b_h));
        tensors.push(w_h.with_context(|| format!("layer {l} w_h"))?);
    }
    tensors.push(quantize_matrix(w.w_out, w.outputs, h, Some(w.b_out)).context("w_out")?);
    let config = Config {
        cell: w.cell,
        task,
        layers: u8::try_from(w.n_layers)?,
        hidden: u16::try_from(h)?,
        embed: u16::try_from(w.embed)?,
        vocab_size: u16::try_from(v)?,
    };
    let bytes = encode_model(config, vocab_chars, &labels.join("\n"), &tensors)?;
    Model::load(&bytes).context("the exported model does not load")?;
    Ok(bytes)
}

/// The embedding divided by its largest magnitude `c`, and layer 0's `w_x` times `c`
/// (the same products: `(c·W_x)(emb/c) = W_x·emb`), so that every embedding value is
/// in [-1, 1], as the device reads it (Q15).
pub(crate) fn embedding_apart(w: &FloatWeights<'_>) -> (Vec<f32>, Vec<f32>) {
    let c = w.emb.iter().fold(0f32, |m, &x| m.max(x.abs()));
    if c == 0.0 || !c.is_finite() {
        return (w.emb.to_vec(), w.layers[0].w_x.to_vec());
    }
    let emb = w.emb.iter().map(|&x| x / c).collect();
    let w_x = w.layers[0].w_x.iter().map(|&x| x * c).collect();
    (emb, w_x)
}

/// Layer 0's (V, G·H) input table: row `t` = `w_x[t] + b_x` (one-hot) or
/// `W_x·emb[t] + b_x` (embedding, summed in f64).
fn input_table(w: &FloatWeights<'_>) -> Vec<f32> {
    let (gh, e, layer) = (w.cell.gates() * w.hidden, w.embed, &w.layers[0]);
    let mut table = Vec::with_capacity(w.vocab * gh);
    for t in 0..w.vocab {
        for r in 0..gh {
            let x = if e == 0 {
                layer.w_x[t * gh + r] as f64
            } else {
                let (row, emb) = (&layer.w_x[r * e..(r + 1) * e], &w.emb[t * e..(t + 1) * e]);
                row.iter()
                    .zip(emb)
                    .map(|(&a, &b)| a as f64 * b as f64)
                    .sum()
            };
            table.push((x + layer.b_x[r] as f64) as f32);
        }
    }
    table
}

/// Lays the tensors out in one data block and encodes header, body and CRC.
pub fn encode_model(
    config: Config,
    vocab: &str,
    labels: &str,
    tensors: &[QuantMatrix],
) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut table = Vec::new();
    let put = |bytes: &[u8], data: &mut Vec<u8>| {
        let span = Span {
            offset: data.len() as u32,
            len: bytes.len() as u32,
        };
        data.extend_from_slice(bytes);
        span
    };
    for t in tensors {
        let scales: Vec<u8> = t.scales.iter().flat_map(|s| s.to_le_bytes()).collect();
        let bias: Vec<u8> = t.bias.iter().flat_map(|b| b.to_le_bytes()).collect();
        let entry = TensorEntry {
            rows: u16::try_from(t.rows)?,
            cols: u16::try_from(t.cols)?,
            weights: put(&t.weights, &mut data),
            scales: put(&scales, &mut data),
            bias: if bias.is_empty() {
                Span::default()
            } else {
                put(&bias, &mut data)
            },
        };
        table.extend_from_slice(&entry.to_record());
    }
    let body = Body {
        config,
        vocab,
        labels,
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; data.len() + table.len() + vocab.len() + labels.len() + 64];
    let n = format::encode(&body, &mut out).context("cannot encode model")?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_use_full_int8_range_and_round_trip() {
        let w = [0.5, -0.25, 0.0, 0.127, 0.0, 0.0, 0.0, 0.0];
        let q = quantize_matrix(&w, 2, 4, Some(&[1.5, -0.001])).unwrap();
        assert_eq!(q.weights[..4], [127, (-64i8) as u8, 0, 32]);
        assert_eq!(q.scales, vec![0.5 / 127.0, 0.0]);
        assert_eq!(q.weights[4..], [0, 0, 0, 0]);
        assert_eq!(q.bias, vec![98_304, -66]);
        for (i, &x) in w[..4].iter().enumerate() {
            let back = q.weights[i] as i8 as f32 * q.scales[0];
            assert!((back - x).abs() <= q.scales[0] / 2.0 + 1e-7);
        }
    }

    #[test]
    fn refuses_non_finite_weights() {
        assert!(quantize_matrix(&[f32::NAN, 1.0], 1, 2, None).is_err());
        assert!(quantize_matrix(&[1e6, 1.0], 1, 2, None).is_err());
    }
}
