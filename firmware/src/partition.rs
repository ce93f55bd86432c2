//! The model partition: a linker region apart from the program (`MODEL` in `memory/*.x`,
//! bounds `__model_start` and `__model_end`). The program puts nothing there; a model is
//! flashed there on its own (under QEMU: `-device loader`). What it holds is checked by
//! the session (`micrornn::Model::load`): an erased or empty partition gives "no valid model".

extern "C" {
    static __model_start: u8;
    static __model_end: u8;
}

/// The whole partition, whatever it holds.
pub fn bytes() -> &'static [u8] {
    let start = core::ptr::addr_of!(__model_start);
    let end = core::ptr::addr_of!(__model_end);
    let len = end as usize - start as usize;
    // Safety: memory.x defines [__model_start, __model_end) as the MODEL region: mapped,
    // readable memory (flash, or SSRAM standing in for it) in which the linker places
    // nothing and which nothing in the firmware writes, so it is valid and unchanging.
    unsafe { core::slice::from_raw_parts(start, len) }
}
