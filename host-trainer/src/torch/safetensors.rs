//! The safetensors file format, read and written without the `safetensors` crate.
//!
//! Layout: an 8-byte little-endian `N`, then `N` bytes of JSON (the header), then the data.
//! The header maps each tensor's name to `{"dtype": "F32", "shape": [..], "data_offsets":
//! [begin, end]}` (offsets into the data, which starts after the header), plus an optional
//! `"__metadata__"` object of string values. Tensors are little-endian, row-major, and
//! cover the data exactly: no overlap, no hole, nothing after the last one (the
//! reference implementation's rules).
//!
//! [`parse`] checks all of that and never panics, whatever the bytes: every defect is an
//! error of one line. [`write()`] produces the canonical form used by `micrornn export
//! --format safetensors`: f32 tensors in name order, keys sorted, the header padded with
//! spaces to a multiple of 8 bytes (as the Python writer does).

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Largest header accepted (the reference implementation's limit).
pub const MAX_HEADER: u64 = 100_000_000;

/// The key of the string map in the header.
pub const METADATA_KEY: &str = "__metadata__";

/// An element type of the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// 32-bit float.
    F32,
    /// 16-bit IEEE half float.
    F16,
    /// bfloat16 (the top half of an f32).
    BF16,
    /// 64-bit float.
    F64,
    /// Any other type of the format (integers, booleans, 8-bit floats), with its size in
    /// bytes: readable as a file, but not as weights.
    Other(&'static str, usize),
}

impl Dtype {
    /// The type named `s` in a header, or `None` for a name the format does not have.
    pub fn from_name(s: &str) -> Option<Dtype> {
        Some(match s {
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "F64" => Dtype::F64,
            "BOOL" => Dtype::Other("BOOL", 1),
            "U8" => Dtype::Other("U8", 1),
            "I8" => Dtype::Other("I8", 1),
            "F8_E5M2" => Dtype::Other("F8_E5M2", 1),
            "F8_E4M3" => Dtype::Other("F8_E4M3", 1),
            "I16" => Dtype::Other("I16", 2),
            "U16" => Dtype::Other("U16", 2),
            "I32" => Dtype::Other("I32", 4),
            "U32" => Dtype::Other("U32", 4),
            "I64" => Dtype::Other("I64", 8),
            "U64" => Dtype::Other("U64", 8),
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::F64 => 8,
            Dtype::Other(_, n) => n,
        }
    }

    /// The name used in headers.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::F64 => "F64",
            Dtype::Other(n, _) => n,
        }
    }
}

/// One tensor of a parsed file, borrowing its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorView<'a> {
    /// Element type.
    pub dtype: Dtype,
    /// Dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The little-endian elements (`shape` product × `dtype` size bytes).
    pub data: &'a [u8],
}

impl TensorView<'_> {
    /// The elements as f32 (f16, bf16 and f64 converted; f64 rounded to nearest). Other
    /// types are an error naming the type.
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        let d = self.data;
        Ok(match self.dtype {
            Dtype::F32 => d
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F64 => d
                .chunks_exact(8)
                .map(|b| {
                    f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
                })
                .collect(),
            Dtype::BF16 => d
                .chunks_exact(2)
                .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
                .collect(),
            Dtype::F16 => d
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            Dtype::Other(name, _) => {
                bail!("has dtype {name}; weights must be F32, F16, BF16 or F64")
            }
        })
    }
}

/// An IEEE half float's value.
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    sign * match exp {
        0 => frac * 2f32.powi(-24),
        31 if frac == 0.0 => f32::INFINITY,
        31 => f32::NAN,
        e => (1.0 + frac / 1024.0) * 2f32.powi(e - 15),
    }
}

/// A parsed file: its tensors by name and its metadata.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SafeTensors<'a> {
    /// The tensors, by name.
    pub tensors: BTreeMap<String, TensorView<'a>>,
    /// The `__metadata__` strings (empty without one).
    pub metadata: BTreeMap<String, String>,
}

/// Parses and checks a whole file (see the module doc for the rules). Never panics.
pub fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>> {
    let Some((len_bytes, rest)) = bytes.split_first_chunk::<8>() else {
        bail!(
            "not a safetensors file: {} bytes, shorter than the 8-byte header length",
            bytes.len()
        );
    };
    let n = u64::from_le_bytes(*len_bytes);
    if n > MAX_HEADER {
        bail!("safetensors header length {n} is beyond the {MAX_HEADER}-byte limit");
    }
    if n > rest.len() as u64 {
        bail!(
            "safetensors header length {n} runs past the end of the file ({} bytes after the length)",
            rest.len()
        );
    }
    let (header, data) = rest.split_at(n as usize);
    if header.first() != Some(&b'{') {
        bail!("safetensors header does not start with '{{'");
    }
    let header = std::str::from_utf8(header).context("safetensors header is not UTF-8")?;
    let json: Value = serde_json::from_str(header).context("safetensors header is not JSON")?;
    let Value::Object(map) = json else {
        bail!("safetensors header is not a JSON object");
    };
    let mut file = SafeTensors::default();
    let mut spans = Vec::new();
    for (name, v) in &map {
        if name == METADATA_KEY {
            let Value::Object(m) = v else {
                bail!("safetensors {METADATA_KEY} is not an object of strings");
            };
            for (k, s) in m {
                let Value::String(s) = s else {
                    bail!("safetensors {METADATA_KEY} value of {k:?} is not a string");
                };
                file.metadata.insert(k.clone(), s.clone());
            }
            continue;
        }
        let t = tensor_entry(name, v, data.len())?;
        spans.push((t.1, t.2, name.clone()));
        file.tensors.insert(name.clone(), t.0);
        // `t.0.data` is filled below, once the spans are known to be sound.
    }
    // The tensors must tile the data: sorted by start, each begins where the last ended.
    spans.sort();
    let mut at = 0usize;
    for (begin, end, name) in &spans {
        if *begin != at {
            if *begin < at {
                bail!("safetensors tensor {name:?} overlaps the tensor before it (bytes {begin}..{end})");
            }
            bail!("safetensors data has a hole before tensor {name:?} (bytes {at}..{begin} belong to no tensor)");
        }
        at = *end;
    }
    if at != data.len() {
        bail!(
            "safetensors data has {} bytes after the last tensor",
            data.len() - at
        );
    }
    for (begin, end, name) in spans {
        if let Some(t) = file.tensors.get_mut(&name) {
            t.data = &data[begin..end];
        }
    }
    Ok(file)
}

/// One header entry: the view (data still empty) and its byte span in the data.
fn tensor_entry<'a>(
    name: &str,
    v: &Value,
    data_len: usize,
) -> Result<(TensorView<'a>, usize, usize)> {
    let Value::Object(m) = v else {
        bail!("safetensors entry {name:?} is not an object");
    };
    if let Some(k) = m
        .keys()
        .find(|k| !["dtype", "shape", "data_offsets"].contains(&k.as_str()))
    {
        bail!("safetensors entry {name:?} has an unknown field {k:?}");
    }
    let dtype = match m.get("dtype") {
        Some(Value::String(s)) => Dtype::from_name(s)
            .with_context(|| format!("safetensors tensor {name:?} has an unknown dtype {s:?}"))?,
        _ => bail!("safetensors tensor {name:?} has no dtype string"),
    };
    let usizes = |field: &str| -> Result<Vec<usize>> {
        let Some(Value::Array(a)) = m.get(field) else {
            bail!("safetensors tensor {name:?} has no {field} list");
        };
        a.iter()
            .map(|x| {
                x.as_u64()
                    .and_then(|x| usize::try_from(x).ok())
                    .with_context(|| {
                        format!("safetensors tensor {name:?}: {field} holds {x}, not a size")
                    })
            })
            .collect()
    };
    let shape = usizes("shape")?;
    let offsets = usizes("data_offsets")?;
    let [begin, end] = offsets[..] else {
        bail!(
            "safetensors tensor {name:?} has {} data_offsets, not 2",
            offsets.len()
        );
    };
    if begin > end || end > data_len {
        bail!(
            "safetensors tensor {name:?} has data_offsets [{begin}, {end}] outside the {data_len} data bytes"
        );
    }
    let bytes = shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .with_context(|| format!("safetensors tensor {name:?} has a shape {shape:?} too large"))?;
    if bytes != end - begin {
        bail!(
            "safetensors tensor {name:?}: shape {shape:?} of {} needs {bytes} bytes, data_offsets give {}",
            dtype.name(),
            end - begin
        );
    }
    let view = TensorView {
        dtype,
        shape,
        data: &[],
    };
    Ok((view, begin, end))
}

/// One f32 tensor to write.
#[derive(Clone, Debug, PartialEq)]
pub struct F32Tensor {
    /// Its name.
    pub name: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Its elements, row-major (as many as the shape's product).
    pub values: Vec<f32>,
}

/// A file of f32 tensors and metadata, in canonical form: header keys sorted, data in
/// name order, header padded with spaces to a multiple of 8 bytes.
///
/// # Panics
///
/// If a tensor's values do not match its shape, or two tensors share a name
/// (programming errors).
pub fn write(tensors: &[F32Tensor], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut sorted: Vec<&F32Tensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        let m = metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        header.insert(METADATA_KEY.to_string(), Value::Object(m));
    }
    let mut data = Vec::new();
    for t in &sorted {
        assert_eq!(
            t.shape.iter().product::<usize>(),
            t.values.len(),
            "{}",
            t.name
        );
        let begin = data.len();
        data.extend(t.values.iter().flat_map(|v| v.to_le_bytes()));
        let entry = serde_json::json!({
            "dtype": "F32",
            "shape": t.shape,
            "data_offsets": [begin, data.len()],
        });
        assert!(header.insert(t.name.clone(), entry).is_none(), "{}", t.name);
    }
    let mut json = Value::Object(header).to_string().into_bytes();
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend(data);
    out
}
