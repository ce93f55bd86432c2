//! Intel HEX: the text format flashers (probe-rs, pyOCD, QEMU's loader) and the micro:bit's
//! drive read.

use std::fmt::Write;

use anyhow::Result;

use super::image::Image;

/// Encodes `data` to be placed at `addr` (see [`encode_image`]); refuses data that runs
/// past the 32-bit address space.
pub fn encode(addr: u32, data: &[u8]) -> Result<String> {
    let mut image = Image::new();
    image.add(addr, data)?;
    Ok(encode_image(&image))
}

/// Encodes every segment of `image`: an extended linear address record (type 04)
/// whenever the upper 16 bits of the address change, data records (type 00) of up to 16
/// bytes that never cross a 64 KiB boundary, and the end record (type 01). Lines end
/// with `\n`.
pub fn encode_image(image: &Image) -> String {
    let mut out = String::new();
    let mut upper = None;
    for (addr, data) in image.segments() {
        let mut at = 0usize;
        while at < data.len() {
            let a = addr.wrapping_add(at as u32);
            if upper != Some(a >> 16) {
                upper = Some(a >> 16);
                record(&mut out, 0, 0x04, &((a >> 16) as u16).to_be_bytes());
            }
            let to_boundary = 0x1_0000 - (a & 0xffff) as usize;
            let n = 16.min(data.len() - at).min(to_boundary);
            record(&mut out, (a & 0xffff) as u16, 0x00, &data[at..at + n]);
            at += n;
        }
    }
    record(&mut out, 0, 0x01, &[]);
    out
}

/// One record: `:LLAAAATT<data>CC`, with CC the two's complement of the byte sum.
fn record(out: &mut String, addr: u16, kind: u8, data: &[u8]) {
    let mut bytes = vec![data.len() as u8, (addr >> 8) as u8, addr as u8, kind];
    bytes.extend_from_slice(data);
    let sum = bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    bytes.push(sum.wrapping_neg());
    out.push(':');
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_records() {
        let hex = encode(0x0001_0000, b"MRNN\x01\x00").unwrap();
        assert_eq!(
            hex,
            ":020000040001F9\n:060000004D524E4E0100BE\n:00000001FF\n"
        );
    }

    #[test]
    fn crossing_64k_starts_a_new_segment() {
        let hex = encode(0x0000_fff0, &[0u8; 32]).unwrap();
        let lines: Vec<&str> = hex.lines().collect();
        assert_eq!(lines[0], ":020000040000FA");
        assert!(lines[1].starts_with(":10FFF000"));
        assert_eq!(lines[2], ":020000040001F9");
        assert!(lines[3].starts_with(":10000000"));
        assert_eq!(lines[4], ":00000001FF");
    }
}
