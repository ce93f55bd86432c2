//! Deterministic initial parameters.

use super::rng::SplitMix64;
use crate::params::Dims;

/// Deterministic initial parameters for `dims` from `seed`: the same seed gives the same bytes.
///
/// Like PyTorch's `nn.RNN` + `nn.Linear`: `w_in`, `w_hh` and `w_out` uniform in
/// `±1/sqrt(H)` (so a one-hot input and the recurrent sum both start at
/// unit-order pre-activations, away from tanh saturation), biases zero.
/// The tensors are drawn in layout order from one SplitMix64 stream.
pub fn init_params(dims: Dims, seed: u64) -> Vec<f32> {
    let mut flat = vec![0.0f32; dims.param_count()];
    let scale = 1.0 / (dims.hidden.max(1) as f32).sqrt();
    let mut rng = SplitMix64::new(seed);
    let p = dims.split_mut(&mut flat);
    for w in [p.w_in, p.w_hh, p.w_out] {
        w.iter_mut().for_each(|x| *x = rng.uniform(scale));
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_and_sane_ranges() {
        let dims = Dims {
            vocab: 11,
            hidden: 16,
        };
        let a = init_params(dims, 42);
        assert_eq!(a, init_params(dims, 42));
        assert_ne!(a, init_params(dims, 43));
        let p = dims.split(&a);
        assert!(p.w_hh.iter().all(|&x| x.abs() <= 0.25) && p.w_hh.iter().any(|&x| x.abs() > 0.1));
        assert!(p.b_h.iter().chain(p.b_out).all(|&x| x == 0.0));
    }
}
