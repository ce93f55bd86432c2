//! Generating one name: feed start and the prefix, then sample until end or the length limit.

use crate::cell::Net;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::sampler::{sample, Settings};
use crate::vocab::{Vocab, END, START};

/// Generates one name with `net`, calling `emit` for each character (prefix included).
///
/// `logits` is scratch of at least `net.outputs()` elements (the vocabulary size). The start token is
/// never emitted, and the end token is not allowed before the first character, so
/// every name has at least one character. Returns the number of characters.
/// Errors (a network whose outputs are not the vocabulary's tokens, bad settings, a prefix
/// character outside the vocabulary, a prefix longer than `max_len`) are reported before
/// anything is emitted.
pub fn generate<N: Net + ?Sized>(
    net: &mut N,
    vocab: &Vocab<'_>,
    settings: &Settings,
    prefix: &str,
    rng: &mut Rng,
    logits: &mut [i32],
    mut emit: impl FnMut(char),
) -> Result<usize> {
    settings.validate()?;
    let v = net.outputs();
    if v != vocab.tokens() {
        return Err(Error::WrongTask(crate::format::Task::Classify)); // no next-token outputs
    }
    if vocab.tokens() > net.inputs() {
        return Err(Error::BadVocab {
            reason: "it has more tokens than the network reads",
        });
    }
    if logits.len() < v {
        return Err(Error::BufferTooSmall {
            what: "logits buffer",
            needed: 4 * v,
            capacity: 4 * logits.len(),
        });
    }
    let logits = &mut logits[..v];
    let mut len = 0;
    for c in prefix.chars() {
        vocab.token(c)?;
        len += 1;
    }
    if len > settings.max_len as usize {
        return Err(Error::PrefixTooLong {
            len,
            max: settings.max_len as usize,
        });
    }
    // Feed start, then the prefix; the logits of the last one.
    net.reset();
    net.feed(START);
    for c in prefix.chars() {
        emit(c);
        net.feed(vocab.token(c)?);
    }
    net.output(logits);
    // Sample until end or the length limit.
    while len < settings.max_len as usize {
        let allow_end = len > 0;
        let allowed = |i: usize| i != START as usize && (allow_end || i != END as usize);
        let Some(token) = sample(logits, allowed, settings, rng) else {
            break;
        };
        if token == END {
            break;
        }
        let Some(c) = vocab.char_of(token) else { break };
        emit(c);
        len += 1;
        net.step(token, logits);
    }
    Ok(len)
}
