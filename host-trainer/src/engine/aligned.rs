//! A growable `f32` buffer that starts on a cache-line boundary.
//!
//! The kernels load whole 64-byte vectors from `B` and `C` rows; when those rows
//! start on a cache line no load is split across two lines (unaligned buffers
//! cost the AVX-512 kernel about 15% measured). Done without `unsafe`: the
//! buffer over-allocates 15 floats and shows the part starting at the first
//! 64-byte boundary. Contents are not preserved across a resize.

use std::ops::{Deref, DerefMut};

/// Floats per cache line.
const LINE: usize = 16;

/// An `f32` buffer whose slice view starts 64-byte aligned.
#[derive(Clone, Debug, Default)]
pub(crate) struct Aligned {
    raw: Vec<f32>,
    len: usize,
}

impl Aligned {
    /// A zeroed buffer of `len` floats.
    pub(crate) fn zeros(len: usize) -> Self {
        let mut b = Aligned::default();
        b.resize(len);
        b
    }

    /// Makes the view `len` floats long; the contents are unspecified afterwards.
    /// Allocates only when `len` exceeds every length seen before.
    pub(crate) fn resize(&mut self, len: usize) {
        self.raw.resize(len + LINE - 1, 0.0);
        self.len = len;
    }

    /// Index of the first element on a 64-byte boundary.
    fn start(&self) -> usize {
        // `align_offset` on an f32 pointer is at most 15; the `min` only guards the
        // documented "may return usize::MAX" case (then the view is merely unaligned).
        self.raw.as_ptr().align_offset(LINE * 4).min(LINE - 1)
    }
}

impl Deref for Aligned {
    type Target = [f32];

    fn deref(&self) -> &[f32] {
        let start = self.start();
        &self.raw[start..start + self.len]
    }
}

impl DerefMut for Aligned {
    fn deref_mut(&mut self) -> &mut [f32] {
        let start = self.start();
        &mut self.raw[start..start + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_start_on_a_cache_line() {
        let mut b = Aligned::zeros(5);
        assert_eq!(b.len(), 5);
        for len in [1, 100, 3, 10_000] {
            b.resize(len);
            assert_eq!(b.len(), len);
            assert_eq!(b.as_ptr() as usize % 64, 0);
            b.fill(1.0);
        }
    }
}
