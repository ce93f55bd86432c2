//! The float seq2seq network over [`Seq2seqWeights`]: the three stacks run by [`NetF`],
//! the float attention, the output layer — PLAN's equations in f32, the reference the
//! trainer and the integer path are compared with.
//!
//! Arena layout (f32; `H` the decoder's width, `P` its tokens): the forward encoder's,
//! the backward encoder's and the decoder's [`NetF`] arenas, the memory (`MAX_INPUT · H`:
//! `e_j = [f_j ; b_j]`), the probabilities (`MAX_INPUT`), the context (`H`), the logits
//! (`P`).

use super::attention::attend_f32;
use super::quant::{check_step, state_buffer};
use super::{word_ids, Seq2seqNet, Seq2seqWeights, MAX_INPUT};
use crate::cell::{f32_to_q16, Net, NetF};
use crate::error::{Error, Result};
use crate::kernels::dot_f32;
use crate::vocab::{Vocab, SPECIALS};

/// The float encoder–decoder over borrowed weights and a caller's arena.
#[derive(Debug)]
pub struct Seq2seqF<'n> {
    w: &'n Seq2seqWeights<'n>,
    vocab: Vocab<'n>,
    arena: &'n mut [f32],
    /// Characters of the encoded word.
    t: usize,
}

/// The arena's parts, in order.
struct Split<'x> {
    nets: [&'x mut [f32]; 3],
    mem: &'x mut [f32],
    probs: &'x mut [f32],
    ctx: &'x mut [f32],
    logits: &'x mut [f32],
}

impl<'n> Seq2seqF<'n> {
    /// Floats of arena these weights need.
    pub fn needs(w: &Seq2seqWeights<'_>) -> usize {
        let (h, p) = (w.shape.hidden, w.shape.out_tokens);
        NetF::needs(&w.enc_fwd)
            + NetF::needs(&w.enc_bwd)
            + NetF::needs(&w.dec)
            + MAX_INPUT * h
            + MAX_INPUT
            + h
            + p
    }

    /// Binds weights (and the spelling's vocabulary, whose token count must be the
    /// weights' `in_tokens`) to an arena; refuses inconsistent weights or a short arena.
    pub fn new(w: &'n Seq2seqWeights<'n>, vocab: Vocab<'n>, arena: &'n mut [f32]) -> Result<Self> {
        if !w.is_consistent() {
            return Err(Error::BadSetting {
                what: "seq2seq float weight lengths do not match the shape",
            });
        }
        if vocab.tokens() != w.shape.in_tokens {
            return Err(Error::BadVocab {
                reason: "character count does not match the weights' input tokens",
            });
        }
        let needed = Self::needs(w);
        if arena.len() < needed {
            return Err(Error::BufferTooSmall {
                what: "float arena",
                needed: 4 * needed,
                capacity: 4 * arena.len(),
            });
        }
        let arena = &mut arena[..needed];
        arena.fill(0.0);
        Ok(Seq2seqF {
            w,
            vocab,
            arena,
            t: 0,
        })
    }

    /// The arena cut into its parts.
    fn split(&mut self) -> Split<'_> {
        let w = self.w;
        let (h, p) = (w.shape.hidden, w.shape.out_tokens);
        let (fwd, rest) = self.arena.split_at_mut(NetF::needs(&w.enc_fwd));
        let (bwd, rest) = rest.split_at_mut(NetF::needs(&w.enc_bwd));
        let (dec, rest) = rest.split_at_mut(NetF::needs(&w.dec));
        let (mem, rest) = rest.split_at_mut(MAX_INPUT * h);
        let (probs, rest) = rest.split_at_mut(MAX_INPUT);
        let (ctx, logits) = rest.split_at_mut(h);
        Split {
            nets: [fwd, bwd, dec],
            mem,
            probs,
            ctx,
            logits: &mut logits[..p],
        }
    }

    /// Runs the encoder over character ids (each at least 2 and below the input tokens;
    /// 1..=`MAX_INPUT` of them).
    pub fn encode_ids(&mut self, ids: &[u16]) -> Result<usize> {
        let v = self.w.shape.in_tokens;
        if ids.is_empty() {
            return Err(Error::BadSetting { what: "empty word" });
        }
        if ids.len() > MAX_INPUT {
            return Err(Error::InputTooLong {
                len: ids.len(),
                max: MAX_INPUT,
            });
        }
        if ids
            .iter()
            .any(|&i| (i as usize) < SPECIALS || i as usize >= v)
        {
            return Err(Error::BadSetting {
                what: "input token out of range",
            });
        }
        let w = self.w;
        let (t, h, he) = (ids.len(), w.shape.hidden, w.shape.hidden / 2);
        let s = self.split();
        let [fwd, bwd, _] = s.nets;
        for (dir, (stack, arena)) in [(w.enc_fwd, fwd), (w.enc_bwd, bwd)].into_iter().enumerate() {
            let mut net = NetF::new(stack, arena)?;
            for step in 0..t {
                let j = if dir == 0 { step } else { t - 1 - step };
                net.feed(ids[j]);
                let top = net.hidden_state(w.shape.layers - 1);
                s.mem[j * h + dir * he..][..he].copy_from_slice(top);
            }
        }
        self.t = t;
        Ok(t)
    }

    /// One decoder step: feeds `prev` (the boundary first), attends, writes the `P` float
    /// logits to `logits`.
    pub fn step_f32(&mut self, prev: u16, logits: &mut [f32]) -> Result<()> {
        let p = self.w.shape.out_tokens;
        check_step(prev, p, logits.len())?;
        let out = self.run_step(prev)?;
        logits[..p].copy_from_slice(out);
        Ok(())
    }

    /// One decoder step, its logits left in the arena.
    fn run_step(&mut self, prev: u16) -> Result<&[f32]> {
        let w = self.w;
        let (h, t) = (w.shape.hidden, self.t);
        let s = self.split();
        let [_, _, dec] = s.nets;
        let mut net = NetF::resume(w.dec, dec)?;
        net.feed(prev);
        let top = net.hidden_state(w.shape.layers - 1);
        attend_f32(top, &s.mem[..t * h], &mut s.probs[..t], s.ctx);
        for (k, l) in s.logits.iter_mut().enumerate() {
            let row = &w.w_out[k * 2 * h..(k + 1) * 2 * h];
            *l = dot_f32(&row[..h], top) + dot_f32(&row[h..], s.ctx) + w.b_out[k];
        }
        Ok(s.logits)
    }

    /// Where the decoder's arena starts: its `h` (`L·H`), then its `c` (`L·H`, LSTM) —
    /// [`Seq2seqNet::state_words`] floats.
    fn dec_offset(&self) -> usize {
        NetF::needs(&self.w.enc_fwd) + NetF::needs(&self.w.enc_bwd)
    }
}

impl Seq2seqNet for Seq2seqF<'_> {
    fn out_tokens(&self) -> usize {
        self.w.shape.out_tokens
    }

    fn encode(&mut self, word: &str) -> Result<usize> {
        let mut ids = [0u16; MAX_INPUT];
        let t = word_ids(&self.vocab, word, &mut ids)?;
        self.encode_ids(&ids[..t])
    }

    fn start(&mut self) {
        let w = self.w;
        let (l_count, he) = (w.shape.layers, w.shape.hidden / 2);
        let s = self.split();
        let [fwd, bwd, dec] = s.nets;
        let (Ok(mut fwd), Ok(mut bwd), Ok(mut dec)) = (
            NetF::resume(w.enc_fwd, fwd),
            NetF::resume(w.enc_bwd, bwd),
            NetF::new(w.dec, dec),
        ) else {
            return;
        };
        let (dh, dc) = dec.states_mut();
        for (dir, enc) in [&mut fwd, &mut bwd].into_iter().enumerate() {
            let (eh, ec) = enc.states_mut();
            for l in 0..l_count {
                let at = l * 2 * he + dir * he;
                dh[at..at + he].copy_from_slice(&eh[l * he..(l + 1) * he]);
                if let (Some(d), Some(e)) = (dc.get_mut(at..at + he), ec.get(l * he..(l + 1) * he))
                {
                    d.copy_from_slice(e);
                }
            }
        }
    }

    fn step(&mut self, prev: u16, logits: &mut [i32]) -> Result<()> {
        let p = self.w.shape.out_tokens;
        check_step(prev, p, logits.len())?;
        let out = self.run_step(prev)?;
        for (q, &l) in logits.iter_mut().zip(out) {
            *q = f32_to_q16(l);
        }
        Ok(())
    }

    fn state_words(&self) -> usize {
        let s = &self.w.shape;
        let c = if s.cell == crate::format::CellKind::Lstm {
            2
        } else {
            1
        };
        c * s.layers * s.hidden
    }

    fn save_state(&self, out: &mut [i32]) -> Result<()> {
        let n = self.state_words();
        let out = state_buffer(out, n)?;
        let at = self.dec_offset();
        for (o, &x) in out.iter_mut().zip(&self.arena[at..at + n]) {
            *o = x.to_bits() as i32;
        }
        Ok(())
    }

    fn load_state(&mut self, saved: &[i32]) -> Result<()> {
        let n = self.state_words();
        let saved = saved.get(..n).ok_or(Error::BufferTooSmall {
            what: "saved state",
            needed: 4 * n,
            capacity: 4 * saved.len(),
        })?;
        let at = self.dec_offset();
        for (d, &x) in self.arena[at..at + n].iter_mut().zip(saved) {
            *d = f32::from_bits(x as u32);
        }
        Ok(())
    }
}
