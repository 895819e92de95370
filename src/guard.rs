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

/// What one fleet target's thread may hold allocated at once. A driver reading one huge message
/// (an error announced as 512 MB, TDS packets that never end) allocates it whole before any cap
/// of ours sees it; the fleet has no per-process guard to end it, as one check does. Catalog
/// reads hold a few MB (each answer is capped at 4 MiB).
pub const TARGET_MEMORY_BUDGET: usize = 16 * 1024 * 1024;

/// Fleet targets stopped at their memory budget so far.
static PARKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether any thread was held to a budget ([`start_target_budget`]): until then the allocator
/// counts nothing (one check, the service), so it costs one load per allocation.
static BUDGETS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The numbers of the last fleet targets stopped at their budget, plus one (0: free slot).
/// Written without allocating, from inside the allocator.
static PARKED_IDS: [std::sync::atomic::AtomicUsize; 64] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; 64];

/// How many fleet targets were stopped at [`TARGET_MEMORY_BUDGET`] (their check then ends at
/// the fleet's time limit, as abandoned).
pub fn parked_targets() -> usize {
    PARKED.load(Ordering::Relaxed)
}

/// Whether fleet target `index` was stopped at its memory budget (among the last 64 so
/// stopped): its check will never finish, and the fleet can say why instead of waiting for its
/// time limit.
pub fn target_parked(index: usize) -> bool {
    PARKED_IDS
        .iter()
        .any(|s| s.load(Ordering::Relaxed) == index.wrapping_add(1))
}

/// The allocator: the system's, counting what each thread held to a budget holds. A fleet
/// target's thread that asks for more than [`TARGET_MEMORY_BUDGET`] is stopped there for good
/// (parked, its memory kept as it is, nothing more allocated): a thread cannot be killed, and
/// failing the allocation would abort the whole process. The fleet's own time limit then
/// abandons that target; the others go on.
///
/// Installed by the binary (`src/main.rs`), not by the library: a program that embeds the
/// library keeps its own allocator.
pub struct BudgetedAlloc;

#[cfg(test)]
#[global_allocator]
static ALLOC: BudgetedAlloc = BudgetedAlloc;

thread_local! {
    /// Bytes this thread allocated and has not freed since its budget started (frees of
    /// another thread's allocations count against it, so this may only under-count).
    static LIVE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    /// The fleet target this thread now checks, plus one (0: not held to a budget), set by
    /// [`start_target_budget`].
    static TARGET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Holds this thread to [`TARGET_MEMORY_BUDGET`] from now on, for fleet target `index`,
/// counting from zero: for a worker thread that checks one target after another (what an
/// earlier target's report, freed on another thread, still counts here is forgotten).
pub fn start_target_budget(index: usize) {
    BUDGETS.store(true, Ordering::Relaxed);
    let _ = LIVE.try_with(|l| l.set(0));
    let _ = TARGET.try_with(|t| t.set(index.wrapping_add(1)));
}

/// Counts `n` more bytes for this thread; parks it for good when it is held to a budget and
/// goes over it.
fn admit(n: usize) {
    if !BUDGETS.load(Ordering::Relaxed) {
        return;
    }
    let Ok(live) = LIVE.try_with(|l| {
        let v = l.get().saturating_add(n as isize);
        l.set(v);
        v
    }) else {
        return;
    };
    if live <= TARGET_MEMORY_BUDGET as isize {
        return;
    }
    let target = TARGET.try_with(|t| t.get()).unwrap_or(0);
    if target == 0 {
        return;
    }
    let n = PARKED.fetch_add(1, Ordering::Relaxed);
    PARKED_IDS[n % PARKED_IDS.len()].store(target, Ordering::Relaxed);
    loop {
        std::thread::park();
    }
}

fn release(n: usize) {
    if !BUDGETS.load(Ordering::Relaxed) {
        return;
    }
    let _ = LIVE.try_with(|l| l.set(l.get().saturating_sub(n as isize)));
}

// The one unsafe block of the crate (Cargo.toml's lint is `deny`, allowed here only): a global
// allocator is an unsafe trait whatever it does.
// SAFETY: every call is passed to the system allocator unchanged; the counting touches only
// const-initialised thread-locals without destructors, and parking allocates nothing.
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for BudgetedAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        admit(layout.size());
        // SAFETY: the caller's layout, as GlobalAlloc::alloc requires.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        admit(layout.size());
        // SAFETY: as above.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        release(layout.size());
        // SAFETY: `ptr` came from this allocator (the system's) with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        match new.checked_sub(layout.size()) {
            Some(more) => admit(more),
            None => release(layout.size() - new),
        }
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
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

    /// How many MB a thread named `name` holds, one at a time up to 64, after `setup`, before
    /// it stops (the thread is left parked where it stopped).
    fn megabytes_held(name: &str, setup: impl FnOnce() + Send + 'static) -> usize {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                setup();
                let mut keep: Vec<Vec<u8>> = Vec::new();
                for i in 0..64 {
                    keep.push(vec![1u8; 1 << 20]);
                    let _ = tx.send(i);
                }
            })
            .unwrap();
        let mut got = 0;
        while rx.recv_timeout(Duration::from_secs(2)).is_ok() {
            got += 1;
        }
        got
    }

    #[test]
    fn a_fleet_target_thread_stops_at_its_budget_and_others_do_not() {
        let parked = parked_targets();
        let got = megabytes_held("target-4242", || start_target_budget(4242));
        // Stopped short of 64 MB: at its 16 MB budget (less what the thread held before).
        assert!(got < 17, "allocated {got} MB");
        assert_eq!(parked_targets(), parked + 1);
        assert!(target_parked(4242) && !target_parked(4241));
        // A worker thread that checks one target after another is held when it says so, from
        // zero for each target.
        let got = megabytes_held("fleet-worker", || {
            std::mem::forget(vec![1u8; 3 * TARGET_MEMORY_BUDGET]);
            start_target_budget(77);
        });
        assert!((8..17).contains(&got), "allocated {got} MB");
        assert!(target_parked(77));
        // A thread not held to a budget (this one) allocates past it freely.
        let big = vec![1u8; 3 * TARGET_MEMORY_BUDGET];
        assert_eq!(big.len(), 3 * TARGET_MEMORY_BUDGET);
    }
}
