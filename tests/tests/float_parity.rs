//! One forward pass: the trainer's batched forward equals `shared`'s float inference.

use micrornn::cell::NetF;
use micrornn::vocab::Vocab;
use micrornn_trainer::batch::Batch;
use micrornn_trainer::data::encode;
use micrornn_trainer::engine::{init_params, Engine};
use micrornn_trainer::host_model::float_weights;
use micrornn_trainer::params::Dims;

#[test]
fn batched_forward_equals_shared_float_inference() {
    let vocab = Vocab::new("abcdefghijklmnopqrstuvwxyz").unwrap();
    let dims = Dims {
        vocab: vocab.tokens(),
        hidden: 64,
    };
    // Random weights scaled up so that tanh is exercised well beyond its linear part.
    let params: Vec<f32> = init_params(dims, 5).iter().map(|w| w * 3.0).collect();
    let names = ["anna", "bob", "christopher", "x", "zelda", "mohammed", "li"];
    let seqs: Vec<_> = names.iter().map(|n| encode(n, &vocab)).collect();
    let batch = Batch::from_sequences(seqs.iter().map(|(i, t)| (&i[..], &t[..])));
    let mut engine = Engine::new(dims, 2);
    let batched = engine.logits(&params, &batch);

    let w = float_weights(dims, &params);
    let mut arena = vec![0.0; NetF::needs(&w)];
    let mut logits = vec![0.0; dims.vocab];
    let mut worst = 0f32;
    for (n, (inputs, _)) in seqs.iter().enumerate() {
        let mut net = NetF::new(w, &mut arena).unwrap();
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
