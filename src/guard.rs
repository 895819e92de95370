//! Hard bounds that do not depend on a driver yielding: the work runs on a thread of its own
//! while the calling thread watches the clock and the process's resident memory. A driver whose
//! read loop never returns to the runtime (a server that keeps sending rows, a flood of
//! messages during login) cannot stop a timeout from firing or the memory from being watched;
//! the caller then writes its report and exits, abandoning the thread.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The resident memory above which a run is ended (the promise is a peak under 100 MB; the
/// margin covers what is allocated between two looks).
pub const MEMORY_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// How often the clock and the memory are looked at.
const POLL: Duration = Duration::from_millis(5);

/// How long an interrupted run may take to finish its cleanup (rolling back or dropping the
/// write probe's scratch object) before it is abandoned.
pub const CLEANUP_GRACE: Duration = Duration::from_secs(5);

/// The signal that interrupted the run (SIGINT 2, SIGTERM 15), 0 while none did.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

/// The signal that interrupted the run, if one did: probes not yet sent are then skipped and
/// the write probe goes straight to its cleanup.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Listens for SIGINT and SIGTERM (Ctrl-C on Windows) and records the first one instead of
/// letting it end the process at once; [`run`] then gives the work [`CLEANUP_GRACE`] to finish.
pub async fn watch_signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        let n = tokio::select! {
            _ = int.recv() => 2,
            _ = term.recv() => 15,
        };
        INTERRUPTED.store(n, Ordering::Relaxed);
    }
    #[cfg(not(unix))]
    if tokio::signal::ctrl_c().await.is_ok() {
        INTERRUPTED.store(2, Ordering::Relaxed);
    }
}

/// How a guarded piece of work ended.
#[derive(Debug)]
pub enum Outcome<T> {
    /// It finished in time and within the memory limit.
    Done(T),
    /// It was still running at the deadline.
    TimedOut(Duration),
    /// The process's resident memory passed the limit (bytes seen).
    OverMemory(u64),
    /// The work panicked or its thread could not start.
    Crashed(String),
    /// A signal came and the work did not finish within [`CLEANUP_GRACE`] after it.
    Interrupted(i32),
}

/// The process's resident set size in bytes, where the system tells it (`/proc/self/statm` on
/// Linux); `None` elsewhere, where only the deadline applies.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // 4 KiB pages: the page size of every Linux target this tool ships for.
    Some(pages * 4096)
}

/// Runs `work` on its own thread and waits for it at most `deadline`, ending early when the
/// process's resident memory passes `memory_limit`. On `TimedOut` and `OverMemory` the thread
/// is left behind: the caller reports and exits.
pub fn run<T: Send + 'static>(
    deadline: Duration,
    memory_limit: u64,
    work: impl FnOnce() -> T + Send + 'static,
) -> Outcome<T> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("byod-precheck-work".into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if let Err(e) = spawned {
        return Outcome::Crashed(format!("cannot start the work thread: {e}"));
    }
    let started = Instant::now();
    let mut signalled: Option<Instant> = None;
    loop {
        match rx.recv_timeout(POLL) {
            Ok(v) => return Outcome::Done(v),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Outcome::Crashed("the check stopped without a result".into());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Some(rss) = resident_bytes().filter(|b| *b > memory_limit) {
            return Outcome::OverMemory(rss);
        }
        if let Some(sig) = interrupted() {
            let at = *signalled.get_or_insert_with(Instant::now);
            if at.elapsed() >= CLEANUP_GRACE {
                return Outcome::Interrupted(sig);
            }
            continue;
        }
        if started.elapsed() >= deadline {
            return Outcome::TimedOut(deadline);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finishes_times_out_and_catches_a_memory_hog() {
        assert!(matches!(
            run(Duration::from_secs(5), u64::MAX, || 7),
            Outcome::Done(7)
        ));
        let t = Instant::now();
        // The abandoned threads stop on this flag, so they do not outlive the test.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let halt = stop.clone();
        let stuck = run(Duration::from_millis(100), u64::MAX, move || {
            while !halt.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        assert!(matches!(stuck, Outcome::TimedOut(_)));
        assert!(t.elapsed() < Duration::from_secs(2));
        if let Some(base) = resident_bytes() {
            let halt = stop.clone();
            let hog = run(
                Duration::from_secs(20),
                base + 64 * 1024 * 1024,
                move || {
                    let mut keep: Vec<Vec<u8>> = Vec::new();
                    while !halt.load(std::sync::atomic::Ordering::Relaxed) && keep.len() < 1024 {
                        keep.push(vec![1u8; 1 << 20]);
                        std::thread::sleep(Duration::from_micros(200));
                    }
                },
            );
            assert!(matches!(hog, Outcome::OverMemory(_)), "{hog:?}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
