//! The float checkpoint reader (`Checkpoint::from_bytes`) on any bytes.
//!
//! The bytes are read as they are, and again with their last 4 bytes replaced by the
//! CRC of the rest, so that mutations reach the body's decoding and checks. A checkpoint
//! that loads must encode to bytes that load again (the same bytes once more), export to
//! a model file that `Model::load` accepts (or refuse with an error), and convert to a
//! safetensors file that the reader accepts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn_trainer::eval::host_model::export_checkpoint;
use micrornn_trainer::torch::{export::to_safetensors, safetensors};
use micrornn_trainer::train::checkpoint::Checkpoint;

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 4 {
        let mut fixed = data.to_vec();
        let body = data.len() - 4;
        let crc = micrornn::format::crc32(&data[..body]);
        fixed[body..].copy_from_slice(&crc.to_le_bytes());
        check(&fixed);
    }
});

fn check(bytes: &[u8]) {
    let ck = match Checkpoint::from_bytes(bytes) {
        Ok(ck) => ck,
        Err(e) => {
            assert!(!format!("{e:#}").contains('\n'), "{e:#}");
            return;
        }
    };
    let again = ck.to_bytes();
    let back = Checkpoint::from_bytes(&again).expect("a checkpoint's own bytes load");
    assert_eq!(back.to_bytes(), again);
    if let Ok(model) = export_checkpoint(&ck) {
        if let Err(e) = micrornn::Model::load(&model) {
            panic!("an exported checkpoint does not load: {e}");
        }
    }
    let st = to_safetensors(&ck);
    if let Err(e) = safetensors::parse(&st) {
        panic!("a checkpoint's safetensors does not parse: {e:#}");
    }
}
