//! A reader of the `.mrnn` file written only from `docs/model-format.md` — header,
//! CRC-32, postcard varints, strings and byte strings, the tensor table's 28-byte records,
//! the data block — without `micrornn`'s decoder. It decodes the golden file (the hex dump
//! the document prints, which `shared/tests/model_file.rs` pins to `format::encode`'s
//! output) and checks every field against the document's own reading of it; then it reads
//! a real trained model (`shared/tests/fixtures/names.mrnn`) and checks every field and
//! every value against what the library's loader sees. If the document were wrong about
//! a byte, this reader would fail.

use std::path::Path;

// ---- the reader (from the document only) ----

/// A cursor over bytes; every read fails with a message rather than panicking.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or(format!("{n} bytes wanted at {}: ends early", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// `u8`: one byte, as is.
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    /// Unsigned LEB128: 7 bits per byte, least significant group first, high bit set on
    /// every byte but the last.
    fn varint(&mut self, max: u64) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            value |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return match value <= max {
                    true => Ok(value),
                    false => Err(format!("varint {value} > {max}")),
                };
            }
        }
        Err("varint too long".into())
    }

    /// `bytes`: the length as a varint, then the bytes.
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint(u32::MAX as u64)? as usize;
        self.take(n)
    }

    /// `str`: as `bytes`, UTF-8.
    fn str(&mut self) -> Result<&'a str, String> {
        std::str::from_utf8(self.bytes()?).map_err(|e| e.to_string())
    }
}

fn le_u16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// CRC-32/ISO-HDLC: reflected polynomial 0xEDB88320, initial value and final XOR all ones.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A byte range of the data block.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Span {
    offset: u32,
    len: u32,
}

/// One 28-byte record of the tensor table.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Record {
    rows: u16,
    cols: u16,
    weights: Span,
    scales: Span,
    bias: Span,
}

/// A tensor's values, read through its record's spans.
#[derive(Clone, Debug, PartialEq)]
struct Tensor {
    record: Record,
    weights: Vec<i8>,
    scales: Vec<f32>,
    bias: Vec<i32>,
}

/// Everything in a file.
#[derive(Debug)]
struct File {
    version: u16,
    flags: u16,
    body_len: u32,
    crc: u32,
    cell: u64,
    task: u64,
    layers: u8,
    hidden: u64,
    embed: u64,
    vocab_size: u64,
    vocab: String,
    labels: String,
    table_len: usize,
    data_len: usize,
    tensors: Vec<Tensor>,
}

/// Reads a whole file by the document.
fn read(file: &[u8]) -> Result<File, String> {
    let mut c = Cursor { bytes: file, at: 0 };
    if c.take(4)? != b"MRNN" {
        return Err("magic".into());
    }
    let version = le_u16(c.take(2)?);
    let flags = le_u16(c.take(2)?);
    let body_len = le_u32(c.take(4)?);
    let body_end = 12 + body_len as usize;
    let mut body = Cursor {
        bytes: file.get(..body_end).ok_or("body length past the end")?,
        at: 12,
    };
    let crc = le_u32(file.get(body_end..body_end + 4).ok_or("no CRC")?);
    if crc32(&file[..body_end]) != crc {
        return Err("CRC".into());
    }
    // Config: cell and task are enum indices (varints), layers a u8 byte, the rest u16
    // varints.
    let cell = body.varint(2)?;
    let task = body.varint(1)?;
    let layers = body.u8()?;
    let hidden = body.varint(u16::MAX as u64)?;
    let embed = body.varint(u16::MAX as u64)?;
    let vocab_size = body.varint(u16::MAX as u64)?;
    let vocab = body.str()?.to_string();
    let labels = body.str()?.to_string();
    let table = body.bytes()?;
    let data = body.bytes()?;
    if body.at != body_end {
        return Err(format!("{} bytes after data", body_end - body.at));
    }
    if table.len() % 28 != 0 {
        return Err("table length".into());
    }
    let mut tensors = Vec::new();
    for r in table.chunks(28) {
        let span = |at: usize| Span {
            offset: le_u32(&r[at..]),
            len: le_u32(&r[at + 4..]),
        };
        let record = Record {
            rows: le_u16(&r[0..]),
            cols: le_u16(&r[2..]),
            weights: span(4),
            scales: span(12),
            bias: span(20),
        };
        let slice = |s: Span| {
            data.get(s.offset as usize..(s.offset + s.len) as usize)
                .ok_or(format!("span {s:?} past the data block"))
        };
        let weights = slice(record.weights)?.iter().map(|&b| b as i8).collect();
        let scales = slice(record.scales)?
            .chunks(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let bias = slice(record.bias)?
            .chunks(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.push(Tensor {
            record,
            weights,
            scales,
            bias,
        });
    }
    Ok(File {
        version,
        flags,
        body_len,
        crc,
        cell,
        task,
        layers,
        hidden,
        embed,
        vocab_size,
        vocab,
        labels,
        table_len: table.len(),
        data_len: data.len(),
        tensors,
    })
}

/// The shapes the document's "Tensor order and shapes" table gives, with whether each
/// tensor has a bias: per layer `w_x`, `w_h`; then `w_out`.
fn expected_shapes(f: &File) -> Vec<(usize, usize, bool)> {
    let gates = [1, 3, 4][f.cell as usize];
    let (h, v) = (f.hidden as usize, f.vocab_size as usize);
    let outputs = match f.task {
        0 => v,
        _ => f.labels.split('\n').count(),
    };
    let mut shapes = Vec::new();
    for l in 0..f.layers {
        shapes.push(match l {
            0 => (v, gates * h, false),
            _ => (gates * h, h, true),
        });
        shapes.push((gates * h, h, true));
    }
    shapes.push((outputs, h, true));
    shapes
}

/// The checks the document states for any file.
fn check_document_rules(f: &File) {
    assert_eq!((f.version, f.flags), (1, 0));
    assert_eq!(f.vocab_size as usize, f.vocab.chars().count() + 2);
    let chars: Vec<char> = f.vocab.chars().collect();
    assert!(
        chars.windows(2).all(|w| w[0] < w[1]),
        "vocab sorted, distinct"
    );
    assert_eq!(f.table_len, 28 * f.tensors.len());
    let shapes = expected_shapes(f);
    assert_eq!(f.tensors.len(), 2 * f.layers as usize + 1);
    for (t, &(rows, cols, has_bias)) in f.tensors.iter().zip(&shapes) {
        let r = &t.record;
        assert_eq!((r.rows as usize, r.cols as usize), (rows, cols));
        assert_eq!(r.weights.len as usize, rows * cols);
        assert_eq!(r.scales.len as usize, rows * 4);
        assert_eq!(r.bias.len as usize, if has_bias { rows * 4 } else { 0 });
        for s in [r.weights, r.scales, r.bias] {
            assert!((s.offset + s.len) as usize <= f.data_len);
        }
        for &s in &t.scales {
            let exponent = (s.to_bits() >> 23) & 0xff;
            assert!(s == 0.0 || (87..=134).contains(&exponent), "scale {s}");
        }
    }
}

// ---- the golden file ----

/// The bytes of the hex dump under "Worked example: the golden file" in the document.
fn golden_from_document() -> Vec<u8> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/model-format.md"),
    )
    .unwrap();
    let example = doc
        .split("## Worked example: the golden file")
        .nth(1)
        .unwrap();
    let dump = example.split("```text").nth(1).unwrap();
    let dump = dump.split("```").next().unwrap();
    let mut bytes = Vec::new();
    for line in dump.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let offset = usize::from_str_radix(words.next().unwrap(), 16).unwrap();
        assert_eq!(offset, bytes.len(), "the dump's offsets");
        bytes.extend(words.map(|w| u8::from_str_radix(w, 16).unwrap()));
    }
    bytes
}

#[test]
fn the_documents_golden_file_reads_field_by_field_as_the_document_says() {
    let bytes = golden_from_document();
    assert_eq!(bytes.len(), 196);
    let f = read(&bytes).unwrap();
    check_document_rules(&f);
    // The document's table, row by row.
    assert_eq!((f.version, f.flags, f.body_len), (1, 0, 180));
    assert_eq!(
        (f.cell, f.task, f.layers, f.hidden, f.embed, f.vocab_size),
        (0, 0, 1, 2, 0, 4)
    );
    assert_eq!((f.vocab.as_str(), f.labels.as_str()), ("ab", ""));
    assert_eq!((f.table_len, f.data_len), (84, 84));
    let span = |offset, len| Span { offset, len };
    let records = [
        (4, 2, span(0, 8), span(8, 16), span(0, 0)),
        (2, 2, span(24, 4), span(28, 8), span(36, 8)),
        (4, 2, span(44, 8), span(52, 16), span(68, 16)),
    ];
    for (t, (rows, cols, weights, scales, bias)) in f.tensors.iter().zip(records) {
        let want = Record {
            rows,
            cols,
            weights,
            scales,
            bias,
        };
        assert_eq!(t.record, want);
    }
    let [w_x, w_h, w_out] = &f.tensors[..] else {
        panic!("three tensors")
    };
    assert_eq!(w_x.weights, [10, -10, 20, -20, 127, -127, 0, 1]);
    assert_eq!(w_x.scales, [0.0625; 4]);
    assert!(w_x.bias.is_empty());
    assert_eq!(w_h.weights, [64, -64, 32, -32]);
    assert_eq!(w_h.scales, [0.015625; 2]);
    assert_eq!(w_h.bias, [65536, -32768]);
    assert_eq!(w_out.weights, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(w_out.scales, [0.125; 4]);
    assert_eq!(w_out.bias, [0, 1, -1, 65536]);
    assert_eq!(f.crc, 0xdfcb_3ca0);
    assert_eq!(
        crc32(b"123456789"),
        0xcbf4_3926,
        "the document's CRC check value"
    );
    // The document's note: the CRC-32 of a whole valid file is the residue.
    assert_eq!(crc32(&bytes), 0x2144_df1c);

    // The library reads the same file the same way (it is the golden file of its tests).
    let m = micrornn::model::Model::load(&bytes).unwrap();
    assert_eq!(m.layer(0).w_h.bias_q16(1), -32768);
}

#[test]
fn a_trained_model_reads_as_the_library_reads_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tests/fixtures/names.mrnn");
    let bytes = std::fs::read(path).unwrap();
    let f = read(&bytes).unwrap();
    check_document_rules(&f);
    assert_eq!(12 + f.body_len as usize + 4, bytes.len());

    let m = micrornn::model::Model::load(&bytes).unwrap();
    let c = m.config();
    assert_eq!(f.cell, c.cell as u64);
    // Task index 0 = Generate (the fixture is a name generator).
    assert_eq!((f.task, c.task), (0, micrornn::Task::Generate));
    assert_eq!(f.layers as usize, m.layer_count());
    assert_eq!(f.hidden as usize, m.hidden());
    assert_eq!(f.vocab_size as usize, m.vocab_size());
    assert_eq!(f.vocab, m.vocab.chars());
    let mut tensors = Vec::new();
    for l in 0..m.layer_count() {
        tensors.push(m.layer(l).w_x);
        tensors.push(m.layer(l).w_h);
    }
    tensors.push(*m.w_out());
    assert_eq!(tensors.len(), f.tensors.len());
    let mut values = 0;
    for (mine, theirs) in f.tensors.iter().zip(&tensors) {
        let (rows, cols) = (mine.record.rows as usize, mine.record.cols as usize);
        assert_eq!((rows, cols), (theirs.rows, theirs.cols));
        for r in 0..rows {
            assert_eq!(mine.scales[r].to_bits(), theirs.scale_bits(r));
            assert_eq!(mine.bias.get(r).copied().unwrap_or(0), theirs.bias_q16(r));
            for col in 0..cols {
                assert_eq!(mine.weights[r * cols + col], theirs.weight(r, col));
                values += 1;
            }
        }
    }
    assert_eq!(values, m.param_count() - bias_count(&f));
}

/// Biases in the file (one per row of every tensor that has one).
fn bias_count(f: &File) -> usize {
    f.tensors.iter().map(|t| t.bias.len()).sum()
}
