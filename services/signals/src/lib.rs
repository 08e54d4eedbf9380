//! # `signals`: Unix signals, the one place the kit calls `libc`
//!
//! The kit starts programs (the learner's app, the explorer, the Collector, Jaeger, ChromeDriver)
//! and stops them as a terminal or `docker stop` would: with a signal, by the PID it was given.
//! The kit's own command also notes Ctrl-C and SIGTERM instead of dying of them, so that it can
//! stop its children in order. Those are `libc` calls, `unsafe` in Rust's terms though they touch
//! no memory of ours. The workspace denies `unsafe_code` everywhere else (its `[workspace.lints]`);
//! this crate allows it, for these few calls, each with its reason.
//!
//! Off Unix, there are no signals: [`send`] and [`send_to_group`] do nothing (callers kill the
//! child through `std::process` instead), and nothing is ever [`noted`].

#![allow(unsafe_code)]

/// The signals the kit sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT, as Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM, as `kill` or `docker stop`: stop, cleanly.
    Terminate,
    /// SIGKILL: stop now, no questions.
    Kill,
    /// SIGSTOP: freeze the process where it is (tests use it to hold a program still).
    Freeze,
    /// SIGCONT: let a frozen process go on.
    Thaw,
}

#[cfg(unix)]
impl Signal {
    fn number(self) -> libc::c_int {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
            Signal::Freeze => libc::SIGSTOP,
            Signal::Thaw => libc::SIGCONT,
        }
    }
}

/// Sends `signal` to the process `pid`, which the caller started. A PID that does not fit, or a
/// process gone already, is no error: there is nothing left to stop.
pub fn send(pid: u32, signal: Signal) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a valid signal number has no memory effects.
        unsafe { libc::kill(pid, signal.number()) };
    }
    #[cfg(not(unix))]
    let _ = (pid, signal);
}

/// Whether the process `pid` is still running (kill(2) with signal 0, which checks and sends
/// nothing). A process of another user counts as running. Off Unix: `false`.
pub fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with signal 0 sends nothing and has no memory effects.
        let answer = unsafe { libc::kill(pid, 0) };
        return answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    }
    let _ = pid;
    false
}

/// Sends `signal` to every process of the group `group`, which the caller created (a child
/// started with `process_group(0)`, whose PID is the group's id): the child and whatever it
/// started.
pub fn send_to_group(group: u32, signal: Signal) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(group) {
        // SAFETY: kill(2) on a negative id signals that process group; no memory effects.
        unsafe { libc::kill(-group, signal.number()) };
    }
    #[cfg(not(unix))]
    let _ = (group, signal);
}

/// Ctrl-C, SIGTERM and SIGHUP, noted rather than obeyed: the kit outlives its children, so that it
/// can stop them in order once they are done (a child in a process group of its own, which the
/// terminal's signals do not reach, is then stopped by the kit alone).
pub mod noted {
    use std::sync::atomic::{AtomicBool, Ordering};

    static NOTED: AtomicBool = AtomicBool::new(false);

    #[cfg(unix)]
    extern "C" fn note(_signal: libc::c_int) {
        // Only an atomic store: nothing else is safe in a signal handler.
        NOTED.store(true, Ordering::SeqCst);
    }

    /// From now on, SIGINT, SIGTERM and SIGHUP (the terminal closed) only note that they came (see
    /// [`requested`]).
    pub fn install() {
        #[cfg(unix)]
        {
            let handler = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SAFETY: `note` is async-signal-safe. A handler (unlike SIG_IGN) is reset in the
            // children at exec, so they still get Ctrl-C themselves.
            unsafe {
                libc::signal(libc::SIGINT, handler);
                libc::signal(libc::SIGTERM, handler);
                libc::signal(libc::SIGHUP, handler);
            }
        }
    }

    /// Whether a signal came since the last call: the next call says no.
    pub fn requested() -> bool {
        NOTED.swap(false, Ordering::SeqCst)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn exits_by(child: &mut std::process::Child) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return status.signal();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    #[test]
    fn a_child_is_stopped_by_the_signal_sent_to_it() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        send(child.id(), Signal::Terminate);
        assert_eq!(exits_by(&mut child), Some(libc::SIGTERM));
    }

    #[test]
    fn a_running_child_is_alive_and_a_reaped_one_is_not() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(alive(child.id()));
        assert!(alive(std::process::id()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!alive(child.id()));
    }

    #[test]
    fn a_group_is_stopped_as_one() {
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        send_to_group(child.id(), Signal::Kill);
        assert_eq!(exits_by(&mut child), Some(libc::SIGKILL));
    }

    #[test]
    fn a_noted_signal_is_reported_once() {
        noted::install();
        send(std::process::id(), Signal::Interrupt);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !noted::requested() {
            assert!(Instant::now() < deadline, "SIGINT was not noted");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!noted::requested());

        // The terminal closing (SIGHUP) is noted too, rather than ending the kit.
        // SAFETY: kill(2) on our own PID, with a handler installed; no memory effects.
        unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
        while !noted::requested() {
            assert!(Instant::now() < deadline, "SIGHUP was not noted");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
