//! The laptop side of micrornn: from a file of names to a model on a board.
//!
//! One run, stage by stage (each folder's module doc says what comes in and what goes out):
//!
//! ```text
//! names.csv / names.txt
//!    │  data/     check names (and labels) → token sequences → padded batches
//!    ▼
//! batches
//!    │  train/    split, Adam, validation each epoch, best epoch, resume
//!    │  engine/   loss and gradient of one batch, on all threads
//!    ▼
//! run.ckpt        float weights, optimizer state, loss history
//!    │  export/   int8 quantization (and Intel HEX at a board's partition)
//!    ▼
//! run.mrnn ─────► eval/    on the host: generate, classify, score (integer or float)
//!    │  device/   the board's partition and capacity, QEMU, the serial client
//!    ▼
//! device reply    `gen 5` → five names, then `ok` (or one `err <reason>` line)
//! ```
//!
//! - [`data`]: names and labelled names from CSV or text, token sequences, batches;
//! - [`train`]: training configuration, the loop, checkpoints, the flat float parameters;
//! - [`engine`]: the batched, multi-threaded forward and backward pass;
//! - [`eval`]: a model file opened on the host, cross-entropy and accuracy;
//! - [`export`]: quantization to the `.mrnn` file, Intel HEX, atomic file writes;
//! - [`device`]: the boards' facts, the serial client, the QEMU emulator;
//! - [`torch`]: PyTorch models in and out (safetensors).
//!
//! The `micrornn` binary (`src/main.rs` and `src/cli/`) turns each command line into
//! calls to these modules.

pub mod data;
pub mod device;
pub mod engine;
pub mod eval;
pub mod export;
pub mod torch;
pub mod train;
