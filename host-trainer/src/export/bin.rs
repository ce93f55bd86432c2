//! Raw binary: the bytes of an image from a base address on, gaps filled with erased
//! flash (0xFF).
//!
//! A `.bin` file carries no address: whoever writes it must know where it goes. The
//! Nucleo's NODE drive (ST-LINK) writes a dropped `.bin` at the start of flash, so a
//! `.bin` for it starts at the flash start ([`flatten`] with the flash start as base).

use anyhow::{bail, Result};

use super::image::Image;

/// The erased-flash byte gaps are filled with.
pub const FILL: u8 = 0xFF;

/// The bytes of `image` from `base` to its end, gaps set to [`FILL`]. Refuses an empty
/// image, bytes below `base`, and a file over 64 MiB (a mistake, not a firmware).
pub fn flatten(image: &Image, base: u32) -> Result<Vec<u8>> {
    let (Some(start), Some(end)) = (image.start(), image.end()) else {
        bail!("nothing to write: the image is empty");
    };
    if start < base {
        bail!("the image starts at {start:#010x}, below the file's base {base:#010x}");
    }
    let len = end - u64::from(base);
    if len > 64 << 20 {
        bail!("a .bin from {base:#010x} to {end:#010x} would be {len} bytes: too large");
    }
    let mut out = vec![FILL; len as usize];
    for (addr, bytes) in image.segments() {
        let at = (addr - base) as usize;
        out[at..at + bytes.len()].copy_from_slice(bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_erased_flash_and_the_base_is_byte_zero() {
        let mut im = Image::new();
        im.add(0x0800_0000, &[1, 2]).unwrap();
        im.add(0x0800_0005, &[3]).unwrap();
        assert_eq!(
            flatten(&im, 0x0800_0000).unwrap(),
            [1, 2, 0xFF, 0xFF, 0xFF, 3]
        );
        assert_eq!(flatten(&im, 0x07FF_FFFF).unwrap()[..2], [0xFF, 1]);
        assert!(flatten(&im, 0x0800_0001).is_err());
        assert!(flatten(&Image::new(), 0).is_err());
    }
}
