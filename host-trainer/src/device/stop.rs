//! Stopping on a signal. Ctrl-C, SIGTERM and SIGHUP set a flag that long operations poll
//! (an upload ends with an error line saying how far it got), and end every QEMU this
//! process started, so that no emulator outlives the command that booted it. A signal
//! that cannot be caught (SIGKILL) ends the children through the kernel instead: on Linux
//! a child started with [`end_with_parent`] gets SIGKILL when this process dies.
//!
//! In: the children to watch ([`Guarded`]). Out: [`requested`].

use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use anyhow::{Context, Result};

/// Set once a stop signal arrived.
static STOP: AtomicBool = AtomicBool::new(false);

/// The children to end on a signal (weak: a child dropped is no longer watched).
static CHILDREN: Mutex<Vec<Weak<Mutex<Child>>>> = Mutex::new(Vec::new());

/// The handler is installed once per process (the result of that one attempt).
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Installs the signal handler (once; later calls return the first call's result).
pub fn install() -> Result<()> {
    INSTALLED
        .get_or_init(|| {
            ctrlc::set_handler(|| {
                STOP.store(true, Ordering::SeqCst);
                kill_children();
            })
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(anyhow::Error::msg)
        .context("cannot catch Ctrl-C and SIGTERM")
}

/// Makes the process `cmd` starts end when this process ends, however it ends (on Linux:
/// SIGKILL through `prctl(PR_SET_PDEATHSIG)`; elsewhere nothing: the signal handler and
/// [`Guarded`]'s drop are all there is). The kernel ties the signal to the thread that
/// starts the child: start it from a thread that lives as long as the child should.
pub fn end_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id() as libc::pid_t;
        let hook = move || {
            // Safety: `prctl` and `getppid` are async-signal-safe system calls that only
            // read their integer arguments; nothing is allocated or locked between fork
            // and exec.
            let (set, ppid) = unsafe {
                let set = libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                (set, libc::getppid())
            };
            if set != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if ppid != parent {
                // The parent died before the request took hold: do not start at all.
                return Err(std::io::Error::other("micrornn ended while starting QEMU"));
            }
            Ok(())
        };
        // Safety: the hook runs in the child between fork and exec and calls only
        // async-signal-safe functions (above); it touches no memory of the parent's other
        // threads.
        unsafe {
            cmd.pre_exec(hook);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Whether a stop signal arrived.
pub fn requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

fn kill_children() {
    let children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
    for child in children.iter().filter_map(Weak::upgrade) {
        let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
    }
}

/// A child process that is killed on a stop signal and when this value is dropped.
#[derive(Debug)]
pub struct Guarded(Arc<Mutex<Child>>);

impl Guarded {
    /// Watches `child` (installs the signal handler if it is not yet).
    pub fn new(child: Child) -> Result<Guarded> {
        install()?;
        let child = Arc::new(Mutex::new(child));
        let mut children = CHILDREN.lock().unwrap_or_else(|e| e.into_inner());
        children.retain(|c| c.strong_count() > 0);
        children.push(Arc::downgrade(&child));
        drop(children);
        if requested() {
            // The signal came while the child was starting.
            let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
        }
        Ok(Guarded(child))
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The child's exit status if it has ended.
    pub fn try_wait(&self) -> Result<Option<ExitStatus>> {
        Ok(self.child().try_wait()?)
    }

    /// Waits for the child to end (polling, so that a signal's kill is not blocked).
    pub fn wait(&self) -> Result<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Takes the child's standard error pipe, if it has one.
    pub fn take_stderr(&self) -> Option<std::process::ChildStderr> {
        self.child().stderr.take()
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let mut child = self.child();
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_dropped_child_is_ended_and_a_signal_kills_the_watched_ones() {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let guarded = Guarded::new(child).unwrap();
        assert!(guarded.try_wait().unwrap().is_none());
        kill_children(); // what the handler does
        let status = guarded.wait().unwrap();
        assert!(!status.success(), "sleep {pid} was killed");

        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        drop(Guarded::new(child).unwrap());
        // After the drop the process is reaped: it is no longer in the process table.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }
}
