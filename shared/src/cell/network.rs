//! The integer network: every layer of a [`Model`] (any cell, 1..=4 layers) chained, then
//! the output layer, over one caller-given arena of `i32` words. No allocation.
//!
//! Arena layout (words; `H` hidden, `P = packed_len(H)`, `L` layers, `G` gate blocks):
//!
//! | part | words | holds |
//! |---|---|---|
//! | `h` | `2·L·P` | two buffers per layer, Q15, packed for the kernels ([`crate::kernels`]): the state, and the new state being computed; they swap roles after each step (no copy) |
//! | `c` | `L·H` (LSTM only) | each layer's cell state, Q16 (see [`super::lstm`]), in lane order ([`lane_of`]) |
//! | `e` | `packed_len(E)` (embedding apart only) | the token's embedding row, Q15, packed: layer 0's input |
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
use crate::fixed::requant_q16;
use crate::format::CellKind;
use crate::kernels::{lane_of, packed_get, packed_len};
use crate::model::{Model, Stack};
use crate::tensor::QTensor;

/// The smallest chunk of units the arena must hold (or `H`, if smaller).
pub const MIN_CHUNK: usize = 16;

/// Integer-only network over a validated [`Model`]: int8 weights, Q15 states (Q16 cell
/// states), int32 accumulators, Q16 pre-activations and outputs, in a caller's arena.
#[derive(Debug)]
pub struct NetQ<'n> {
    stack: &'n Stack<'n>,
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

/// [`state_words`] of a stack.
fn model_state_words(m: &Stack<'_>) -> usize {
    state_words(m.cell, m.layer_count(), m.hidden())
}

/// Words of the embedding row's buffer: `packed_len(E)` with the embedding apart, else 0.
fn embed_words(m: &Stack<'_>) -> usize {
    m.embedding().map_or(0, |e| packed_len(e.cols))
}

impl<'n> NetQ<'n> {
    /// Words of arena this model needs (more makes larger chunks, up to `H` units):
    /// [`arena_words`] of its cell, layer count and hidden size, and with the embedding
    /// apart ([`crate::InputLayout::Apart`]) `packed_len(E)` more for the embedding row.
    pub fn needs(model: &Model<'_>) -> usize {
        Self::stack_needs(model.stack())
    }

    /// [`NetQ::needs`] of one stack of layers.
    pub fn stack_needs(stack: &Stack<'_>) -> usize {
        arena_words(stack.cell, stack.layer_count(), stack.hidden()) + embed_words(stack)
    }

    /// Words of arena with which every layer is computed in one chunk (the fastest).
    pub fn needs_for_speed(model: &Model<'_>) -> usize {
        let m = model.stack();
        model_state_words(m) + embed_words(m) + (m.cell.gates() + 1) * m.hidden()
    }

    /// Binds a model to a caller-given arena, all states zero; refuses an arena shorter
    /// than [`NetQ::needs`] with [`Error::BufferTooSmall`] (in bytes).
    pub fn new(model: &'n Model<'n>, arena: &'n mut [i32]) -> Result<Self> {
        Self::on_stack(model.stack(), arena)
    }

    /// As [`NetQ::new`], for one stack of layers (a seq2seq model's encoders, decoder).
    pub fn on_stack(stack: &'n Stack<'n>, arena: &'n mut [i32]) -> Result<Self> {
        let mut net = Self::bind(stack, arena)?;
        net.reset();
        Ok(net)
    }

    /// As [`NetQ::resume`], for one stack of layers.
    pub fn resume_stack(stack: &'n Stack<'n>, arena: &'n mut [i32], parity: u8) -> Result<Self> {
        let mut net = Self::bind(stack, arena)?;
        net.current = parity;
        Ok(net)
    }

    /// Binds a model to an arena that holds the states a previous network of the same
    /// model and arena left, with that network's [`NetQ::parity`]: its sequence goes on
    /// (a text read line by line, the arena used for nothing else in between). Any bytes
    /// in the arena give some state, never a panic.
    pub fn resume(model: &'n Model<'n>, arena: &'n mut [i32], parity: u8) -> Result<Self> {
        Self::resume_stack(model.stack(), arena, parity)
    }

    /// Which of each layer's two state buffers holds its state (bit `l` for layer `l`):
    /// what [`NetQ::resume`] needs besides the arena.
    pub fn parity(&self) -> u8 {
        self.current
    }

    /// Binds a model to an arena without touching the states.
    fn bind(model: &'n Stack<'n>, arena: &'n mut [i32]) -> Result<Self> {
        let needed = Self::stack_needs(model);
        if arena.len() < needed {
            return Err(Error::BufferTooSmall {
                what: "RAM for the state",
                needed: 4 * needed,
                capacity: 4 * arena.len(),
            });
        }
        let (h, per_unit) = (model.hidden(), model.cell.gates() + 1);
        let fixed = model_state_words(model) + embed_words(model);
        let fit = (arena.len() - fixed) / per_unit;
        let chunk = if fit >= h { h } else { fit & !3 };
        let used = fixed + per_unit * chunk;
        Ok(NetQ {
            stack: model,
            arena: &mut arena[..used],
            chunk,
            current: 0,
        })
    }

    /// Layer `l`'s state, packed (empty past the last layer).
    pub(crate) fn state(&self, l: usize) -> &[i32] {
        let at = self.state_at(l);
        &self.arena[at.clone()]
    }

    /// Layer `l`'s state, packed, to write (empty past the last layer).
    #[cfg_attr(not(feature = "seq2seq"), allow(dead_code))]
    pub(crate) fn state_mut(&mut self, l: usize) -> &mut [i32] {
        let at = self.state_at(l);
        &mut self.arena[at]
    }

    /// Where layer `l`'s state is in the arena (empty past the last layer).
    fn state_at(&self, l: usize) -> core::ops::Range<usize> {
        if l >= self.stack.layer_count() {
            return 0..0;
        }
        let p = packed_len(self.stack.hidden());
        let at = (2 * l + (self.current >> l & 1) as usize) * p;
        at..at + p
    }

    /// Layer `l`'s cell state `c` (Q16, lane order), to read and write; empty for cells
    /// without one and past the last layer.
    #[cfg_attr(not(feature = "seq2seq"), allow(dead_code))]
    pub(crate) fn cell_mut(&mut self, l: usize) -> &mut [i32] {
        let (h, l_count) = (self.stack.hidden(), self.stack.layer_count());
        if self.stack.cell != CellKind::Lstm || l >= l_count {
            return &mut [];
        }
        let at = 2 * l_count * packed_len(h) + l * h;
        &mut self.arena[at..at + h]
    }

    /// Layer `l`'s state `h` (Q15), unit `i`; 0 past the last layer or unit.
    pub fn hidden_state(&self, l: usize, i: usize) -> i16 {
        let h = self.stack.hidden();
        if i >= h {
            return 0;
        }
        packed_get(self.state(l), h, i)
    }

    /// Layer `l`'s cell state `c` (Q16), unit `i`; 0 for cells without one, and past the
    /// last layer or unit.
    pub fn cell_state(&self, l: usize, i: usize) -> i32 {
        let m = self.stack;
        let (h, l_count) = (m.hidden(), m.layer_count());
        if m.cell != CellKind::Lstm || l >= l_count || i >= h {
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
        self.stack.w_out.rows
    }

    fn inputs(&self) -> usize {
        self.stack.inputs()
    }

    fn reset(&mut self) {
        // The states (h, c); the rest is scratch, written before it is read.
        self.arena[..model_state_words(self.stack)].fill(0);
        self.current = 0;
    }

    fn feed(&mut self, token: u16) {
        let m = self.stack;
        let (h, p, k) = (m.hidden(), packed_len(m.hidden()), self.chunk);
        let (cell, gates) = (m.cell, m.cell.gates());
        let (hs, rest) = self.arena.split_at_mut(2 * m.layer_count() * p);
        let c_len = if cell == CellKind::Lstm {
            m.layer_count() * h
        } else {
            0
        };
        let (cs, rest) = rest.split_at_mut(c_len);
        let (emb, rest) = rest.split_at_mut(embed_words(m));
        let (pre, xs) = rest.split_at_mut(gates * k);
        let w0 = &m.layer(0).w_x;
        let t = token as usize;
        if let Some(e) = m.embedding() {
            embedding_q15(e, t, emb);
        }
        for (l, layer) in m.layers().iter().enumerate() {
            let (below, own) = hs.split_at_mut(2 * l * p);
            let input = match l {
                // The embedding apart: its row, times layer 0's (G·H, E) weights.
                0 if !emb.is_empty() => Input::Packed(emb),
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
        let m = self.stack;
        let top = self.state(m.layer_count().wrapping_sub(1));
        rows(
            &m.w_out,
            0,
            top,
            &mut out[..m.w_out.rows],
            None,
            Order::Natural,
        );
    }
}

/// Row `t` of the embedding `e` as Q15 values `requant_q16(w << 14, scale)` (the value
/// `w · scale` in Q15), saturated to `-1 ..= 1 - 2^-15`, packed into `out`
/// (`packed_len(E)` words, [`crate::kernels`]' layout).
fn embedding_q15(e: &QTensor<'_>, t: usize, out: &mut [i32]) {
    let (row, scale, n) = (e.row(t), e.scale_bits(t), e.cols);
    let q15 = |i: usize| {
        let w = row.get(i).map_or(0, |&w| w as i8 as i32);
        requant_q16(w << 14, scale).clamp(i16::MIN as i32, i16::MAX as i32)
    };
    // Lane `j` of the packed layout holds element `lane_of(j, n)` (lane_of is its own
    // inverse); two lanes per word, low first, a zero after an odd last one.
    for (w, o) in out.iter_mut().enumerate() {
        let (lo, hi) = (2 * w, 2 * w + 1);
        let hi = if hi < n { q15(lane_of(hi, n)) } else { 0 };
        *o = (q15(lane_of(lo, n)) & 0xffff) | hi << 16;
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
