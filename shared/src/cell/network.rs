//! The integer network: every layer of a [`Model`] (any cell, 1..=4 layers) chained, then
//! the output layer, over one caller-given arena of `i32` words. No allocation.
//!
//! Arena layout (words; `H` hidden, `P = packed_len(H)`, `L` layers, `G` gate blocks):
//!
//! | part | words | holds |
//! |---|---|---|
//! | `h` | `2·L·P` | two buffers per layer, Q15, packed for the kernels ([`crate::kernels`]): the state, and the new state being computed; they swap roles after each step (no copy) |
//! | `c` | `L·H` (LSTM only) | each layer's cell state, Q16 (see [`super::lstm`]), in lane order ([`lane_of`]) |
//! | `pre` | `G·k` | the pre-activations of a chunk of `k` units (module `gates`), in lane order |
//! | `xs` | `k` | an input term of the chunk |
//!
//! A layer is computed `k` units at a time (`k` = `H`, or a multiple of 4, as the arena
//! allows; at least [`MIN_CHUNK`] or `H`): every matrix–vector product (recurrent, input
//! of the layers above the first, output) runs in the packed kernels, and the result is
//! the same bits whatever `k` is.

use super::gates::{gate_rows, rows, Input, Order};
use super::requant::InputTerm;
use super::{gru, lstm, rnn, Net};
use crate::error::{Error, Result};
use crate::format::CellKind;
use crate::kernels::{lane_of, packed_get, packed_len};
use crate::model::Model;

/// The smallest chunk of units the arena must hold (or `H`, if smaller).
pub const MIN_CHUNK: usize = 16;

/// Integer-only network over a validated [`Model`]: int8 weights, Q15 states (Q16 cell
/// states), int32 accumulators, Q16 pre-activations and outputs, in a caller's arena.
#[derive(Debug)]
pub struct NetQ<'n> {
    model: &'n Model<'n>,
    arena: &'n mut [i32],
    /// Units per chunk.
    chunk: usize,
    /// Bit `l`: which of layer `l`'s two `h` buffers holds its state.
    current: u8,
}

/// Words of arena the integer network ([`NetQ`]) needs for a model of `layers` layers of
/// `hidden` units of `cell` (outputs aside: they go in their own buffer), as a `const fn`
/// so that a firmware sizes its arena at compile time:
///
/// ```
/// use micrornn::{arena_words, CellKind};
///
/// // Enough for any model of up to 2 layers of up to 32 units, whatever its cell.
/// const ARENA_WORDS: usize = arena_words(CellKind::Lstm, 2, 32);
/// static ARENA: [i32; ARENA_WORDS] = [0; ARENA_WORDS]; // a `static mut` on a device
/// assert_eq!(ARENA.len(), 208);
/// ```
///
/// Equal to [`NetQ::needs`] of such a model. It never decreases when `layers` or `hidden`
/// grows, and an RNN needs no more than a GRU, a GRU no more than an LSTM: an arena sized
/// for the LSTM of the largest shape a board accepts serves every smaller model. Shapes
/// no model can have still give a count, saturated at `usize::MAX`, never an overflow.
pub const fn arena_words(cell: CellKind, layers: usize, hidden: usize) -> usize {
    let chunk = if hidden < MIN_CHUNK {
        hidden
    } else {
        MIN_CHUNK
    };
    let scratch = (cell.gates() + 1).saturating_mul(chunk);
    state_words(cell, layers, hidden).saturating_add(scratch)
}

/// Words of the arena's state part (`h` buffers and `c`), before the chunk scratch.
const fn state_words(cell: CellKind, layers: usize, hidden: usize) -> usize {
    let h = layers.saturating_mul(2).saturating_mul(packed_len(hidden));
    let c = match cell {
        CellKind::Lstm => layers.saturating_mul(hidden),
        CellKind::Rnn | CellKind::Gru => 0,
    };
    h.saturating_add(c)
}

/// [`state_words`] of a model.
fn model_state_words(m: &Model<'_>) -> usize {
    state_words(m.cell(), m.layer_count(), m.hidden())
}

impl<'n> NetQ<'n> {
    /// Words of arena this model needs (more makes larger chunks, up to `H` units):
    /// [`arena_words`] of its cell, layer count and hidden size.
    pub fn needs(model: &Model<'_>) -> usize {
        arena_words(model.cell(), model.layer_count(), model.hidden())
    }

    /// Words of arena with which every layer is computed in one chunk (the fastest).
    pub fn needs_for_speed(model: &Model<'_>) -> usize {
        model_state_words(model) + (model.cell().gates() + 1) * model.hidden()
    }

    /// Binds a model to a caller-given arena, all states zero; refuses an arena shorter
    /// than [`NetQ::needs`] with [`Error::BufferTooSmall`] (in bytes).
    pub fn new(model: &'n Model<'n>, arena: &'n mut [i32]) -> Result<Self> {
        let needed = Self::needs(model);
        if arena.len() < needed {
            return Err(Error::BufferTooSmall {
                what: "RAM for the state",
                needed: 4 * needed,
                capacity: 4 * arena.len(),
            });
        }
        let (h, per_unit) = (model.hidden(), model.cell().gates() + 1);
        let fit = (arena.len() - model_state_words(model)) / per_unit;
        let chunk = if fit >= h { h } else { fit & !3 };
        let used = model_state_words(model) + per_unit * chunk;
        let mut net = NetQ {
            model,
            arena: &mut arena[..used],
            chunk,
            current: 0,
        };
        net.reset();
        Ok(net)
    }

    /// Layer `l`'s state, packed (empty past the last layer).
    fn state(&self, l: usize) -> &[i32] {
        if l >= self.model.layer_count() {
            return &[];
        }
        let p = packed_len(self.model.hidden());
        let at = (2 * l + (self.current >> l & 1) as usize) * p;
        &self.arena[at..at + p]
    }

    /// Layer `l`'s state `h` (Q15), unit `i`; 0 past the last layer or unit.
    pub fn hidden_state(&self, l: usize, i: usize) -> i16 {
        let h = self.model.hidden();
        if i >= h {
            return 0;
        }
        packed_get(self.state(l), h, i)
    }

    /// Layer `l`'s cell state `c` (Q16), unit `i`; 0 for cells without one, and past the
    /// last layer or unit.
    pub fn cell_state(&self, l: usize, i: usize) -> i32 {
        let m = self.model;
        let (h, l_count) = (m.hidden(), m.layer_count());
        if m.cell() != CellKind::Lstm || l >= l_count || i >= h {
            return 0;
        }
        self.arena[2 * l_count * packed_len(h) + l * h + lane_of(i, h)]
    }

    /// Units computed per chunk.
    pub fn chunk(&self) -> usize {
        self.chunk
    }
}

impl Net for NetQ<'_> {
    fn outputs(&self) -> usize {
        self.model.outputs()
    }

    fn inputs(&self) -> usize {
        self.model.layer(0).w_x.rows
    }

    fn reset(&mut self) {
        // The states (h, c); the rest is scratch, written before it is read.
        self.arena[..model_state_words(self.model)].fill(0);
        self.current = 0;
    }

    fn feed(&mut self, token: u16) {
        let m = self.model;
        let (h, p, k) = (m.hidden(), packed_len(m.hidden()), self.chunk);
        let (cell, gates) = (m.cell(), m.cell().gates());
        let (hs, rest) = self.arena.split_at_mut(2 * m.layer_count() * p);
        let c_len = if cell == CellKind::Lstm {
            m.layer_count() * h
        } else {
            0
        };
        let (cs, rest) = rest.split_at_mut(c_len);
        let (pre, xs) = rest.split_at_mut(gates * k);
        let w0 = &m.layer(0).w_x;
        let t = token as usize;
        for (l, layer) in m.layers().iter().enumerate() {
            let (below, own) = hs.split_at_mut(2 * l * p);
            let input = match l {
                0 => Input::Row {
                    term: InputTerm::new(w0.scale_bits(t)),
                    row: w0.row(t),
                },
                // The layer below's state: already the new one.
                _ => {
                    let at = (2 * (l - 1) + (self.current >> (l - 1) & 1) as usize) * p;
                    Input::Packed(&below[at..at + p])
                }
            };
            let (b0, b1) = own[..2 * p].split_at_mut(p);
            let (hp, new) = if self.current >> l & 1 == 0 {
                (&*b0, b1)
            } else {
                (&*b1, b0)
            };
            let mut start = 0;
            while start < h {
                let k = k.min(h - start);
                let (pre, xs) = (&mut pre[..gates * k], &mut xs[..k]);
                let split = cell == CellKind::Gru;
                gate_rows(&layer.w_x, &layer.w_h, h, &input, hp, start, pre, xs, split);
                let new = &mut new[start / 2..];
                match cell {
                    CellKind::Rnn => rnn::step_q(pre, new),
                    CellKind::Gru => {
                        // The chunk's old h: the same layout from word start / 2 on.
                        gru::step_q(pre, xs, &hp[start / 2..], new)
                    }
                    CellKind::Lstm => lstm::step_q(pre, &mut cs[l * h + start..][..k], new),
                }
                start += k;
            }
            self.current ^= 1 << l;
        }
    }

    fn output(&mut self, out: &mut [i32]) {
        let m = self.model;
        let top = self.state(m.layer_count() - 1);
        rows(
            m.w_out(),
            0,
            top,
            &mut out[..m.outputs()],
            None,
            Order::Natural,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::MAX_LAYERS;
    use crate::format::Task;
    use crate::model::tests::{random_model, Shape};
    use crate::rng::Rng;

    const CELLS: [CellKind; 3] = [CellKind::Rnn, CellKind::Gru, CellKind::Lstm];

    /// The arena layout of the module docs, written out: `h` buffers, `c` (LSTM), and
    /// the scratch of one chunk of at least `MIN_CHUNK` units (or all of them).
    fn layout_words(cell: CellKind, layers: usize, hidden: usize) -> usize {
        let c = if cell == CellKind::Lstm {
            layers * hidden
        } else {
            0
        };
        2 * layers * hidden.div_ceil(2) + c + (cell.gates() + 1) * hidden.min(MIN_CHUNK)
    }

    #[test]
    fn arena_words_is_what_every_model_needs() {
        // Usable in a constant (a board's static arena).
        const WORDS: usize = arena_words(CellKind::Gru, 2, 50);
        assert_eq!(WORDS, 2 * 2 * 25 + 4 * 16);
        let mut rng = Rng::new(21);
        let mut data = [0u8; 120_000];
        let mut arena = [0i32; 4000];
        let mut logits = [0i32; 32];
        let mut shapes = 0;
        for cell in CELLS {
            for layers in 1..=MAX_LAYERS {
                for hidden in (1..=40).chain([47, 63, 64, 65, 96]) {
                    let words = arena_words(cell, layers, hidden);
                    assert_eq!(words, layout_words(cell, layers, hidden));
                    // A model of the shape: exactly that arena works, one word less is refused.
                    if cell.gates() * hidden * hidden * (2 * layers) > 100_000 {
                        continue;
                    }
                    let shape = Shape {
                        cell,
                        task: Task::Generate,
                        layers,
                        vocab: 5 + hidden % 7,
                        hidden,
                        labels: 0,
                    };
                    let m = random_model(&mut data, shape, hidden % 4, false, &mut rng);
                    assert_eq!(NetQ::needs(&m), words, "{shape:?}");
                    let mut net = NetQ::new(&m, &mut arena[..words]).unwrap();
                    net.step(crate::vocab::START, &mut logits);
                    net.step(2, &mut logits);
                    assert!(NetQ::new(&m, &mut arena[..words - 1]).is_err(), "{shape:?}");
                    shapes += 1;
                }
            }
        }
        assert!(shapes > 400, "{shapes}");
    }

    #[test]
    fn arena_words_grows_with_the_shape_and_never_overflows() {
        for (i, cell) in CELLS.into_iter().enumerate() {
            for layers in 1..=MAX_LAYERS {
                for hidden in 1..=crate::model::MAX_HIDDEN {
                    let words = arena_words(cell, layers, hidden);
                    assert!(words <= arena_words(cell, layers, hidden + 1));
                    assert!(words <= arena_words(cell, layers + 1, hidden));
                    if let Some(&bigger) = CELLS.get(i + 1) {
                        assert!(words <= arena_words(bigger, layers, hidden));
                    }
                }
            }
        }
        assert_eq!(
            arena_words(CellKind::Lstm, usize::MAX, usize::MAX),
            usize::MAX
        );
        assert_eq!(arena_words(CellKind::Rnn, 0, 0), 0);
    }

    #[test]
    fn questions_out_of_range_get_zero_or_an_error_never_a_panic() {
        let shape = Shape {
            cell: CellKind::Lstm,
            task: Task::Generate,
            layers: 2,
            vocab: 4,
            hidden: 5,
            labels: 0,
        };
        let (mut data, mut rng) = ([0u8; 4000], Rng::new(3));
        let m = random_model(&mut data, shape, 0, false, &mut rng);
        let (mut arena, mut logits) = ([0i32; 200], [0i32; 16]);
        let mut net = NetQ::new(&m, &mut arena).unwrap();
        net.step(crate::vocab::START, &mut logits);
        assert!((0..5).any(|i| net.hidden_state(1, i) != 0 && net.cell_state(1, i) != 0));
        for (l, i) in [(2, 0), (0, 5), (9, 99), (usize::MAX, usize::MAX)] {
            assert_eq!((net.hidden_state(l, i), net.cell_state(l, i)), (0, 0));
        }
        // A vocabulary of another model, with tokens this network has no input for.
        assert_eq!(net.inputs(), 4);
        let other = crate::Vocab::new("abcdefgh").unwrap();
        let e = crate::classify(&mut net, &other, "h", &mut logits).unwrap_err();
        assert!(matches!(e, Error::BadVocab { .. }), "{e:?}");
        let settings = crate::Settings::default();
        let e = crate::generate(
            &mut net,
            &other,
            &settings,
            "h",
            &mut rng,
            &mut logits,
            |_| {},
        );
        assert!(e.is_err());
    }
}
