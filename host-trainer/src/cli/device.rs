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
    };
    for l in dev.command(&line)? {
        println!("{l}");
    }
    Ok(())
}
