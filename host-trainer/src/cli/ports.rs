//! `micrornn ports`: the serial ports, with their USB descriptions; the ones that look
//! like a micrornn board are marked.

use anyhow::Result;
use micrornn_trainer::device::ports::{list, pick, Likeness};

pub fn run() -> Result<()> {
    let ports = list()?;
    if ports.is_empty() {
        println!(
            "no serial ports; `micrornn device` needs --port tcp:HOST:PORT (an emulated board)"
        );
        return Ok(());
    }
    for p in &ports {
        let mark = match p.likeness() {
            Likeness::Micrornn => "  <- micrornn".to_string(),
            Likeness::InterfaceChip(what) => {
                format!("  <- {what}: micrornn if its firmware is on it")
            }
            Likeness::Other => String::new(),
        };
        println!("{}{mark}", p.describe());
    }
    match pick(&ports) {
        Ok(port) => println!("`micrornn device …` without --port uses {port}"),
        Err(e) => println!("`micrornn device …` needs --port: {e}"),
    }
    Ok(())
}
