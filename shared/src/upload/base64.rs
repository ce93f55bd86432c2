//! Base64 (RFC 4648 §4, standard alphabet, `=` padding): a decoder fed one character at a
//! time that writes straight into a [`Scratch`], and an encoder into a caller's buffer.

use super::scratch::Scratch;

/// Why a base64 text does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A character outside the alphabet, or misplaced padding.
    BadChar,
    /// The text does not end on a group of four characters, or its last group has bits
    /// set that no byte uses.
    BadEnd,
    /// More bytes than the limit.
    TooLong,
}

/// The 6-bit value of a base64 character.
fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(v as u32)
}

/// A streaming decoder: characters in, bytes out at `0..` of a scratch buffer. The first
/// error sticks; later characters are ignored.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    /// Bits of the group so far (6 per character).
    acc: u32,
    /// Characters of the group so far, padding included (0..=3).
    chars: u8,
    /// `=` seen in this group (then only `=` may follow, and nothing after the group).
    pad: u8,
    /// Bytes written.
    len: usize,
    /// Bytes allowed.
    limit: usize,
    /// A padded group ended the text.
    done: bool,
    error: Option<DecodeError>,
}

impl Decoder {
    /// A decoder that writes at most `limit` bytes.
    pub const fn new(limit: usize) -> Decoder {
        Decoder {
            acc: 0,
            chars: 0,
            pad: 0,
            len: 0,
            limit,
            done: false,
            error: None,
        }
    }

    /// Takes one character.
    pub fn push<S: Scratch + ?Sized>(&mut self, c: u8, out: &mut S) {
        if self.error.is_none() {
            if let Err(e) = self.step(c, out) {
                self.error = Some(e);
            }
        }
    }

    fn step<S: Scratch + ?Sized>(&mut self, c: u8, out: &mut S) -> Result<(), DecodeError> {
        if self.done {
            return Err(DecodeError::BadChar);
        }
        if c == b'=' {
            if self.chars < 2 {
                return Err(DecodeError::BadChar);
            }
            self.pad += 1;
        } else {
            let v = sextet(c).ok_or(DecodeError::BadChar)?;
            if self.pad > 0 {
                return Err(DecodeError::BadChar);
            }
            self.acc = self.acc << 6 | v;
        }
        self.chars += 1;
        if self.chars < 4 {
            return Ok(());
        }
        // A whole group: 3 bytes, or 2 (one `=`) or 1 (two), whose unused low bits are 0.
        let (bytes, unused) = match self.pad {
            0 => (3, 0),
            1 => (2, 2),
            _ => (1, 4),
        };
        if self.acc & ((1 << unused) - 1) != 0 {
            return Err(DecodeError::BadEnd);
        }
        let bits = self.acc >> unused;
        for k in (0..bytes).rev() {
            self.put((bits >> (8 * k)) as u8, out)?;
        }
        self.done = self.pad > 0;
        (self.acc, self.chars, self.pad) = (0, 0, 0);
        Ok(())
    }

    fn put<S: Scratch + ?Sized>(&mut self, b: u8, out: &mut S) -> Result<(), DecodeError> {
        if self.len >= self.limit || !out.set(self.len, b) {
            return Err(DecodeError::TooLong);
        }
        self.len += 1;
        Ok(())
    }

    /// The number of bytes decoded, once the text has ended.
    pub fn finish(&self) -> Result<usize, DecodeError> {
        match self.error {
            Some(e) => Err(e),
            None if self.chars != 0 => Err(DecodeError::BadEnd),
            None => Ok(self.len),
        }
    }
}

/// The base64 character of the low 6 bits of `v`.
fn char_of(v: u32) -> u8 {
    let v = (v & 63) as u8;
    match v {
        0..=25 => b'A' + v,
        26..=51 => b'a' + v - 26,
        52..=61 => b'0' + v - 52,
        62 => b'+',
        _ => b'/',
    }
}

/// Characters that encode `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Writes the base64 text of `bytes` into `out`; returns its length, or `None` when `out`
/// is too short.
pub fn encode(bytes: impl IntoIterator<Item = u8>, out: &mut [u8]) -> Option<usize> {
    let mut bytes = bytes.into_iter().peekable();
    let mut at = 0;
    while bytes.peek().is_some() {
        let (mut group, mut n) = (0u32, 0);
        for b in bytes.by_ref().take(3) {
            group |= (b as u32) << (16 - 8 * n);
            n += 1;
        }
        let quad = out.get_mut(at..at + 4)?;
        for (k, slot) in quad.iter_mut().enumerate() {
            *slot = if k <= n {
                char_of(group >> (18 - 6 * k))
            } else {
                b'='
            };
        }
        at += 4;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    fn decode(text: &str, limit: usize) -> Result<heapless::Vec<u8, 64>, DecodeError> {
        let mut buf = [0u8; 64];
        let mut d = Decoder::new(limit);
        for &c in text.as_bytes() {
            d.push(c, &mut buf[..]);
        }
        let n = d.finish()?;
        Ok(heapless::Vec::from_slice(&buf[..n]).unwrap())
    }

    #[test]
    fn rfc_4648_vectors_both_ways() {
        for (plain, coded) in VECTORS {
            let mut out = [0u8; 16];
            let n = encode(plain.bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], coded.as_bytes());
            assert_eq!(n, encoded_len(plain.len()));
            assert_eq!(decode(coded, 64).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn every_byte_value_round_trips_into_words() {
        let plain: heapless::Vec<u8, 256> = (0..=255).collect();
        let mut text = [0u8; 344];
        let n = encode(plain.iter().copied(), &mut text).unwrap();
        assert_eq!(n, 344);
        assert!(encode(plain.iter().copied(), &mut text[..343]).is_none());
        let mut words = [0i32; 64];
        let mut d = Decoder::new(256);
        for &c in &text {
            d.push(c, &mut words[..]);
        }
        assert_eq!(d.finish(), Ok(256));
        for (i, b) in plain.iter().enumerate() {
            assert_eq!(Scratch::get(&words[..], i), *b);
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        use DecodeError::*;
        for (text, why) in [
            ("Zm9v!", BadChar),
            ("Zm 9v", BadChar),
            ("=m9v", BadChar),
            ("Z===", BadChar),
            ("Zg=a", BadChar),
            ("Zg==Zm9v", BadChar),
            ("Zm9", BadEnd),
            ("Zh==", BadEnd),
            ("Zm9=", BadEnd),
            ("Zm9vYmFy", TooLong),
        ] {
            assert_eq!(decode(text, 5), Err(why), "{text}");
        }
        assert_eq!(decode("Zm9vYmE=", 5).unwrap(), b"fooba");
        // The scratch buffer's end counts as the limit too.
        let mut small = [0u8; 2];
        let mut d = Decoder::new(100);
        for &c in b"Zm9v" {
            d.push(c, &mut small[..]);
        }
        assert_eq!(d.finish(), Err(TooLong));
    }
}
