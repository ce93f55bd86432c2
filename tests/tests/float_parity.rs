//! One forward pass: the trainer's batched forward equals `shared`'s float inference.

use micrornn::cell::rnn::{RnnF, RnnWeights};
use micrornn::format::CellKind;
use micrornn::vocab::Vocab;
use micrornn_trainer::batch::Batch;
use micrornn_trainer::data::encode;
use micrornn_trainer::engine::{init_params, Engine};
use micrornn_trainer::params::Dims;

#[test]
fn batched_forward_equals_shared_float_inference() {
    let vocab = Vocab::new("abcdefghijklmnopqrstuvwxyz").unwrap();
    let dims = Dims::generate(CellKind::Rnn, 1, 64, vocab.tokens());
    // Random weights scaled up so that tanh is exercised well beyond its linear part.
    let params: Vec<f32> = init_params(dims, 5).iter().map(|w| w * 3.0).collect();
    let names = ["anna", "bob", "christopher", "x", "zelda", "mohammed", "li"];
    let seqs: Vec<_> = names.iter().map(|n| encode(n, &vocab)).collect();
    let batch = Batch::from_sequences(seqs.iter().map(|(i, t)| (&i[..], &t[..])));
    let mut engine = Engine::new(dims, 2);
    let batched = engine.logits(&params, &batch);

    // The RNN float path takes the input rows with the input bias folded in.
    let p = dims.split(&params);
    let l = &p.layers[0];
    let w_in: Vec<f32> = l
        .w_x
        .chunks_exact(dims.hidden)
        .flat_map(|row| row.iter().zip(l.b_x).map(|(w, b)| w + b))
        .collect();
    let w = RnnWeights {
        vocab: dims.vocab,
        hidden: dims.hidden,
        w_in: &w_in,
        w_hh: l.w_h,
        b_h: l.b_h,
        w_out: p.w_out,
        b_out: p.b_out,
    };
    let (ns, na) = RnnF::needs(&w);
    let (mut state, mut scratch) = (vec![0.0; ns], vec![0.0; na]);
    let mut logits = vec![0.0; dims.vocab];
    let mut worst = 0f32;
    for (n, (inputs, _)) in seqs.iter().enumerate() {
        let mut net = RnnF::new(w, &mut state, &mut scratch).unwrap();
        for (t, &x) in inputs.iter().enumerate() {
            net.step_f32(x, &mut logits);
            let at = (n * batch.steps + t) * dims.vocab;
            for (a, b) in logits.iter().zip(&batched[at..at + dims.vocab]) {
                worst = worst.max((a - b).abs());
            }
        }
    }
    assert!(worst <= 1e-5, "largest difference {worst}");
}
