//! Deterministic initial parameters.

use micrornn::format::CellKind;

use super::rng::SplitMix64;
use crate::train::params::Dims;

/// Initial value of the LSTM forget gate's input bias `b_x[f]`.
///
/// A forget gate that starts mostly open (`σ(1) ≈ 0.73` rather than 0.5) lets the
/// cell state and its gradient carry across a sequence from the first updates
/// (Jozefowicz et al., 2015). On names (hidden 128, embedding 32, 40 epochs) it
/// makes no measurable difference: validation 1.9643 nats/char with 1 and with 0;
/// it is kept for longer sequences, where it matters.
pub const LSTM_FORGET_BIAS: f32 = 1.0;

/// Deterministic initial parameters for `dims` from `seed`: the same seed gives the same bytes.
///
/// Like PyTorch's `nn.RNN`/`nn.GRU`/`nn.LSTM` + `nn.Embedding` + `nn.Linear`:
/// - every recurrent-layer tensor (`w_x`, `b_x`, `w_h`, `b_h`) uniform in
///   `±1/sqrt(H)`, so each input and the recurrent sum start at unit-order
///   pre-activations, away from saturation; except the LSTM forget gate's `b_x`,
///   `LSTM_FORGET_BIAS` (1.0);
/// - the embedding standard normal (unit-variance inputs for the first layer);
/// - `w_out` uniform in `±1/sqrt(H)`, `b_out` zero.
///
/// The tensors are drawn in layout order from one SplitMix64 stream.
pub fn init_params(dims: Dims, seed: u64) -> Vec<f32> {
    let mut flat = vec![0.0f32; dims.param_count()];
    let h = dims.hidden.max(1);
    let scale = 1.0 / (h as f32).sqrt();
    let mut rng = SplitMix64::new(seed);
    let mut p = dims.split_mut(&mut flat);
    p.emb.iter_mut().for_each(|x| *x = rng.normal());
    for layer in &mut p.layers[..dims.layers] {
        for w in [
            &mut *layer.w_x,
            &mut *layer.b_x,
            &mut *layer.w_h,
            &mut *layer.b_h,
        ] {
            w.iter_mut().for_each(|x| *x = rng.uniform(scale));
        }
        if dims.cell == CellKind::Lstm {
            // Gate order i, f, g, o: the forget gate is block 1.
            layer.b_x[h..2 * h].fill(LSTM_FORGET_BIAS);
        }
    }
    p.w_out.iter_mut().for_each(|x| *x = rng.uniform(scale));
    flat
}

#[cfg(test)]
mod tests {
    use super::*;
    use micrornn::format::Task;

    #[test]
    fn same_seed_same_bytes_and_sane_ranges() {
        let dims = Dims {
            cell: CellKind::Lstm,
            task: Task::Generate,
            layers: 2,
            hidden: 16,
            embed: 8,
            vocab: 11,
            outputs: 11,
        };
        let a = init_params(dims, 42);
        assert_eq!(a, init_params(dims, 42));
        assert_ne!(a, init_params(dims, 43));
        let p = dims.split(&a);
        for l in &p.layers[..2] {
            assert!(l.w_h.iter().all(|&x| x.abs() <= 0.25) && l.w_h.iter().any(|&x| x.abs() > 0.1));
            assert!(l.b_h.iter().all(|&x| x.abs() <= 0.25) && l.b_h.iter().any(|&x| x != 0.0));
            assert!(l.b_x[16..32].iter().all(|&x| x == LSTM_FORGET_BIAS));
            assert!(l.b_x[..16].iter().all(|&x| x.abs() <= 0.25));
        }
        let var = p.emb.iter().map(|&x| x as f64 * x as f64).sum::<f64>() / p.emb.len() as f64;
        assert!((0.5..1.5).contains(&var), "embedding variance {var}");
        assert!(p.b_out.iter().all(|&x| x == 0.0));
    }
}
