//! Child processes for the interop harness: commands run to completion with
//! a time limit ([`run`]), and long-running processes ([`Process`]) that are
//! signalled, stopped and reaped by the PID we spawned, never by name.
//!
//! Signals other than `SIGKILL` are sent with the `kill(1)` program (the
//! workspace forbids `unsafe`, so `kill(2)` is not called directly); the PID
//! stays ours until we reap it, so it cannot have been reused.

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::wait::wait_until;

/// How long [`Process`]'s drop waits after `SIGTERM` before `SIGKILL`.
pub const STOP_GRACE: Duration = Duration::from_secs(3);

/// A signal we send to our own children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `SIGTERM`: ask to exit.
    Term,
    /// `SIGKILL`: exit now.
    Kill,
    /// `SIGSTOP`: freeze (cannot be caught).
    Stop,
    /// `SIGCONT`: thaw a frozen process.
    Cont,
    /// `SIGHUP`.
    Hup,
    /// `SIGINT`.
    Int,
}

impl Signal {
    /// The name `kill -s` takes.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "TERM",
            Signal::Kill => "KILL",
            Signal::Stop => "STOP",
            Signal::Cont => "CONT",
            Signal::Hup => "HUP",
            Signal::Int => "INT",
        }
    }
}

/// What went wrong running a command.
#[derive(Debug)]
pub enum RunError {
    /// It could not be started.
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// It did not finish in time and was killed.
    Timeout {
        /// The command line.
        command: String,
        /// The time limit.
        timeout: Duration,
    },
    /// It finished with a non-zero status ([`run_ok`] only).
    Failed {
        /// The command line.
        command: String,
        /// What it returned and printed.
        output: Output,
    },
    /// Waiting for it failed.
    Wait {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Spawn { command, source } => write!(f, "cannot run `{command}`: {source}"),
            RunError::Timeout { command, timeout } => {
                write!(f, "`{command}` did not finish within {timeout:?}; killed")
            }
            RunError::Failed { command, output } => write!(
                f,
                "`{command}` failed ({}): {}",
                output.status,
                output.stderr.trim().lines().last().unwrap_or("(no output)")
            ),
            RunError::Wait { command, source } => {
                write!(f, "waiting for `{command}` failed: {source}")
            }
        }
    }
}

impl std::error::Error for RunError {}

/// What a finished command returned and printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// Its exit status.
    pub status: ExitStatus,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// A command line as text, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn reader(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

/// Runs `cmd` to completion, capturing its output, for at most `timeout`;
/// a command still running then is killed (by its PID) and reaped. A
/// non-zero exit is not an error here; see [`run_ok`].
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Output, RunError> {
    let command = describe(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
        command: command.clone(),
        source,
    })?;
    let out_rx = child.stdout.take().map(reader);
    let err_rx = child.stderr.take().map(reader);
    let waited = wait_until(timeout, Duration::from_millis(5), || {
        match child.try_wait() {
            Ok(Some(status)) => Ok(Ok(status)),
            Ok(None) => Err(()),
            Err(e) => Ok(Err(e)),
        }
    });
    let status = match waited {
        Ok(Ok(status)) => status,
        Ok(Err(source)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::Wait { command, source });
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::Timeout { command, timeout });
        }
    };
    // The pipes close when the command exits, unless it left a child of its
    // own holding them: then give up on the rest of the output.
    let collect = |rx: Option<mpsc::Receiver<Vec<u8>>>| {
        rx.and_then(|rx| rx.recv_timeout(Duration::from_secs(2)).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: collect(out_rx),
        stderr: collect(err_rx),
    })
}

/// [`run`], with a non-zero exit status turned into [`RunError::Failed`].
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<Output, RunError> {
    let out = run(cmd, timeout)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(RunError::Failed {
            command: describe(cmd),
            output: out,
        })
    }
}

/// Sends `sig` to `pid` with `kill(1)`. Use [`Process::signal`] for our own
/// children; this is the primitive under it.
pub fn send_signal(pid: u32, sig: Signal) -> Result<(), RunError> {
    run_ok(
        Command::new("kill").args(["-s", sig.name(), &pid.to_string()]),
        Duration::from_secs(5),
    )
    .map(|_| ())
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `T` for stopped, `Z`
/// ...), if the process exists.
pub fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// A long-running child process, owned: dropping it stops it (`SIGCONT` if
/// frozen, `SIGTERM`, then `SIGKILL` after [`STOP_GRACE`]) and reaps it.
#[derive(Debug)]
pub struct Process {
    child: Child,
    name: String,
    log: Option<PathBuf>,
    frozen: AtomicBool,
    status: Option<ExitStatus>,
}

impl Process {
    /// Starts `cmd` (standard input closed); `name` is for messages and
    /// `log`, if any, the file its output goes to (for [`Process::log`]).
    pub fn spawn(
        cmd: &mut Command,
        name: impl Into<String>,
        log: Option<PathBuf>,
    ) -> Result<Process, RunError> {
        cmd.stdin(Stdio::null());
        let child = cmd.spawn().map_err(|source| RunError::Spawn {
            command: describe(cmd),
            source,
        })?;
        Ok(Process {
            child,
            name: name.into(),
            log,
            frozen: AtomicBool::new(false),
            status: None,
        })
    }

    /// The PID we spawned.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file its output goes to, if one was given.
    pub fn log(&self) -> Option<&PathBuf> {
        self.log.as_ref()
    }

    /// Whether it is still running (not exited, or exited and not yet
    /// noticed). Reaps it if it has exited.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none()
    }

    /// Its exit status, if it has exited (reaping it).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.status = Some(st);
            }
        }
        self.status
    }

    /// Sends `sig` to our PID. Refused once the process has been reaped (its
    /// PID may then belong to someone else).
    pub fn signal(&mut self, sig: Signal) -> Result<(), RunError> {
        if self.exit_status().is_some() {
            return Err(RunError::Wait {
                command: self.name.clone(),
                source: std::io::Error::other("process already exited"),
            });
        }
        if sig == Signal::Kill {
            return self.child.kill().map_err(|source| RunError::Wait {
                command: self.name.clone(),
                source,
            });
        }
        send_signal(self.pid(), sig)
    }

    /// Freezes it with `SIGSTOP` (e.g. to let a peer's hold timer expire),
    /// and waits (up to 2 s) until the kernel shows it stopped.
    pub fn freeze(&mut self) -> Result<(), RunError> {
        self.signal(Signal::Stop)?;
        self.frozen.store(true, Ordering::SeqCst);
        let pid = self.pid();
        wait_until(
            Duration::from_secs(2),
            Duration::from_millis(5),
            || match process_state(pid) {
                Some('T' | 't') => Ok(()),
                s => Err(s),
            },
        )
        .map_err(|t| RunError::Wait {
            command: self.name.clone(),
            source: std::io::Error::other(format!("not stopped after SIGSTOP: {t}")),
        })
    }

    /// Thaws it with `SIGCONT`.
    pub fn thaw(&mut self) -> Result<(), RunError> {
        self.signal(Signal::Cont)?;
        self.frozen.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Whether [`Process::freeze`] was called without a [`Process::thaw`].
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` for it to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_until(timeout, Duration::from_millis(10), || {
            self.exit_status().ok_or(())
        })
        .ok()
    }

    /// Stops it: thaws it if frozen, sends `SIGTERM`, waits up to `grace`,
    /// then `SIGKILL`; always reaps it. Returns its exit status.
    pub fn stop(&mut self, grace: Duration) -> Result<ExitStatus, RunError> {
        if let Some(st) = self.exit_status() {
            return Ok(st);
        }
        if self.is_frozen() {
            let _ = self.thaw();
        }
        let _ = self.signal(Signal::Term);
        if let Some(st) = self.wait_exit(grace) {
            return Ok(st);
        }
        self.kill()
    }

    /// Kills it at once with `SIGKILL` and reaps it.
    pub fn kill(&mut self) -> Result<ExitStatus, RunError> {
        if let Some(st) = self.exit_status() {
            return Ok(st);
        }
        let _ = self.child.kill();
        let st = self.child.wait().map_err(|source| RunError::Wait {
            command: self.name.clone(),
            source,
        })?;
        self.status = Some(st);
        Ok(st)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.stop(STOP_GRACE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_captures_and_times_out() {
        let out = run(
            Command::new("sh").args(["-c", "echo hi; echo err >&2"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.stderr, "err\n");
        let e = run(Command::new("sleep").arg("5"), Duration::from_millis(50)).unwrap_err();
        assert!(matches!(e, RunError::Timeout { .. }), "{e}");
        let e = run_ok(&mut Command::new("false"), Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, RunError::Failed { .. }), "{e}");
    }

    #[test]
    fn process_freeze_thaw_stop() {
        let mut p = Process::spawn(Command::new("sleep").arg("30"), "sleep", None).unwrap();
        let pid = p.pid();
        p.freeze().unwrap();
        assert_eq!(process_state(pid), Some('T'));
        assert!(p.is_frozen());
        p.thaw().unwrap();
        let st = p.stop(Duration::from_secs(2)).unwrap();
        assert!(!st.success());
        assert!(p.signal(Signal::Term).is_err(), "no signal after reaping");
    }
}
