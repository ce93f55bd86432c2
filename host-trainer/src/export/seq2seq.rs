//! Float seq2seq weights → the int8 model file (`Task::Seq2seq`; the tensor order is
//! `micrornn::seq2seq`'s layout, documented in `docs/model-format.md`).
//!
//! Each stack (forward encoder, backward encoder, decoder) keeps its embedding apart:
//! the (V, E) embedding divided by its largest magnitude `c` (the device reads it as Q15,
//! in [-1, 1]), layer 0's (G·Hs, E) `w_x · c` with `b_x`, then every layer's `w_x` and
//! `w_h` with their biases. The output layer (P, 2H) is split in its two halves, `w_out_h`
//! (columns `0..H`, with `b_out`) and `w_out_c` (columns `H..2H`, no bias), each quantized
//! per row.

use anyhow::{bail, Context, Result};
use micrornn::format::{Config, Task};
use micrornn::seq2seq::{FloatStack, Phonemes, Seq2seqWeights};
use micrornn::Model;

use super::quantize::{embedding_apart, encode_model, quantize_matrix, QuantMatrix};

/// Quantizes seq2seq float weights and encodes the complete `.mrnn` file. `vocab_chars`
/// are the spelling's sorted characters (`in_tokens` = their count + 2), `phonemes` the
/// sorted phoneme names (`out_tokens` = their count + 1). The file is loaded back before
/// it is returned.
pub fn quantize(w: &Seq2seqWeights<'_>, vocab_chars: &str, phonemes: &[String]) -> Result<Vec<u8>> {
    if !w.is_consistent() {
        bail!("seq2seq float weights do not match their shape");
    }
    let s = w.shape;
    let chars = vocab_chars.chars().count() + micrornn::vocab::SPECIALS;
    if chars != s.in_tokens {
        bail!(
            "the weights read {} input tokens, the vocabulary has {chars}",
            s.in_tokens
        );
    }
    if phonemes.len() + 1 != s.out_tokens {
        bail!(
            "the weights have {} decoder tokens, {} phonemes need {}",
            s.out_tokens,
            phonemes.len(),
            phonemes.len() + 1
        );
    }
    let labels = phonemes.join("\n");
    Phonemes::new(&labels).context("phoneme names")?;
    let mut tensors = Vec::new();
    for (name, stack) in [
        ("enc_fwd", &w.enc_fwd),
        ("enc_bwd", &w.enc_bwd),
        ("dec", &w.dec),
    ] {
        stack_tensors(stack, &mut tensors).context(name)?;
    }
    let (h, p) = (s.hidden, s.out_tokens);
    let (mut out_h, mut out_c) = (Vec::with_capacity(p * h), Vec::with_capacity(p * h));
    for row in w.w_out.chunks(2 * h) {
        out_h.extend_from_slice(&row[..h]);
        out_c.extend_from_slice(&row[h..]);
    }
    tensors.push(quantize_matrix(&out_h, p, h, Some(w.b_out)).context("w_out_h")?);
    tensors.push(quantize_matrix(&out_c, p, h, None).context("w_out_c")?);
    let config = Config {
        cell: s.cell,
        task: Task::Seq2seq,
        layers: u8::try_from(s.layers)?,
        hidden: u16::try_from(h)?,
        embed: u16::try_from(s.embed)?,
        vocab_size: u16::try_from(s.in_tokens)?,
    };
    let bytes = encode_model(config, vocab_chars, &labels, &tensors)?;
    Model::load(&bytes).context("the exported seq2seq model does not load")?;
    Ok(bytes)
}

/// One stack's tensors: the scaled embedding, then `w_x`, `w_h` per layer.
fn stack_tensors(w: &FloatStack<'_>, out: &mut Vec<QuantMatrix>) -> Result<()> {
    let gh = w.cell.gates() * w.hidden;
    let (emb, w_x0) = embedding_apart(w);
    out.push(quantize_matrix(&emb, w.vocab, w.embed, None).context("embedding")?);
    for (l, layer) in w.layers[..w.n_layers].iter().enumerate() {
        let (w_x, cols) = if l == 0 {
            (&w_x0[..], w.embed)
        } else {
            (layer.w_x, w.hidden)
        };
        let q = quantize_matrix(w_x, gh, cols, Some(layer.b_x));
        out.push(q.with_context(|| format!("layer {l} w_x"))?);
        let q = quantize_matrix(layer.w_h, gh, w.hidden, Some(layer.b_h));
        out.push(q.with_context(|| format!("layer {l} w_h"))?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use micrornn::format::CellKind;
    use micrornn::seq2seq::Seq2seqShape;

    fn shape(cell: CellKind, layers: usize) -> Seq2seqShape {
        Seq2seqShape {
            cell,
            layers,
            hidden: 6,
            embed: 3,
            in_tokens: 5,
            out_tokens: 4,
        }
    }

    #[test]
    fn every_cell_exports_and_loads() {
        for (cell, layers) in [(CellKind::Gru, 1), (CellKind::Lstm, 2), (CellKind::Rnn, 3)] {
            let s = shape(cell, layers);
            let params: Vec<f32> = (0..s.param_count())
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 100.0)
                .collect();
            let w = Seq2seqWeights::from_flat(s, &params).unwrap();
            let phonemes = ["AA0", "B", "K"].map(String::from);
            let bytes = quantize(&w, "abc", &phonemes).unwrap();
            let m = Model::load(&bytes).unwrap();
            assert_eq!(m.task(), Task::Seq2seq);
            assert_eq!((m.outputs(), m.hidden(), m.layer_count()), (4, 6, layers));
            assert_eq!(m.param_count(), s.param_count());
        }
    }

    /// The exported file's integer path against the float path on the original weights:
    /// the same greedy pronunciation for most words.
    #[test]
    fn the_exported_model_pronounces_as_the_float_weights() {
        use micrornn::seq2seq::{greedy, Seq2seqF, Seq2seqQ};
        use micrornn::{rng::Rng, Vocab};
        let s = Seq2seqShape {
            cell: CellKind::Gru,
            layers: 1,
            hidden: 24,
            embed: 6,
            in_tokens: 8,
            out_tokens: 7,
        };
        let mut rng = Rng::new(3);
        let params: Vec<f32> = (0..s.param_count())
            .map(|_| (rng.next_u32() as i32 as f32) / 2f32.powi(31) * 0.6)
            .collect();
        let w = Seq2seqWeights::from_flat(s, &params).unwrap();
        let phonemes = ["AA0", "B", "D", "K", "L", "S"].map(String::from);
        let bytes = quantize(&w, "abcdef", &phonemes).unwrap();
        let m = Model::load(&bytes).unwrap();
        let mut arena_q = vec![0i32; Seq2seqQ::needs(&m).unwrap()];
        let mut q = Seq2seqQ::new(&m, &mut arena_q).unwrap();
        let mut arena_f = vec![0f32; Seq2seqF::needs(&w)];
        let vocab = Vocab::new("abcdef").unwrap();
        let mut f = Seq2seqF::new(&w, vocab, &mut arena_f).unwrap();
        let (mut same, words) = (0, 100);
        for _ in 0..words {
            let len = 1 + rng.next_u32() as usize % 10;
            let word: String = (0..len)
                .map(|_| (b'a' + (rng.next_u32() % 6) as u8) as char)
                .collect();
            let (mut lq, mut lf) = ([0i32; 7], [0i32; 7]);
            let (mut oq, mut of) = ([0u16; 32], [0u16; 32]);
            let nq = greedy(&mut q, &word, &mut lq, &mut oq).unwrap();
            let nf = greedy(&mut f, &word, &mut lf, &mut of).unwrap();
            same += usize::from(oq[..nq] == of[..nf]);
        }
        assert!(same >= 80, "{same} of {words} the same");
    }

    #[test]
    fn refuses_mismatched_vocabularies() {
        let s = shape(CellKind::Gru, 1);
        let params = vec![0.1; s.param_count()];
        let w = Seq2seqWeights::from_flat(s, &params).unwrap();
        let phonemes = ["AA0", "B", "K"].map(String::from);
        assert!(quantize(&w, "abcd", &phonemes).is_err());
        assert!(quantize(&w, "abc", &phonemes[..2]).is_err());
        let spaced = ["AA 0", "B", "K"].map(String::from);
        assert!(quantize(&w, "abc", &spaced).is_err());
    }
}
