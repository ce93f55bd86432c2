//! PyTorch interop: a model trained in PyTorch (`nn.Embedding` → `nn.RNN`/`nn.GRU`/`nn.LSTM`
//! → `nn.Linear`, its state_dict saved with `safetensors`) in, and micrornn's models out
//! the same way. micrornn's cells are PyTorch's equations with its gate orders and two
//! biases per layer, so the weights move across as they are; only the token order
//! differs (see [`tokens`]).
//!
//! - [`safetensors`]: the file format, parsed and written (no panics on any bytes);
//! - [`layout`]: which tensors are the embedding, the recurrent layers and the output layer;
//! - [`tokens`]: the model's token ids ↔ micrornn's;
//! - [`import`]: a parsed file → a [`Checkpoint`](crate::train::checkpoint::Checkpoint);
//! - [`export`]: a checkpoint → safetensors bytes.
//!
//! The vocabulary travels in the file's `__metadata__` (string values), under these keys.

pub mod export;
pub mod import;
pub mod layout;
pub mod safetensors;
pub mod tokens;

#[cfg(test)]
mod tests;

/// Metadata key: the characters in the model's token order, start and end ids left out.
pub const META_CHARS: &str = "micrornn.chars";
/// Metadata key: the start token's id (decimal).
pub const META_START: &str = "micrornn.start";
/// Metadata key: the end token's id (decimal; default the start id).
pub const META_END: &str = "micrornn.end";
/// Metadata key: a classifier's label names by output, as a JSON list of strings.
pub const META_LABELS: &str = "micrornn.labels";
/// Metadata key (written by export, for the reader): `generate` or `classify`.
pub const META_TASK: &str = "micrornn.task";
/// Metadata key (written by export): `rnn`, `gru` or `lstm`.
pub const META_CELL: &str = "micrornn.cell";
/// Metadata key (written by export): stacked layers.
pub const META_LAYERS: &str = "micrornn.layers";
/// Metadata key (written by export): hidden units per layer.
pub const META_HIDDEN: &str = "micrornn.hidden";
/// Metadata key (written by export): embedding width, 0 for one-hot input.
pub const META_EMBED: &str = "micrornn.embed";
