//! Plain text without `core::fmt`: strings, decimal and hexadecimal numbers.
//!
//! `core::fmt` costs a Cortex-M0 kilobytes of flash (the formatter and its padding, a
//! `Display` per integer type, 64-bit division for `u64`). The session's replies and the
//! error messages are written through [`Text`] instead: a sink for strings with decimal
//! and hexadecimal numbers on top, in 32-bit arithmetic. The text is the one `core::fmt`
//! would give for `{}`, `{:#010x}` and the like.

use core::num::NonZeroU32;

/// A sink for text, with chaining methods for strings, numbers and whole messages.
///
/// An implementor supplies [`Text::push_str`]; the rest is provided:
///
/// ```
/// use micrornn::text::Text;
///
/// struct Out(heapless::String<64>);
/// impl Text for Out {
///     fn push_str(&mut self, s: &str) {
///         let _ = self.0.push_str(s);
///     }
/// }
///
/// let mut out = Out(heapless::String::new());
/// out.text("hidden ").num(64).char(' ').hex(255, 4);
/// out.printf(", %s has %d layers", &["lstm"], &[2]);
/// assert_eq!(out.0, "hidden 64 0x00ff, lstm has 2 layers");
/// ```
pub trait Text {
    /// Appends `s`.
    fn push_str(&mut self, s: &str);

    /// Appends `s`, for chaining.
    fn text(&mut self, s: &str) -> &mut Self
    where
        Self: Sized,
    {
        self.push_str(s);
        self
    }

    /// Appends `n` in decimal (as `{}`), for chaining.
    fn num(&mut self, n: u64) -> &mut Self
    where
        Self: Sized,
    {
        let mut buf = [0; 20];
        self.push_str(dec(n, &mut buf));
        self
    }

    /// Appends `n` as `0x` and at least `digits` lowercase hex digits (as `{n:#0w$x}` with
    /// `w = digits + 2`), for chaining.
    fn hex(&mut self, n: u32, digits: usize) -> &mut Self
    where
        Self: Sized,
    {
        let mut buf = [0; 8];
        self.push_str("0x");
        self.push_str(hex(n, digits, false, &mut buf));
        self
    }

    /// Appends `c`, for chaining.
    fn char(&mut self, c: char) -> &mut Self
    where
        Self: Sized,
    {
        self.push_str(c.encode_utf8(&mut [0; 4]));
        self
    }

    /// Appends `s` as a quoted input is shown: each control character (C0, DEL, C1) as
    /// `\xNN` and a backslash as `\\`, so that text a user typed or sent cannot drive the
    /// terminal it is shown on. For chaining.
    ///
    /// ```
    /// # use micrornn::text::Text;
    /// # struct Out(heapless::String<64>);
    /// # impl Text for Out { fn push_str(&mut self, s: &str) { let _ = self.0.push_str(s); } }
    /// let mut out = Out(heapless::String::new());
    /// out.escaped("\u{1b}[2Jé\\");
    /// assert_eq!(out.0, r"\x1b[2Jé\\");
    /// ```
    fn escaped(&mut self, s: &str) -> &mut Self
    where
        Self: Sized,
    {
        for c in s.chars() {
            self.push_str(escape_char(c, &mut [0; 4]));
        }
        self
    }

    /// Appends `template` with each `%s` replaced by the next of `strs` and each `%d` by
    /// the next of `nums` in decimal (a missing one is empty, or 0), for chaining: one
    /// call for a whole message takes less code than a chain of pieces. Only these two
    /// markers exist: any `%` not followed by `s` takes a number, so a template cannot
    /// hold a `%` of its own.
    fn printf(&mut self, template: &str, strs: &[&str], nums: &[usize]) -> &mut Self
    where
        Self: Sized,
    {
        let (mut strs, mut nums) = (strs.iter(), nums.iter());
        let mut rest = template;
        while let Some(at) = rest.bytes().position(|b| b == b'%') {
            self.push_str(rest.get(..at).unwrap_or_default());
            if rest.as_bytes().get(at + 1) == Some(&b's') {
                self.push_str(strs.next().copied().unwrap_or_default());
            } else {
                self.num(nums.next().copied().unwrap_or(0) as u64);
            }
            rest = rest.get(at + 2..).unwrap_or_default();
        }
        self.text(rest)
    }
}

/// `c` as [`Text::escaped`] shows it: itself, `\xNN` for a control character (all of
/// them are below U+0100), or `\\` for a backslash; written into `buf`.
pub fn escape_char(c: char, buf: &mut [u8; 4]) -> &str {
    if c.is_control() || c == '\\' {
        let code = c as u32;
        let digits = b"0123456789abcdef";
        *buf = [
            b'\\',
            if c == '\\' { b'\\' } else { b'x' },
            digits[(code >> 4 & 15) as usize],
            digits[(code & 15) as usize],
        ];
        let len = if c == '\\' { 2 } else { 4 };
        return ascii(buf.get(..len));
    }
    c.encode_utf8(buf)
}

/// The base of decimal numbers.
const TEN: NonZeroU32 = NonZeroU32::new(10).unwrap();

/// `n` in decimal, written at the end of `buf`.
pub(crate) fn dec(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    for slot in buf.iter_mut().rev() {
        let (q, r) = div_rem(n, TEN);
        *slot = b'0' + r as u8;
        at -= 1;
        n = q;
        if n == 0 {
            break;
        }
    }
    ascii(buf.get(at..))
}

/// `n` in hexadecimal, at least `digits` (≤ 8) of them, upper or lower case, written at
/// the end of `buf`.
pub(crate) fn hex(mut n: u32, digits: usize, upper: bool, buf: &mut [u8; 8]) -> &str {
    let letters = if upper { b'A' } else { b'a' };
    let mut at = buf.len();
    for (i, slot) in buf.iter_mut().rev().enumerate() {
        let d = (n & 15) as u8;
        *slot = if d < 10 { b'0' + d } else { letters + d - 10 };
        at -= 1;
        n >>= 4;
        if n == 0 && i + 1 >= digits {
            break;
        }
    }
    ascii(buf.get(at..))
}

/// The digits as text (they are ASCII; anything else gives the empty string).
fn ascii(digits: Option<&[u8]>) -> &str {
    core::str::from_utf8(digits.unwrap_or_default()).unwrap_or_default()
}

/// `(n / d, n % d)` in 32-bit operations: one division when `n` fits 32 bits, else bit
/// by bit (no 64-bit division routine in the firmware). `d` is not zero by its type, so
/// this cannot panic.
pub(crate) fn div_rem(n: u64, d: NonZeroU32) -> (u64, u32) {
    if let Ok(n) = u32::try_from(n) {
        return ((n / d) as u64, n % d);
    }
    let d = d.get() as u64;
    let (mut q, mut r) = (0u64, 0u64);
    for i in (0..64).rev() {
        r = r << 1 | (n >> i & 1);
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
    }
    (q, r as u32)
}

/// [`Text`] into a `core::fmt::Formatter`, keeping the first error.
pub(crate) struct Fmt<'a, 'b>(pub &'a mut core::fmt::Formatter<'b>, pub core::fmt::Result);

impl Text for Fmt<'_, '_> {
    fn push_str(&mut self, s: &str) {
        if self.1.is_ok() {
            self.1 = self.0.write_str(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S(heapless::String<200>);

    impl Text for S {
        fn push_str(&mut self, s: &str) {
            self.0.push_str(s).unwrap();
        }
    }

    #[test]
    fn numbers_are_written_as_core_fmt_writes_them() {
        let mut rng = crate::rng::Rng::new(9);
        for i in 0..5000 {
            let x = (rng.next_u32() as u64) << 32 | rng.next_u32() as u64;
            let n = x >> (i % 64);
            let mut s = S(heapless::String::new());
            s.num(n)
                .text(" ")
                .hex(n as u32, 8)
                .char(' ')
                .hex(n as u16 as u32, 4);
            let mut want = heapless::String::<200>::new();
            use core::fmt::Write as _;
            write!(want, "{n} {:#010x} {:#06x}", n as u32, n as u16).unwrap();
            assert_eq!(s.0, want);
            let d = (n as u32 >> (i % 32)).max(1);
            let want = (n / d as u64, (n % d as u64) as u32);
            assert_eq!(div_rem(n, NonZeroU32::new(d).unwrap()), want);
        }
        let mut s = S(heapless::String::new());
        s.printf("%s is %d or %s, %d%d %s", &["a", "bé"], &[12, 0]);
        assert_eq!(s.0, "a is 12 or bé, 00 ");
        let mut s = S(heapless::String::new());
        s.printf("%s%s%s|%d%d|%", &["x"], &[7]);
        assert_eq!(s.0, "x|70|0");
        let mut buf = [0; 8];
        assert_eq!(hex(0x7f, 4, true, &mut buf), "007F");
        assert_eq!(hex(0x1_0abc, 4, false, &mut buf), "10abc");
        let mut buf = [0; 20];
        assert_eq!(dec(0, &mut buf), "0");
        assert_eq!(dec(u64::MAX, &mut buf), "18446744073709551615");
    }
}
