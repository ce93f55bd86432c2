//! A byte buffer over the caller's memory: a `[u8]`, or the `[i32]` network arena seen as
//! bytes (little-endian within each word) without `unsafe`.

/// Bytes that a chunk is decoded into.
pub trait Scratch {
    /// How many bytes it holds.
    fn capacity(&self) -> usize;
    /// Byte `i`, or 0 past the end.
    fn get(&self, i: usize) -> u8;
    /// Sets byte `i`; false past the end.
    fn set(&mut self, i: usize, b: u8) -> bool;
}

impl Scratch for [u8] {
    fn capacity(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> u8 {
        self.get(i).copied().unwrap_or(0)
    }
    fn set(&mut self, i: usize, b: u8) -> bool {
        self.get_mut(i).map(|slot| *slot = b).is_some()
    }
}

impl Scratch for [i32] {
    fn capacity(&self) -> usize {
        4 * self.len()
    }
    fn get(&self, i: usize) -> u8 {
        let word = self.get(i / 4).copied().unwrap_or(0);
        (word >> (8 * (i % 4))) as u8
    }
    fn set(&mut self, i: usize, b: u8) -> bool {
        let Some(word) = self.get_mut(i / 4) else {
            return false;
        };
        let mut bytes = word.to_le_bytes();
        if let Some(slot) = bytes.get_mut(i % 4) {
            *slot = b;
        }
        *word = i32::from_le_bytes(bytes);
        true
    }
}

/// Copies bytes `start..start + out.len()` of `s` into `out`.
pub fn copy_out<S: Scratch + ?Sized>(s: &S, start: usize, out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = s.get(start + i);
    }
}

/// The little-endian `u32` at byte `at`.
pub fn u32_at<S: Scratch + ?Sized>(s: &S, at: usize) -> u32 {
    let mut b = [0; 4];
    copy_out(s, at, &mut b);
    u32::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hold_bytes_little_endian() {
        let mut w = [0i32; 2];
        for i in 0..8 {
            assert!(w.set(i, 0x10 + i as u8));
        }
        assert!(!w.set(8, 1));
        assert_eq!(w.capacity(), 8);
        assert_eq!(w[0], i32::from_le_bytes([0x10, 0x11, 0x12, 0x13]));
        assert_eq!(u32_at(&w[..], 4), 0x1716_1514);
        assert_eq!(Scratch::get(&w[..], 9), 0);
        let mut b = [0u8; 3];
        assert!(b.set(2, 7) && !b.set(3, 7));
        assert_eq!(u32_at(&b[..], 0), 0x0007_0000);
    }
}
