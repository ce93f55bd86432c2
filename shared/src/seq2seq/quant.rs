//! The integer seq2seq network: the three stacks run by [`NetQ`], the attention of
//! [`super::attention`], the output layer in its two halves. Int8 weights, Q15 states,
//! `i32`/`i64` accumulators: the same bits on every target.
//!
//! Arena layout (`i32` words; `pk(n) = packed_len(n)`, `H` the decoder's width, `P` its
//! tokens, `T ≤ MAX_INPUT`):
//!
//! | part | words | holds |
//! |---|---|---|
//! | forward encoder | `NetQ::stack_needs` | its states and scratch |
//! | backward encoder | the same | |
//! | decoder | `NetQ::stack_needs` | its states and scratch |
//! | memory | `MAX_INPUT · pk(H)` | `e_j = [f_j ; b_j]`, packed Q15 (H-vector layout) |
//! | probabilities | `MAX_INPUT` | the attention's scores, then weights (Q15) |
//! | context | `pk(H)` | `c_t`, packed Q15 |
//! | output scratch | `P` | the context half of the logits |

use super::attention::attend_q;
use super::layout::{read, Parts};
use super::{word_ids, Phonemes, Seq2seqNet, MAX_INPUT};
use crate::cell::{arena_words as stack_words, Net, NetQ};
use crate::error::{Error, Result};
use crate::fixed::requant_q16;
use crate::format::{CellKind, Task};
use crate::kernels::{lane_of, matvec_q8_packed, packed_get, packed_len};
use crate::model::Model;
use crate::vocab::Vocab;

/// Words of arena the integer seq2seq network ([`Seq2seqQ`]) needs for a model of this
/// shape (`hidden` = the decoder's `H`, `out_tokens` = `P`), as a `const fn` so that a
/// firmware sizes its arena at compile time. Equal to [`Seq2seqQ::needs`] of such a
/// model; saturates instead of overflowing.
pub const fn arena_words(
    cell: CellKind,
    layers: usize,
    hidden: usize,
    embed: usize,
    out_tokens: usize,
) -> usize {
    let (he, e, ph) = (hidden / 2, packed_len(embed), packed_len(hidden));
    let enc = stack_words(cell, layers, he).saturating_add(e);
    let dec = stack_words(cell, layers, hidden).saturating_add(e);
    let mem = MAX_INPUT.saturating_mul(ph);
    enc.saturating_mul(2)
        .saturating_add(dec)
        .saturating_add(mem)
        .saturating_add(MAX_INPUT)
        .saturating_add(ph)
        .saturating_add(out_tokens)
}

/// The integer encoder–decoder over a validated seq2seq [`Model`] and a caller's arena.
#[derive(Debug)]
pub struct Seq2seqQ<'n> {
    parts: Parts<'n>,
    vocab: Vocab<'n>,
    phonemes: Phonemes<'n>,
    arena: &'n mut [i32],
    /// Each stack's [`NetQ::parity`]: forward, backward, decoder.
    parity: [u8; 3],
    /// Characters of the encoded word.
    t: usize,
}

/// The arena's parts, in order (see the module docs).
struct Split<'x> {
    nets: [&'x mut [i32]; 3],
    mem: &'x mut [i32],
    probs: &'x mut [i32],
    ctx: &'x mut [i32],
    out_c: &'x mut [i32],
}

impl<'n> Seq2seqQ<'n> {
    /// Words of arena this model needs ([`arena_words`] of its shape); a model of another
    /// task is [`Error::WrongTask`].
    pub fn needs(model: &Model<'_>) -> Result<usize> {
        if model.task() != Task::Seq2seq {
            return Err(Error::WrongTask(model.task()));
        }
        let c = model.config();
        Ok(arena_words(
            c.cell,
            c.layers as usize,
            c.hidden as usize,
            c.embed as usize,
            model.outputs(),
        ))
    }

    /// Binds a seq2seq model to a caller-given arena (all states zero); refuses another
    /// task ([`Error::WrongTask`]) or an arena shorter than [`Seq2seqQ::needs`]
    /// ([`Error::BufferTooSmall`], in bytes).
    pub fn new(model: &'n Model<'n>, arena: &'n mut [i32]) -> Result<Self> {
        let needed = Self::needs(model)?;
        if arena.len() < needed {
            return Err(Error::BufferTooSmall {
                what: "RAM for the seq2seq network",
                needed: 4 * needed,
                capacity: 4 * arena.len(),
            });
        }
        let (tensors, data) = model.tensor_bytes();
        let c = *model.config();
        let labels = model.labels_str();
        let parts = read(c, model.vocab.tokens(), labels, tensors, data)?;
        let arena = &mut arena[..needed];
        arena.fill(0);
        Ok(Seq2seqQ {
            parts,
            vocab: model.vocab,
            phonemes: Phonemes::new(labels)?,
            arena,
            parity: [0; 3],
            t: 0,
        })
    }

    /// The decoder's vocabulary.
    pub fn phonemes(&self) -> Phonemes<'n> {
        self.phonemes
    }

    /// The spelling's vocabulary.
    pub fn vocab(&self) -> Vocab<'n> {
        self.vocab
    }

    /// Characters of the word [`Seq2seqNet::encode`] read last.
    pub fn encoded_len(&self) -> usize {
        self.t
    }

    /// The arena cut into its parts.
    fn split(&mut self) -> Split<'_> {
        let ph = packed_len(self.parts.dec.hidden());
        let lens = [
            NetQ::stack_needs(&self.parts.enc[0]),
            NetQ::stack_needs(&self.parts.enc[1]),
            NetQ::stack_needs(&self.parts.dec),
        ];
        let (fwd, rest) = self.arena.split_at_mut(lens[0]);
        let (bwd, rest) = rest.split_at_mut(lens[1]);
        let (dec, rest) = rest.split_at_mut(lens[2]);
        let (mem, rest) = rest.split_at_mut(MAX_INPUT * ph);
        let (probs, rest) = rest.split_at_mut(MAX_INPUT);
        let (ctx, out_c) = rest.split_at_mut(ph);
        Split {
            nets: [fwd, bwd, dec],
            mem,
            probs,
            ctx,
            out_c,
        }
    }

    /// Runs the encoder over character ids (each checked by the caller).
    fn encode_ids(&mut self, ids: &[u16]) -> Result<usize> {
        let t = ids.len().min(MAX_INPUT);
        let (h, he) = (self.parts.dec.hidden(), self.parts.enc[0].hidden());
        let ph = packed_len(h);
        let parts = self.parts;
        let mut parity = self.parity;
        let s = self.split();
        let [fwd, bwd, _] = s.nets;
        for (dir, arena) in [fwd, bwd].into_iter().enumerate() {
            let mut net = NetQ::on_stack(&parts.enc[dir], arena)?;
            for step in 0..t {
                let j = if dir == 0 { step } else { t - 1 - step };
                net.feed(ids[j]);
                let top = net.state(parts.enc[dir].layer_count() - 1);
                let e = &mut s.mem[j * ph..(j + 1) * ph];
                copy_half(top, he, e, h, dir * he);
            }
            parity[dir] = net.parity();
        }
        self.parity = parity;
        self.t = t;
        Ok(t)
    }
}

/// Writes the `m` values of the packed `src` into the packed `dst` of `n` values, at
/// elements `at..at + m`.
fn copy_half(src: &[i32], m: usize, dst: &mut [i32], n: usize, at: usize) {
    for i in 0..m {
        set_lane(dst, n, at + i, packed_get(src, m, i));
    }
}

/// Sets element `i` of the packed `xp` of `n` values (nothing if it has no word for it).
fn set_lane(xp: &mut [i32], n: usize, i: usize, v: i16) {
    let lane = lane_of(i, n);
    if let Some(w) = xp.get_mut(lane / 2) {
        *w = if lane % 2 == 0 {
            (*w & !0xffff) | v as u16 as i32
        } else {
            (*w & 0xffff) | (v as i32) << 16
        };
    }
}

impl Seq2seqNet for Seq2seqQ<'_> {
    fn out_tokens(&self) -> usize {
        self.phonemes.tokens()
    }

    fn encode(&mut self, word: &str) -> Result<usize> {
        let mut ids = [0u16; MAX_INPUT];
        let t = word_ids(&self.vocab, word, &mut ids)?;
        self.encode_ids(&ids[..t])
    }

    fn start(&mut self) {
        let parts = self.parts;
        let (h, he) = (parts.dec.hidden(), parts.enc[0].hidden());
        let parity = self.parity;
        let s = self.split();
        let [fwd, bwd, dec] = s.nets;
        let (Ok(mut dec), Ok(mut fwd), Ok(mut bwd)) = (
            NetQ::on_stack(&parts.dec, dec),
            NetQ::resume_stack(&parts.enc[0], fwd, parity[0]),
            NetQ::resume_stack(&parts.enc[1], bwd, parity[1]),
        ) else {
            return;
        };
        for l in 0..parts.dec.layer_count() {
            for (dir, enc) in [&mut fwd, &mut bwd].into_iter().enumerate() {
                copy_half(enc.state(l), he, dec.state_mut(l), h, dir * he);
                let c = dec.cell_mut(l);
                for (i, &v) in enc.cell_mut(l).iter().enumerate() {
                    // Lane order: unit `lane_of(i)` of the encoder is at its lane `i`.
                    let unit = dir * he + lane_of(i, he);
                    if let Some(d) = c.get_mut(lane_of(unit, h)) {
                        *d = v;
                    }
                }
            }
        }
        self.parity[2] = dec.parity();
    }

    fn step(&mut self, prev: u16, logits: &mut [i32]) -> Result<()> {
        let p = self.phonemes.tokens();
        check_step(prev, p, logits.len())?;
        let parts = self.parts;
        let (t, parity) = (self.t, self.parity[2]);
        let s = self.split();
        let [_, _, dec] = s.nets;
        let mut net = NetQ::resume_stack(&parts.dec, dec, parity)?;
        net.feed(prev);
        let ph = s.ctx.len();
        let top = net.state(parts.dec.layer_count() - 1);
        attend_q(top, &s.mem[..t * ph], &mut s.probs[..t], s.ctx);
        // logits = (requant(W_out_h · h) ⊕ b_out) ⊕ requant(W_out_c · c)
        let logits = &mut logits[..p];
        net.output(logits);
        let w_c = &parts.w_out_c;
        let out_c = &mut s.out_c[..p];
        matvec_q8_packed(w_c.weights, w_c.cols, s.ctx, out_c);
        for (k, (l, &acc)) in logits.iter_mut().zip(out_c.iter()).enumerate() {
            *l = l.saturating_add(requant_q16(acc, w_c.scale_bits(k)));
        }
        self.parity[2] = net.parity();
        Ok(())
    }

    fn state_words(&self) -> usize {
        let d = &self.parts.dec;
        let c = if d.cell == CellKind::Lstm {
            d.hidden()
        } else {
            0
        };
        d.layer_count() * (packed_len(d.hidden()) + c)
    }

    fn save_state(&self, out: &mut [i32]) -> Result<()> {
        let n = self.state_words();
        let out = state_buffer(out, n)?;
        let d = &self.parts.dec;
        let (p, c) = (
            packed_len(d.hidden()),
            if d.cell == CellKind::Lstm {
                d.hidden()
            } else {
                0
            },
        );
        // The decoder's arena is first its h buffers (two per layer), then its c.
        let c_at = self.arena_dec_offset() + 2 * d.layer_count() * p;
        for l in 0..d.layer_count() {
            let cur = (self.parity[2] >> l & 1) as usize;
            let at = self.arena_dec_offset() + (2 * l + cur) * p;
            out[l * p..(l + 1) * p].copy_from_slice(&self.arena[at..at + p]);
        }
        let cs = &mut out[d.layer_count() * p..];
        cs.copy_from_slice(&self.arena[c_at..c_at + d.layer_count() * c]);
        Ok(())
    }

    fn load_state(&mut self, saved: &[i32]) -> Result<()> {
        let n = self.state_words();
        let saved = saved.get(..n).ok_or(Error::BufferTooSmall {
            what: "saved state",
            needed: 4 * n,
            capacity: 4 * saved.len(),
        })?;
        let d = self.parts.dec;
        let p = packed_len(d.hidden());
        let at = self.arena_dec_offset();
        for l in 0..d.layer_count() {
            let dst = at + 2 * l * p;
            self.arena[dst..dst + p].copy_from_slice(&saved[l * p..(l + 1) * p]);
        }
        let c_at = at + 2 * d.layer_count() * p;
        let cs = &saved[d.layer_count() * p..];
        self.arena[c_at..c_at + cs.len()].copy_from_slice(cs);
        self.parity[2] = 0;
        Ok(())
    }
}

impl Seq2seqQ<'_> {
    /// Where the decoder's arena starts.
    fn arena_dec_offset(&self) -> usize {
        NetQ::stack_needs(&self.parts.enc[0]) + NetQ::stack_needs(&self.parts.enc[1])
    }
}

/// Checks a step's input token and logits buffer.
pub(crate) fn check_step(prev: u16, p: usize, logits: usize) -> Result<()> {
    if logits < p {
        return Err(Error::BufferTooSmall {
            what: "logits buffer",
            needed: 4 * p,
            capacity: 4 * logits,
        });
    }
    if prev as usize >= p {
        return Err(Error::BadSetting {
            what: "decoder token out of range",
        });
    }
    Ok(())
}

/// The first `n` words of a state buffer, or [`Error::BufferTooSmall`].
pub(crate) fn state_buffer<T>(out: &mut [T], n: usize) -> Result<&mut [T]> {
    let capacity = 4 * out.len();
    out.get_mut(..n).ok_or(Error::BufferTooSmall {
        what: "state buffer",
        needed: 4 * n,
        capacity,
    })
}
