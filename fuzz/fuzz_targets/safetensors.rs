//! The safetensors reader (`torch::safetensors::parse`) and the import of what it reads
//! (`torch::import::import`), on any bytes.
//!
//! A file that parses gives each tensor's values (or an error for types that are not
//! weights); one that imports gives a checkpoint whose bytes load, and whose export is a
//! model file that `Model::load` accepts (or an error).

#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn_trainer::eval::host_model::export_checkpoint;
use micrornn_trainer::torch::import::{import, ImportOptions};
use micrornn_trainer::torch::safetensors::parse;
use micrornn_trainer::train::checkpoint::Checkpoint;

fuzz_target!(|data: &[u8]| {
    let file = match parse(data) {
        Ok(f) => f,
        Err(e) => {
            assert!(!format!("{e:#}").contains('\n'), "{e:#}");
            return;
        }
    };
    for t in file.tensors.values() {
        if let Ok(v) = t.to_f32() {
            let n: usize = t.shape.iter().product();
            assert_eq!(v.len(), n);
        }
    }
    let Ok(imported) = import(&file, &ImportOptions::default()) else {
        return;
    };
    let bytes = imported.ckpt.to_bytes();
    if let Err(e) = Checkpoint::from_bytes(&bytes) {
        panic!("an imported checkpoint does not load: {e:#}");
    }
    if let Ok(model) = export_checkpoint(&imported.ckpt) {
        if let Err(e) = micrornn::Model::load(&model) {
            panic!("an imported model's export does not load: {e}");
        }
    }
});
