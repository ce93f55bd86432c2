//! A quantized matrix borrowed from the model file: int8 weights, one scale per row, a bias.

/// Rows × cols int8 weights with a per-row f32 scale and an optional Q16 bias,
/// all borrowed from the model file's bytes (validated by [`crate::Model::load`]).
/// The default is an empty tensor (0 × 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct QTensor<'a> {
    /// Rows (output units).
    pub rows: usize,
    /// Columns (inputs per row).
    pub cols: usize,
    pub(crate) weights: &'a [u8],
    pub(crate) scales: &'a [u8],
    pub(crate) bias: &'a [u8],
}

impl<'a> QTensor<'a> {
    /// Wraps borrowed bytes; lengths must match the shape (the loader checks this).
    pub(crate) fn new(
        rows: usize,
        cols: usize,
        weights: &'a [u8],
        scales: &'a [u8],
        bias: &'a [u8],
    ) -> Self {
        debug_assert_eq!(weights.len(), rows * cols);
        debug_assert_eq!(scales.len(), rows * 4);
        debug_assert!(bias.is_empty() || bias.len() == rows * 4);
        QTensor {
            rows,
            cols,
            weights,
            scales,
            bias,
        }
    }

    /// Row `r`'s int8 weights (as raw bytes; each is an `i8`).
    ///
    /// # Panics
    ///
    /// If `r` is not below `rows` (as do the other row accessors).
    #[inline]
    pub fn row(&self, r: usize) -> &'a [u8] {
        &self.weights[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r`'s int8 weight at column `c`.
    ///
    /// # Panics
    ///
    /// If `r` is not below `rows` or `c` not below `cols`.
    #[inline]
    pub fn weight(&self, r: usize, c: usize) -> i8 {
        self.weights[r * self.cols + c] as i8
    }

    /// IEEE-754 bits of row `r`'s scale.
    #[inline]
    pub fn scale_bits(&self, r: usize) -> u32 {
        read_u32(self.scales, r)
    }

    /// Row `r`'s scale as f32 (host-side reporting and dequantization).
    pub fn scale(&self, r: usize) -> f32 {
        f32::from_bits(self.scale_bits(r))
    }

    /// Row `r`'s bias in Q16 (0 when the tensor has no bias).
    #[inline]
    pub fn bias_q16(&self, r: usize) -> i32 {
        if self.bias.is_empty() {
            0
        } else {
            read_u32(self.bias, r) as i32
        }
    }
}

/// Reads the `i`-th little-endian u32 of `bytes` (no alignment needed).
#[inline]
fn read_u32(bytes: &[u8], i: usize) -> u32 {
    let b = &bytes[i * 4..i * 4 + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
