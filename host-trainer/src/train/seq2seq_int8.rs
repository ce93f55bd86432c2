//! The int8 model's greedy word and phoneme error rates on the validation words, with
//! `shared`'s integer path (what the device runs), for the end of `train --task seq2seq`.

use anyhow::{anyhow, Result};
use micrornn::seq2seq::{greedy, Seq2seqQ, MAX_OUTPUT};
use micrornn::Model;

use crate::data::cmudict::Dict;

/// Word and phoneme error rates of the model file `bytes` on `dict` (pronunciations as
/// phoneme ids in `refs`, word by word), greedy, on `threads` threads. Error rates as
/// in [`crate::train::seq2seq::edit_distance`]'s caller: a word is right when equal to
/// any of its pronunciations; its phoneme errors count against the closest.
pub fn score_int8(
    bytes: &[u8],
    dict: &Dict,
    refs: &[Vec<Vec<u16>>],
    threads: usize,
) -> Result<(f64, f64)> {
    let model = Model::load(bytes).map_err(|e| anyhow!("the written model: {e}"))?;
    let words = dict.words.len();
    if words == 0 {
        return Ok((f64::NAN, f64::NAN));
    }
    let part = words.div_ceil(threads.max(1));
    let results: Vec<Result<(usize, usize, usize)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..words)
            .step_by(part)
            .map(|from| {
                let model = &model;
                s.spawn(move || -> Result<(usize, usize, usize)> {
                    let mut arena = vec![0i32; Seq2seqQ::needs(model)?];
                    let mut net = Seq2seqQ::new(model, &mut arena)?;
                    let mut logits = vec![0i32; model.outputs()];
                    let mut ids = [0u16; MAX_OUTPUT];
                    let (mut wrong, mut errors, mut length) = (0, 0, 0);
                    for (w, prons) in dict.words[from..(from + part).min(words)]
                        .iter()
                        .zip(&refs[from..])
                    {
                        let n = greedy(&mut net, &w.word, &mut logits, &mut ids)?;
                        let (dist, len) = prons
                            .iter()
                            .map(|p| (super::seq2seq::edit_distance(&ids[..n], p), p.len()))
                            .min()
                            .expect("a pronunciation");
                        wrong += usize::from(dist > 0);
                        errors += dist;
                        length += len;
                    }
                    Ok((wrong, errors, length))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scoring thread"))
            .collect()
    });
    let (mut wrong, mut errors, mut length) = (0, 0, 0);
    for r in results {
        let (w, e, l) = r?;
        wrong += w;
        errors += e;
        length += l;
    }
    Ok((
        wrong as f64 / words as f64,
        errors as f64 / length.max(1) as f64,
    ))
}
