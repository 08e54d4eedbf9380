//! One of the stack's programs, running: its output kept, its readiness awaited, its sockets and
//! memory read from `/proc`, and a graceful stop (SIGTERM, as `docker stop` sends).
//!
//! The Collector and Jaeger both say `Everything is ready. Begin running and processing data.`
//! once every component has started: that line, not a guess at a delay, is what [`Process::ready`]
//! waits for. If the program exits first, the error carries what it printed, which names the
//! problem (a bad field, a port in use).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// What the Collector (and Jaeger, built on it) prints once it serves.
pub const READY_LINE: &str = "Everything is ready";

/// A running program, stopped with SIGKILL when dropped.
pub struct Process {
    /// "the Collector", "Jaeger": for messages.
    name: String,
    child: Child,
    /// Everything it printed, stdout and stderr interleaved by line.
    output: Arc<Mutex<String>>,
}

impl Process {
    /// Starts `command` with its output captured, in a process group of its own: a Ctrl-C in the
    /// terminal then reaches whoever started it, which stops it in order (the Collector before
    /// Jaeger, so that its last batch has somewhere to go).
    pub fn spawn(name: &str, command: Command) -> anyhow::Result<Process> {
        Process::spawn_echoing(name, command, None)
    }

    /// As [`Process::spawn`], and each line it prints is also printed here after `prefix`, as
    /// `docker compose logs` shows a service's (`./run.sh stack up`).
    pub fn spawn_echoing(
        name: &str,
        mut command: Command,
        prefix: Option<&'static str>,
    ) -> anyhow::Result<Process> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        // The program's path only: the command's Debug form would show its environment, which
        // may hold an API key.
        let mut child = command.spawn().with_context(|| {
            format!(
                "could not start {name} ({})",
                Path::new(command.get_program()).display()
            )
        })?;
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        collect(stdout, output.clone(), prefix);
        collect(stderr, output.clone(), prefix);
        Ok(Process {
            name: name.to_string(),
            child,
            output,
        })
    }

    /// What it has printed so far.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `true` while it runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until it prints a line containing `text`, at most `within`.
    pub fn wait_for(&mut self, text: &str, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            if self.output().contains(text) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads take in the last lines: they name the problem.
                std::thread::sleep(Duration::from_millis(100));
                bail!(
                    "{} stopped ({status}) before it printed {text:?}; it printed:\n{}",
                    self.name,
                    self.output()
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not print {text:?} within {within:?}; it printed:\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until it serves: see [`READY_LINE`]. A cold start of either program takes about a
    /// second; the bound is generous for a loaded CI machine.
    pub fn ready(&mut self) -> anyhow::Result<()> {
        self.wait_for(READY_LINE, Duration::from_secs(60))
    }

    /// Sends SIGTERM and waits for the exit, at most `within`; then SIGKILL.
    pub fn stop(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Ok(status);
        }
        self.signal(signals::Signal::Terminate);
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!(
                    "{} did not stop within {within:?} of SIGTERM, and was killed",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` to the program (by its PID, which we started). Off Unix, the program is
    /// stopped at once.
    pub fn signal(&mut self, signal: signals::Signal) {
        if cfg!(unix) {
            signals::send(self.child.id(), signal);
        } else {
            let _ = self.child.kill();
        }
    }

    /// Its resident memory now and at its peak.
    pub fn memory(&self) -> Option<Memory> {
        memory_of(self.pid())
    }

    /// The ports it listens on (TCP) or is bound to (UDP): its sockets, found in `/proc/<pid>/fd`,
    /// looked up in the kernel's socket tables.
    pub fn listening_ports(&self) -> BTreeSet<Port> {
        let inodes: BTreeSet<u64> = std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let target = std::fs::read_link(entry.path()).ok()?;
                let target = target.to_str()?;
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect();
        let mut ports = BTreeSet::new();
        for (table, protocol) in [
            ("tcp", Protocol::Tcp),
            ("tcp6", Protocol::Tcp),
            ("udp", Protocol::Udp),
            ("udp6", Protocol::Udp),
        ] {
            let Ok(text) = std::fs::read_to_string(format!("/proc/net/{table}")) else {
                continue;
            };
            // "  sl  local_address rem_address   st … inode": the 2nd, 4th and 10th fields.
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state), Some(inode)) =
                    (fields.get(1), fields.get(3), fields.get(9))
                else {
                    continue;
                };
                // 0A: LISTEN (TCP); 07: a bound, unconnected UDP socket.
                let listening = match protocol {
                    Protocol::Tcp => *state == "0A",
                    Protocol::Udp => *state == "07",
                };
                let Ok(inode) = inode.parse::<u64>() else {
                    continue;
                };
                let port = local
                    .rsplit(':')
                    .next()
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok());
                if let (true, true, Some(port)) = (listening, inodes.contains(&inode), port) {
                    ports.insert(Port {
                        protocol,
                        number: port,
                    });
                }
            }
        }
        ports
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The resident memory of the process `pid` now and at its peak (`VmRSS` and `VmHWM` in
/// `/proc/<pid>/status`); `None` where there is no `/proc` or no such process.
pub fn memory_of(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some(Memory {
        resident: field("VmRSS:")?,
        peak: field("VmHWM:")?,
    })
}

/// Resident memory, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Now (`VmRSS`).
    pub resident: u64,
    /// The most it has held (`VmHWM`), what a container's memory limit is measured against.
    pub peak: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

/// A port a program listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    pub protocol: Protocol,
    pub number: u16,
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let protocol = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        write!(f, "{}/{protocol}", self.number)
    }
}

/// Free loopback ports, each held (bound) until the picker is dropped, so that no two picks are
/// the same port. Once released, another program could take one before ours binds it; on a test
/// machine that is rare, and the program then says at start that the port is in use.
#[derive(Default)]
pub struct FreePorts {
    held: Vec<Held>,
}

enum Held {
    Tcp(std::net::TcpListener),
    Udp(std::net::UdpSocket),
}

impl FreePorts {
    /// A port no one listens on now, and that no earlier pick of this picker returned.
    pub fn pick(&mut self, protocol: Protocol) -> anyhow::Result<u16> {
        let held = match protocol {
            Protocol::Tcp => Held::Tcp(std::net::TcpListener::bind("127.0.0.1:0")?),
            Protocol::Udp => Held::Udp(std::net::UdpSocket::bind("127.0.0.1:0")?),
        };
        let port = match &held {
            Held::Tcp(listener) => listener.local_addr()?.port(),
            Held::Udp(socket) => socket.local_addr()?.port(),
        };
        self.held.push(held);
        Ok(port)
    }
}

/// Reads `stream` line by line into `output` (and to stdout after `prefix`, if any), on a thread
/// of its own, until it closes.
fn collect(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<String>>,
    prefix: Option<&'static str>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(prefix) = prefix {
                println!("{prefix}{line}");
            }
            let mut output = output.lock().unwrap_or_else(PoisonError::into_inner);
            output.push_str(&line);
            output.push('\n');
        }
    });
}
