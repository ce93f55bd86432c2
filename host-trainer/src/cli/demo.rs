//! `micrornn demo`: train a small model, flash it into an emulated board, and print the
//! names the chip sends back over its serial line.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use micrornn::sampler::Settings;
use micrornn_trainer::device::emulator::{build_firmware, check_qemu, Emulator};
use micrornn_trainer::eval::host_model::generate_names;
use micrornn_trainer::train::config::TrainConfig;
use micrornn_trainer::train::run::{train, RunOptions, TrainPaths};

use crate::cli::args::DemoArgs;

pub fn run(a: DemoArgs) -> Result<()> {
    check_qemu()?;
    let spec = a.board.spec();
    spec.qemu_machine()?;
    let t0 = Instant::now();
    std::fs::create_dir_all(&a.dir)?;
    let paths = TrainPaths {
        data: a.data.clone(),
        out: a.dir.join("demo.mrnn"),
    };

    println!(
        "1/4 training a small model on {} (hidden 128, 8 epochs)",
        a.data.display()
    );
    let config = TrainConfig {
        hidden: 128,
        epochs: 8,
        ..TrainConfig::default()
    };
    let s = train(
        &paths,
        config,
        None,
        RunOptions {
            quiet: true,
            stop_after: None,
        },
    )?;
    println!(
        "    validation loss {:.3} nats/char, {:.0} s",
        s.best_val, s.seconds
    );

    let bytes = std::fs::read(&paths.out)?;
    spec.check_fits(&bytes)?;
    println!(
        "2/4 exported {} ({} bytes) for the {} model partition at {:#010x}",
        paths.out.display(),
        bytes.len(),
        spec.name,
        spec.partition_addr
    );

    println!(
        "3/4 building the firmware for {} ({})",
        spec.name, spec.target
    );
    let elf = build_firmware(&spec)?;

    println!(
        "4/4 booting {} in QEMU and asking the chip for {} names (seed {})",
        spec.name, a.count, a.seed
    );
    let mut emu = Emulator::boot(&spec, &elf, Some(&paths.out), false)?;
    let mut dev = emu.client(Duration::from_secs(60))?;
    for line in dev.command("info")? {
        println!("    device: {line}");
    }
    let names = dev.command(&format!("gen {} seed={}", a.count, a.seed))?;
    println!();
    for n in &names {
        println!("  {n}");
    }
    println!();
    let host = generate_names(&bytes, a.seed, &Settings::default(), "", a.count as usize)?;
    if host != names {
        bail!("the device's names differ from `micrornn generate` on the host");
    }
    println!(
        "the emulated {} sent these over its UART; `micrornn generate --model {} -n {} --seed {}` prints the same ({:.0} s in all)",
        spec.name,
        paths.out.display(),
        a.count,
        a.seed,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
