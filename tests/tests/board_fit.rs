//! `export --board` refuses models that do not fit a board and names what does not fit:
//! the model partition (file size) or the RAM for the network's state.

use micrornn::format::{CellKind, Task};
use micrornn_trainer::device::boards::BoardKind;
use micrornn_trainer::engine::init_params;
use micrornn_trainer::eval::host_model::float_weights;
use micrornn_trainer::export::quantize::export;
use micrornn_trainer::train::params::Dims;

const AZ: &str = "abcdefghijklmnopqrstuvwxyz";

fn model(cell: CellKind, layers: usize, hidden: usize) -> Vec<u8> {
    let dims = Dims::generate(cell, layers, hidden, AZ.len() + 2);
    let params = init_params(dims, 1);
    export(&float_weights(dims, &params), Task::Generate, AZ, &[]).unwrap()
}

#[test]
fn too_big_for_the_partition_or_the_ram_is_refused_with_the_reason() {
    let microbit = BoardKind::Microbit.spec();
    let mps2 = BoardKind::Mps2An386.spec();
    // 4 GRU layers of 160: about 620 KB of weights, more than the 192 KiB partition.
    let big = model(CellKind::Gru, 4, 160);
    let e = format!("{:#}", microbit.check_fits(&big).unwrap_err());
    assert!(
        e.contains("does not fit microbit")
            && e.contains(&format!("the file is {} bytes", big.len()))
            && e.contains("the model partition holds 196608"),
        "{e}"
    );
    mps2.check_fits(&big).unwrap();
    // One LSTM layer of 128 fits the partition but not the Cortex-M0's state RAM.
    let lstm = model(CellKind::Lstm, 1, 128);
    let e = format!("{:#}", microbit.check_fits(&lstm).unwrap_err());
    assert!(
        e.contains("does not fit microbit: RAM for the state"),
        "{e}"
    );
    mps2.check_fits(&lstm).unwrap();
    // What fits, fits.
    microbit.check_fits(&model(CellKind::Gru, 2, 64)).unwrap();
    microbit.check_fits(&model(CellKind::Lstm, 1, 64)).unwrap();
}
