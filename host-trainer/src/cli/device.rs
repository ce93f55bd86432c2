//! `micrornn device`: talk to a board over its serial line.

use std::time::Duration;

use anyhow::{bail, Result};
use micrornn_trainer::device::client::DeviceClient;
use micrornn_trainer::device::ports;

use crate::cli::args::{DeviceAction, DeviceArgs};

mod upload;

pub fn run(a: DeviceArgs) -> Result<()> {
    if a.timeout == 0 {
        bail!("--timeout must be at least 1 second");
    }
    let timeout = Duration::from_secs(a.timeout);
    let port = match &a.port {
        Some(p) => p.clone(),
        None => ports::pick(&ports::list()?)?,
    };
    let mut dev = DeviceClient::connect(&port, timeout)?;
    let line = match &a.action {
        DeviceAction::Info => "info".to_string(),
        DeviceAction::Stats => "stats".to_string(),
        DeviceAction::Gen(g) => g.sampling.gen_line(g.count)?,
        DeviceAction::Upload(u) => return upload::run(&mut dev, u, timeout),
        DeviceAction::Classify(c) if c.names.is_empty() => {
            let mut texts = c.text.clone();
            if let Some(path) = &c.file {
                texts.extend(crate::cli::classify::read_lines(path)?);
            }
            if texts.is_empty() {
                bail!("nothing to classify: give names, --text \"…\" or --file F");
            }
            for text in &texts {
                for l in dev.classify_text(text)? {
                    println!("{l}");
                }
            }
            return Ok(());
        }
        DeviceAction::Classify(c) => {
            if !c.text.is_empty() || c.file.is_some() {
                bail!("give names or --text/--file, not both");
            }
            // Every name is answered before any line is printed, as `micrornn classify`.
            for l in dev.classify(&c.names)? {
                println!("{l}");
            }
            return Ok(());
        }
        DeviceAction::Pronounce(p) => {
            // Every word is answered before any line is printed (an error prints none).
            for l in dev.pronounce(&p.words)? {
                println!("{l}");
            }
            return Ok(());
        }
    };
    for l in dev.command(&line)? {
        println!("{l}");
    }
    Ok(())
}
