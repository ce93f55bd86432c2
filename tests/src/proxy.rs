//! A TCP proxy between a client and an emulated board's serial socket that flips one bit
//! of one upload chunk line on its way to the device: a line error in transit.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Characters of a chunk line before the earliest one that may be flipped.
const SKIP: usize = 40;

/// A proxy serving one client.
#[derive(Debug)]
pub struct BitFlipProxy {
    /// The `--port` to connect to: `tcp:127.0.0.1:PORT`.
    pub port: String,
    flips: Arc<AtomicUsize>,
}

impl BitFlipProxy {
    /// Listens on a free local port and connects its first client to `target`
    /// (`HOST:PORT`). In the `nth` chunk line (0-based; lines that start with `:`), bit 0
    /// of the first base64 character from the 40th on that stays a letter or digit is
    /// flipped, so the line still decodes but its CRC no longer holds.
    pub fn start(target: &str, nth: usize) -> std::io::Result<BitFlipProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = format!("tcp:{}", listener.local_addr()?);
        let flips = Arc::new(AtomicUsize::new(0));
        let target = target.to_string();
        let counter = flips.clone();
        thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(device) = TcpStream::connect(&target) else {
                return;
            };
            let _ = (client.set_nodelay(true), device.set_nodelay(true));
            let (Ok(mut from_device), Ok(mut to_client)) = (device.try_clone(), client.try_clone())
            else {
                return;
            };
            thread::spawn(move || {
                let _ = std::io::copy(&mut from_device, &mut to_client);
                let _ = to_client.shutdown(Shutdown::Both);
            });
            forward_flipping(client, device, nth, &counter);
        });
        Ok(BitFlipProxy { port, flips })
    }

    /// Bits flipped so far (0 or 1).
    pub fn flips(&self) -> usize {
        self.flips.load(Ordering::SeqCst)
    }
}

/// Copies the client's bytes to the device, flipping one bit of the `nth` chunk line.
fn forward_flipping(mut client: TcpStream, mut device: TcpStream, nth: usize, flips: &AtomicUsize) {
    let (mut chunk_lines, mut at, mut in_chunk) = (0usize, 0usize, false);
    let mut buf = [0u8; 4096];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for b in &mut buf[..n] {
            match *b {
                b'\r' | b'\n' => {
                    if in_chunk {
                        chunk_lines += 1;
                    }
                    (at, in_chunk) = (0, false);
                }
                b':' if at == 0 => (at, in_chunk) = (1, true),
                c => {
                    let flipped = c ^ 1;
                    let target = in_chunk && chunk_lines == nth && at >= SKIP;
                    if target
                        && flips.load(Ordering::SeqCst) == 0
                        && flipped.is_ascii_alphanumeric()
                    {
                        *b = flipped;
                        flips.fetch_add(1, Ordering::SeqCst);
                    }
                    at += 1;
                }
            }
        }
        if device.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = device.shutdown(Shutdown::Both);
}
