//! Many targets in one run (`check --targets FILE`): the targets file, the bounded-concurrency
//! run where each target has its own task and time limit, and the [`FleetSummary`] across all.
//! One target's failure, hang or malformed URL never affects another.

use crate::engine::Engine;
use crate::matrix::Matrix;
use crate::report::target_place;
use crate::report::{Report, Summary, ToolInfo};
use crate::run::{self, RunOptions};
use crate::status::Status;
use crate::target::ConnSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One line (or `[[target]]`) of a targets file. `input` may hold a password: it is never
/// printed; [`FleetTarget::shown`] is.
#[derive(Debug, Clone)]
pub struct FleetTarget {
    /// Unique, file-name-safe name (the report is `<name>.json`).
    pub name: String,
    input: String,
}

impl FleetTarget {
    /// The target as it may be shown: built from the parsed target (never the input with
    /// something masked), or only the form of a string that does not parse.
    pub fn shown(&self) -> String {
        match ConnSpec::parse(&self.input) {
            Ok(spec) => spec.shown(),
            Err(e) => format!("unparsable connection string ({})", e.form),
        }
    }
}

/// A targets file that cannot be used (the run's exit 2). Targets whose URL does not parse are
/// not this: they become that target's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}", problems.join("; "))]
pub struct TargetsFileError {
    pub file: String,
    pub problems: Vec<String>,
}

/// Reads a targets file: TOML (`[[target]]` tables with `url` and optional `name`) when the
/// name ends in `.toml`, else one `URL` or `name=URL` per line (blank lines and `#` comments
/// ignored).
pub fn load_targets(path: &std::path::Path) -> Result<Vec<FleetTarget>, TargetsFileError> {
    let file = path.display().to_string();
    let err = |p: String| TargetsFileError {
        file: file.clone(),
        problems: vec![p],
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let raw = if is_toml {
        parse_toml(&text).map_err(|problems| TargetsFileError {
            file: file.clone(),
            problems,
        })?
    } else {
        parse_lines(&text)
    };
    if raw.is_empty() {
        return Err(err("no target in the file".into()));
    }
    Ok(name_targets(raw))
}

/// `URL` or `name=URL` lines. A line is `name=URL` when what precedes the first `=` is a plain
/// name (letters, digits, `_ . -`) and what follows holds a scheme (`://` or `sqlite:`), so
/// ADO.NET strings (`Server=host;Database=app`) are taken whole.
pub fn parse_lines(text: &str) -> Vec<(Option<String>, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((name, url)) if is_target_name(name, url) => {
                (Some(name.trim().to_string()), url.trim().to_string())
            }
            _ => (None, l.to_string()),
        })
        .collect()
}

/// Whether `name=rest` names a target: a plain name (letters, digits, `_ . -`) that is not an
/// ADO.NET key, before a value that is not itself an ADO.NET string (`;`-separated). The value
/// need not be a valid URL: a bad one stays that target's error, under its name.
fn is_target_name(name: &str, rest: &str) -> bool {
    const ADO_KEYS: &[&str] = &[
        "server", "address", "addr", "database", "uid", "user", "pwd",
    ];
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !ADO_KEYS.contains(&name.to_ascii_lowercase().as_str())
        && (rest.contains("://") || rest.trim_start().starts_with("sqlite:") || !rest.contains(';'))
}

fn parse_toml(text: &str) -> Result<Vec<(Option<String>, String)>, Vec<String>> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let doc = toml_span::parse(text).map_err(|e| vec![format!("not TOML: {e}")])?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let Some(table) = doc.as_table() else {
        return Err(vec!["not a TOML table".into()]);
    };
    for (k, _) in table.iter() {
        if k.name != "target" {
            problems.push(format!(
                "line {}: unknown key `{}` (only [[target]] tables)",
                line_of(k.span.start),
                k.name
            ));
        }
    }
    match doc.pointer("/target").map(|v| (v, v.as_array())) {
        None => problems.push("no [[target]] table".into()),
        Some((v, None)) => problems.push(format!(
            "line {}: `target` must be an array of tables ([[target]])",
            line_of(v.span.start)
        )),
        Some((_, Some(items))) => {
            for item in items {
                let line = line_of(item.span.start);
                let Some(t) = item.as_table() else {
                    problems.push(format!("line {line}: a target must be a table"));
                    continue;
                };
                let (mut name, mut url) = (None, None);
                for (k, v) in t.iter() {
                    match (k.name.as_ref(), v.as_str()) {
                        ("name", Some(s)) => name = Some(s.to_string()),
                        ("url", Some(s)) => url = Some(s.to_string()),
                        ("name" | "url", None) => problems.push(format!(
                            "line {}: `{}` must be a string",
                            line_of(v.span.start),
                            k.name
                        )),
                        (other, _) => problems.push(format!(
                            "line {}: unknown key `{other}` (name, url)",
                            line_of(k.span.start)
                        )),
                    }
                }
                match url {
                    Some(u) => out.push((name, u)),
                    None => problems.push(format!("line {line}: a target without `url`")),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Gives every target a unique, file-name-safe name: its own, or one made from the URL
/// (engine, host, port, database — never the password).
fn name_targets(raw: Vec<(Option<String>, String)>) -> Vec<FleetTarget> {
    // `summary` is taken: the run writes summary.json beside the reports.
    let mut seen = BTreeSet::from(["summary".to_string()]);
    raw.into_iter()
        .enumerate()
        .map(|(i, (name, input))| {
            let base = name.unwrap_or_else(|| match ConnSpec::parse(&input) {
                Ok(s) => {
                    let t = s.target_info();
                    match (&t.host, &t.path) {
                        (Some(h), _) => format!(
                            "{}-{}-{}-{}",
                            t.engine,
                            h,
                            t.port.unwrap_or(0),
                            t.database.as_deref().unwrap_or("")
                        ),
                        (None, Some(p)) => format!("{}-{}", t.engine, p),
                        _ => format!("{}-{}", t.engine, i + 1),
                    }
                }
                Err(_) => format!("target-{}", i + 1),
            });
            let mut clean: String = base
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .take(100)
                .collect();
            clean = clean.trim_matches(['.', '_']).to_string();
            if clean.is_empty() {
                clean = format!("target-{}", i + 1);
            }
            let mut unique = clean.clone();
            let mut n = 2;
            while !seen.insert(unique.to_ascii_lowercase()) {
                unique = format!("{clean}-{n}");
                n += 1;
            }
            FleetTarget {
                name: unique,
                input,
            }
        })
        .collect()
}

/// The outcome of one target in a fleet run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetEntry {
    /// The target's unique name (its report is `<name>.json`).
    pub name: String,
    /// The target without its password.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<Engine>,
    /// Flavor and version that answered ("postgresql 15.14.0").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The report's overall status, or `error` when no report could be made.
    pub status: Status,
    /// Counts per status (all zero when no report could be made).
    pub counts: Summary,
    pub duration_ms: u64,
    /// Queries sent to the server.
    pub queries: u32,
    /// The report file, when one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// Why there is no report (URL that does not parse, task that did not finish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why a target with a report failed or errored: the connection failure, or the checks
    /// that failed and errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a report failed or errored, in one line; none when it did not.
pub fn failure_reason(report: &Report) -> Option<String> {
    if !matches!(report.summary.status, Status::Fail | Status::Error) {
        return None;
    }
    if let Some(conn) = report
        .checks
        .iter()
        .find(|f| f.id.ends_with(".connection") && f.status == Status::Fail)
    {
        return Some(format!("connection failed: {}", conn.message));
    }
    let ids = |st: Status| -> Vec<&str> {
        report
            .checks
            .iter()
            .filter(|f| f.status == st)
            .map(|f| f.id.as_str())
            .collect()
    };
    let parts: Vec<String> = [("fail", ids(Status::Fail)), ("error", ids(Status::Error))]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(name, v)| format!("{name}: {}", v.join(", ")))
        .collect();
    Some(parts.join("; "))
}

/// Every target of a fleet run, in targets-file order, with totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetSummary {
    pub tool: ToolInfo,
    pub generated_at: String,
    /// Wall time of the whole run.
    pub duration_ms: u64,
    /// Targets checked at once.
    pub concurrency: usize,
    /// Number of targets per overall status (`error` includes targets with no report).
    pub targets: Summary,
    /// Findings per status summed over every report.
    pub findings: Summary,
    /// Queries sent, summed.
    pub queries: u64,
    pub entries: Vec<FleetEntry>,
}

impl FleetSummary {
    /// 1 when a target failed or errored (or warned, with `fail_on_warn`), else 0.
    pub fn exit_code(&self, fail_on_warn: bool) -> u8 {
        let t = &self.targets;
        u8::from(t.fail > 0 || t.error > 0 || (fail_on_warn && t.warn > 0))
    }
}

/// How a fleet run behaves.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub run: RunOptions,
    /// Targets checked at once (at least 1).
    pub concurrency: usize,
}

/// One finished target: its entry and its report, if any.
pub struct FleetResult {
    pub entry: FleetEntry,
    pub report: Option<Report>,
}

/// Checks every target, at most `concurrency` at once, each in its own task under its own time
/// limit. `on_done` is called as each target finishes (for a progress bar or for writing its
/// report). Results come back in targets order.
pub async fn run_fleet(
    targets: &[FleetTarget],
    matrix: Arc<Matrix>,
    opts: &FleetOptions,
    mut on_done: impl FnMut(&mut FleetResult),
) -> Vec<FleetResult> {
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let run_opts = Arc::new(opts.run.clone());
    // A belt over run::check's own whole-run limit: a task that still does not finish (a
    // driver that ignores cancellation) is abandoned, not waited for.
    let hard_limit = opts.run.collect.run_timeout + Duration::from_secs(5);
    let workers = Arc::new(Workers::start(opts.concurrency.max(1).min(targets.len())));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, t) in targets.iter().enumerate() {
        let (permits, matrix, run_opts) = (permits.clone(), matrix.clone(), run_opts.clone());
        let workers = workers.clone();
        let t = t.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let started = Instant::now();
            let spec = match ConnSpec::parse(&t.input) {
                Ok(s) => s,
                Err(e) => return (i, error_result(&t, None, e.to_string(), started)),
            };
            let engine = Some(spec.engine);
            // Each target runs on one of the fleet's worker threads, each with a runtime of
            // its own: a driver that never yields (a server that keeps sending) holds only
            // its worker, never a thread the other targets and this time limit need.
            let (tx, rx) = tokio::sync::oneshot::channel();
            workers.submit(Box::new(move |rt| {
                // This worker's allocations now count for this target alone, up to its
                // budget (`guard::TARGET_MEMORY_BUDGET`): one huge message read whole by a
                // driver stops this target, not the process.
                crate::guard::start_target_budget(i);
                let r = match rt {
                    // On the heap: a check's future is large, and a worker's stack keeps
                    // every page it ever touched (16 workers, 16 stacks).
                    Ok(rt) => rt.block_on(Box::pin(run::check(&spec, &matrix, &run_opts))),
                    Err(e) => Err(format!("cannot start a runtime: {e}")),
                };
                let _ = tx.send(r);
            }));
            // The answer, or `None` as soon as the target is stopped at its memory budget (its
            // worker then never answers).
            let answer = async {
                let mut rx = rx;
                // Looked at four times a second: each look wakes this task's thread, and a
                // target stopped at its budget is rare.
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tokio::select! {
                        r = &mut rx => break Some(r),
                        _ = tick.tick() => if crate::guard::target_parked(i) {
                            break None;
                        },
                    }
                }
            };
            let r = match tokio::time::timeout(hard_limit, answer).await {
                Ok(Some(Ok(Ok(r)))) => ok_result(&t, r.report),
                Ok(Some(Ok(Err(e)))) => error_result(&t, engine, e, started),
                Ok(Some(Err(_))) => error_result(&t, engine, "the check crashed".into(), started),
                Ok(None) => {
                    workers.replace_one();
                    let msg = format!(
                        "held more than {} MiB at once (the server sent more than any check reads) and was stopped",
                        crate::guard::TARGET_MEMORY_BUDGET / (1024 * 1024)
                    );
                    error_result(&t, engine, msg, started)
                }
                Err(_) => {
                    // Its worker is left to the stuck driver; another takes its place.
                    workers.replace_one();
                    let msg = format!(
                        "did not finish within {} s and was abandoned (the server kept the connection busy)",
                        hard_limit.as_secs_f32()
                    );
                    error_result(&t, engine, msg, started)
                }
            };
            (i, r)
        });
    }
    let mut done: Vec<Option<FleetResult>> = (0..targets.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, mut r)) = joined {
            on_done(&mut r);
            done[i] = Some(r);
        }
    }
    done.into_iter()
        .zip(targets)
        .map(|(r, t)| {
            r.unwrap_or_else(|| {
                error_result(t, None, "the check task was lost".into(), Instant::now())
            })
        })
        .collect()
}

/// One target's check, run on a worker with that worker's runtime (or why it has none).
type Job = Box<dyn FnOnce(Result<&tokio::runtime::Runtime, &str>) + Send>;

/// The fleet's worker threads: as many as targets run at once, each with a current-thread
/// runtime of its own, reused from target to target (a thread, a runtime and its blocking
/// pool per target cost more than the check's own work on a fast server). A worker whose
/// target outlives the hard deadline is abandoned to it and replaced, so a target that never
/// yields holds one thread and never the others' turn.
struct Workers {
    jobs: std::sync::Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    queue: Arc<std::sync::Mutex<std::sync::mpsc::Receiver<Job>>>,
    /// Workers to retire: one for each replacement started, taken by the next worker that
    /// finishes a job (the stuck one, or any other: the count stays the same).
    retire: Arc<std::sync::atomic::AtomicUsize>,
    started: std::sync::atomic::AtomicUsize,
}

impl Workers {
    fn start(n: usize) -> Workers {
        let (tx, rx) = std::sync::mpsc::channel();
        let w = Workers {
            jobs: std::sync::Mutex::new(Some(tx)),
            queue: Arc::new(std::sync::Mutex::new(rx)),
            retire: Default::default(),
            started: Default::default(),
        };
        for _ in 0..n {
            w.spawn();
        }
        w
    }

    fn spawn(&self) {
        let n = self
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (queue, retire) = (self.queue.clone(), self.retire.clone());
        // A worker that cannot start leaves its jobs to the others (there is always one: the
        // caller's target waits for a job that some worker takes).
        let _ = std::thread::Builder::new()
            .name(format!("fleet-{n}"))
            .spawn(move || worker(&queue, &retire));
    }

    fn submit(&self, job: Job) {
        if let Some(tx) = self.jobs.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = tx.send(job);
        }
    }

    /// A worker is stuck past the deadline: start another in its place.
    fn replace_one(&self) {
        self.retire
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.spawn();
    }
}

impl Drop for Workers {
    /// Closing the queue ends every idle worker; a stuck one ends with the process.
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

fn worker(
    queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>,
    retire: &std::sync::atomic::AtomicUsize,
) {
    use std::sync::atomic::Ordering;
    let build = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let mut rt = build();
    loop {
        let job = match queue.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &rt {
            Ok(rt) => job(Ok(rt)),
            Err(e) => job(Err(&e.to_string())),
        }));
        // A panic (the job's sender is gone with it: "the check crashed"), or tasks the
        // target left behind (a connection still closing): the next target starts on a fresh
        // runtime, never beside what is left of another's. Nothing is waited for.
        let leftovers = rt
            .as_ref()
            .is_ok_and(|rt| rt.metrics().num_alive_tasks() > 0);
        if (ran.is_err() || leftovers)
            && let Ok(old) = std::mem::replace(&mut rt, build())
        {
            old.shutdown_background();
        }
        if retire
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            return;
        }
    }
}

fn ok_result(t: &FleetTarget, report: Report) -> FleetResult {
    let server = report
        .server
        .as_ref()
        .map(|s| format!("{} {}", s.flavor, s.version));
    FleetResult {
        entry: FleetEntry {
            name: t.name.clone(),
            target: target_place(&report),
            engine: Some(report.target.engine),
            server,
            status: report.summary.status,
            counts: report.summary.clone(),
            duration_ms: report.duration_ms,
            queries: report.queries,
            report: None,
            error: None,
            reason: failure_reason(&report),
        },
        report: Some(report),
    }
}

fn error_result(
    t: &FleetTarget,
    engine: Option<Engine>,
    message: String,
    started: Instant,
) -> FleetResult {
    FleetResult {
        entry: FleetEntry {
            name: t.name.clone(),
            target: t.shown(),
            engine,
            server: None,
            status: Status::Error,
            counts: Summary {
                status: Status::Error,
                ..Summary::default()
            },
            duration_ms: started.elapsed().as_millis() as u64,
            queries: 0,
            report: None,
            error: Some(message),
            reason: None,
        },
        report: None,
    }
}

/// Totals over finished targets.
pub fn summarize(
    entries: Vec<FleetEntry>,
    generated_at: String,
    duration_ms: u64,
    concurrency: usize,
) -> FleetSummary {
    let mut targets = Summary::default();
    let mut findings = Summary::default();
    let mut queries = 0u64;
    for e in &entries {
        *match e.status {
            Status::Pass => &mut targets.pass,
            Status::Warn => &mut targets.warn,
            Status::Fail => &mut targets.fail,
            Status::Skip => &mut targets.skip,
            Status::Error => &mut targets.error,
        } += 1;
        if e.status.rank() > targets.status.rank() {
            targets.status = e.status;
        }
        for s in Status::ALL {
            let n = e.counts.count(s);
            *match s {
                Status::Pass => &mut findings.pass,
                Status::Warn => &mut findings.warn,
                Status::Fail => &mut findings.fail,
                Status::Skip => &mut findings.skip,
                Status::Error => &mut findings.error,
            } += n;
        }
        if e.counts.status.rank() > findings.status.rank() {
            findings.status = e.counts.status;
        }
        queries += u64::from(e.queries);
    }
    FleetSummary {
        tool: ToolInfo::current(),
        generated_at,
        duration_ms,
        concurrency,
        targets,
        findings,
        queries,
        entries,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_worker_is_replaced_and_the_others_go_on() {
        let workers = Workers::start(1);
        // The only worker is taken by a job that never gives it back (a driver that never
        // yields): it holds its thread, and nothing else.
        let (stuck_tx, stuck_rx) = std::sync::mpsc::channel::<()>();
        workers.submit(Box::new(move |_| {
            let _ = stuck_rx.recv();
        }));
        // At the deadline the fleet abandons it and starts another worker in its place.
        workers.replace_one();
        let (tx, rx) = std::sync::mpsc::channel();
        workers.submit(Box::new(move |rt| {
            let v = rt.unwrap().block_on(async { 7 });
            tx.send(v).unwrap();
        }));
        assert_eq!(rx.recv().unwrap(), 7);
        // When the stuck job ends at last, its worker retires: the count stays at one.
        drop(stuck_tx);
        let (tx, rx) = std::sync::mpsc::channel();
        workers.submit(Box::new(move |rt| tx.send(rt.is_ok()).unwrap()));
        assert!(rx.recv().unwrap());
    }

    #[test]
    fn a_job_that_panics_leaves_its_worker_serving() {
        let workers = Workers::start(1);
        workers.submit(Box::new(|_| panic!("a check that crashed")));
        let (tx, rx) = std::sync::mpsc::channel();
        workers.submit(Box::new(move |rt| tx.send(rt.is_ok()).unwrap()));
        assert!(rx.recv().unwrap());
    }

    #[test]
    fn lines_take_names_urls_and_whole_ado_strings() {
        let raw = parse_lines(
            "# fleet\n\nacme=postgres://a:pw@h/db?sslmode=disable\npostgres://h/db\n\
             Server=tcp:h,1433;Database=app\n  local = sqlite::memory:\n",
        );
        assert_eq!(
            raw,
            vec![
                (
                    Some("acme".into()),
                    "postgres://a:pw@h/db?sslmode=disable".into()
                ),
                (None, "postgres://h/db".into()),
                (None, "Server=tcp:h,1433;Database=app".into()),
                (None, "local = sqlite::memory:".into()),
            ]
        );
    }

    #[test]
    fn a_named_line_keeps_its_name_when_its_value_is_not_a_url() {
        assert_eq!(
            parse_lines("billing=db.example.com:5432\nServer=tcp:h,1433\n"),
            vec![
                (Some("billing".into()), "db.example.com:5432".into()),
                (None, "Server=tcp:h,1433".into()),
            ]
        );
    }

    #[test]
    fn names_are_safe_unique_and_never_hold_the_password() {
        let t = name_targets(vec![
            (None, "postgres://app:s3cret@db.example.com:5433/app".into()),
            (None, "postgres://app:s3cret@db.example.com:5433/app".into()),
            (Some("a/../b".into()), "sqlite::memory:".into()),
            (None, "nonsense".into()),
            (Some("Summary".into()), "sqlite::memory:".into()),
        ]);
        let names: Vec<_> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "postgres-db.example.com-5433-app",
                "postgres-db.example.com-5433-app-2",
                "a_.._b",
                "target-4",
                "Summary-2"
            ]
        );
        assert!(!t[0].shown().contains("s3cret"));
    }

    #[test]
    fn toml_targets_and_their_problems_with_lines() {
        let ok = parse_toml(
            "[[target]]\nname = \"a\"\nurl = \"postgres://h/db\"\n[[target]]\nurl = \"sqlite::memory:\"\n",
        )
        .unwrap();
        assert_eq!(
            ok,
            vec![
                (Some("a".into()), "postgres://h/db".into()),
                (None, "sqlite::memory:".into())
            ]
        );
        let bad = parse_toml("[[target]]\nname = \"a\"\nuri = \"x\"\n").unwrap_err();
        assert_eq!(
            bad,
            vec![
                "line 3: unknown key `uri` (name, url)".to_string(),
                "line 1: a target without `url`".to_string()
            ]
        );
    }
}
