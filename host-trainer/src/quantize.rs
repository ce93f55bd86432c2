//! Float weights → the int8 model file: per-row symmetric quantization and encoding.

use anyhow::{bail, Result};
use micrornn::fixed::scale_is_valid;
use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::Model;

use crate::params::Dims;

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
    micrornn::cell::rnn::f32_to_q16(x)
}

/// Whether [`export_rnn`] can write a model of these dimensions: today a one-layer,
/// one-hot vanilla RNN for generation.
pub fn check_exportable(dims: &Dims) -> Result<()> {
    let cell = format!("{:?}", dims.cell).to_lowercase();
    if dims.cell != CellKind::Rnn {
        bail!("export of {cell} models to .mrnn is not supported yet");
    }
    if dims.layers != 1 || dims.embed != 0 || dims.task != Task::Generate {
        bail!("export of stacked, embedded or classify models to .mrnn is not supported yet");
    }
    Ok(())
}

/// Quantizes a vanilla RNN's float parameters and encodes the complete `.mrnn` file.
///
/// The input table row of token `t` is its float input term `w_x[t] + b_x`.
pub fn export_rnn(vocab: &str, dims: Dims, params: &[f32]) -> Result<Vec<u8>> {
    check_exportable(&dims)?;
    let p = dims.split(params);
    let (v, h) = (dims.vocab, dims.hidden);
    let l = &p.layers[0];
    let w_in: Vec<f32> = l
        .w_x
        .chunks_exact(h)
        .flat_map(|row| row.iter().zip(l.b_x).map(|(w, b)| w + b))
        .collect();
    let tensors = [
        quantize_matrix(&w_in, v, h, None)?,
        quantize_matrix(l.w_h, h, h, Some(l.b_h))?,
        quantize_matrix(p.w_out, v, h, Some(p.b_out))?,
    ];
    let config = Config {
        cell: CellKind::Rnn,
        task: Task::Generate,
        layers: 1,
        hidden: u16::try_from(h)?,
        embed: 0,
        vocab_size: u16::try_from(v)?,
    };
    let bytes = encode_model(config, vocab, "", &tensors)?;
    Model::load(&bytes)
        .map_err(|e| anyhow::anyhow!("internal error: exported model does not load: {e}"))?;
    Ok(bytes)
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
    let n =
        format::encode(&body, &mut out).map_err(|e| anyhow::anyhow!("cannot encode model: {e}"))?;
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
