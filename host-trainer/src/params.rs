//! The float parameters of a vanilla character RNN, as one flat `Vec<f32>`.
//!
//! One flat vector keeps the optimizer, gradient clipping and the reduction of
//! per-thread gradients trivial: they are loops over `&[f32]`. [`Dims`] knows
//! where each tensor starts; [`ParamsRef`] / [`ParamsMut`] are named views.
//!
//! Layout (row-major, in this order):
//!
//! | tensor  | shape    | meaning                                            |
//! |---------|----------|----------------------------------------------------|
//! | `w_in`  | (V, H)   | row `t` = input weights of token `t` (= `W_x` column `t`) |
//! | `w_hh`  | (H, H)   | row `i` = recurrent weights into hidden unit `i`   |
//! | `b_h`   | (H,)     | hidden bias                                        |
//! | `w_out` | (V, H)   | row `t` = output weights of token `t`              |
//! | `b_out` | (V,)     | output bias                                        |
//!
//! The cell: `h' = tanh(w_in[x] + w_hh · h + b_h)`, `logits = w_out · h' + b_out`, `h0 = 0`.

/// Sizes of a vanilla RNN: vocabulary (tokens, including start and end) and hidden units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Number of tokens `V` (distinct characters + start + end).
    pub vocab: usize,
    /// Number of hidden units `H`.
    pub hidden: usize,
}

/// Read-only named views into a flat parameter (or gradient) vector: the float weights
/// type of `shared`, so the trainer's parameters feed `shared`'s float inference as they are.
pub type ParamsRef<'a> = micrornn::cell::rnn::RnnWeights<'a>;

/// Mutable named views into a flat parameter (or gradient) vector.
#[derive(Debug)]
pub struct ParamsMut<'a> {
    /// (V, H) input weights, one row per token.
    pub w_in: &'a mut [f32],
    /// (H, H) recurrent weights, one row per hidden unit.
    pub w_hh: &'a mut [f32],
    /// (H,) hidden bias.
    pub b_h: &'a mut [f32],
    /// (V, H) output weights, one row per token.
    pub w_out: &'a mut [f32],
    /// (V,) output bias.
    pub b_out: &'a mut [f32],
}

impl Dims {
    /// Lengths of the five tensors, in layout order.
    fn lens(&self) -> [usize; 5] {
        let (v, h) = (self.vocab, self.hidden);
        [v * h, h * h, h, v * h, v]
    }

    /// Total number of parameters.
    pub fn param_count(&self) -> usize {
        self.lens().iter().sum()
    }

    /// Splits a flat vector of `param_count()` floats into named views.
    ///
    /// Panics if `flat` has the wrong length (a programming error, never user input).
    pub fn split<'a>(&self, flat: &'a [f32]) -> ParamsRef<'a> {
        assert_eq!(flat.len(), self.param_count(), "parameter vector length");
        let [a, b, c, d, _] = self.lens();
        let (w_in, rest) = flat.split_at(a);
        let (w_hh, rest) = rest.split_at(b);
        let (b_h, rest) = rest.split_at(c);
        let (w_out, b_out) = rest.split_at(d);
        ParamsRef {
            vocab: self.vocab,
            hidden: self.hidden,
            w_in,
            w_hh,
            b_h,
            w_out,
            b_out,
        }
    }

    /// Mutable version of [`Dims::split`].
    pub fn split_mut<'a>(&self, flat: &'a mut [f32]) -> ParamsMut<'a> {
        assert_eq!(flat.len(), self.param_count(), "parameter vector length");
        let [a, b, c, d, _] = self.lens();
        let (w_in, rest) = flat.split_at_mut(a);
        let (w_hh, rest) = rest.split_at_mut(b);
        let (b_h, rest) = rest.split_at_mut(c);
        let (w_out, b_out) = rest.split_at_mut(d);
        ParamsMut {
            w_in,
            w_hh,
            b_h,
            w_out,
            b_out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_parameter_once() {
        let dims = Dims {
            vocab: 5,
            hidden: 3,
        };
        assert_eq!(dims.param_count(), 5 * 3 + 9 + 3 + 5 * 3 + 5);
        let flat: Vec<f32> = (0..dims.param_count()).map(|i| i as f32).collect();
        let p = dims.split(&flat);
        assert_eq!(p.w_in.len(), 15);
        assert_eq!(p.w_hh[0], 15.0);
        assert_eq!(p.b_h[0], 24.0);
        assert_eq!(p.w_out[0], 27.0);
        assert_eq!(p.b_out, &[42.0, 43.0, 44.0, 45.0, 46.0]);
    }
}
