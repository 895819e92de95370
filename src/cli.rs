//! The command line: arguments are gathered first, then turned into working objects (target,
//! matrix, options), then handed to the library. Exit codes: 0 nothing failed, 1 a check
//! failed or errored, 2 the tool could not run.

use crate::engines::{self, CollectOptions};
use crate::fleet::{self, FleetOptions};
use crate::matrix::Matrix;
use crate::registry::{CheckInfo, Selection};
use crate::render::{self, Format};
use crate::report::Report;
use crate::run::{self, RunOptions, SavedFacts};
use crate::target::{ConnSpec, Secret};
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use is_terminal::IsTerminal;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

mod args;
pub use args::Cli;
use args::*;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        // `| head` closed the pipe: stop quietly with the status of a process ended by SIGPIPE
        // (128 + 13), as `yes | head` does, so `set -o pipefail` still sees it.
        Err(e) if broken_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(2)
        }
    }
}

/// Whether the error is standard output's reader going away.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line each, printed once.
fn chain(e: &anyhow::Error) -> String {
    let mut s = e.to_string();
    for cause in e.chain().skip(1) {
        s.push_str(&format!("\n  caused by: {cause}"));
    }
    s
}

fn dispatch(cli: Cli) -> Result<u8> {
    // Rust's stdout is line-buffered even into a pipe: a JSON report went out in ~300 writes.
    // Buffered, it goes out whole; flushed below, and on drop when a command fails.
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let code = dispatch_to(cli, &mut stdout)?;
    stdout.flush()?;
    Ok(code)
}

fn dispatch_to(cli: Cli, mut stdout: &mut dyn Write) -> Result<u8> {
    match cli.command {
        Command::Check(args) => check(args, &mut stdout),
        Command::Checks { engine, format } => {
            let list: Vec<CheckInfo> = engines::all_checks()
                .into_iter()
                .filter(|c| engine.is_none_or(|e| c.engine == e))
                .collect();
            match format {
                ListFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&list)?)?,
                ListFormat::Table => {
                    let mut t = comfy_table::Table::new();
                    t.load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
                        .force_no_tty();
                    t.set_header(vec!["Id", "Engine", "Category", "Title"]);
                    for c in &list {
                        t.add_row(vec![c.id, c.engine.name(), c.category.as_str(), c.title]);
                    }
                    writeln!(stdout, "{t}\n{} checks", list.len())?;
                }
            }
            Ok(0)
        }
        Command::Explain { check_id, report } => {
            let all = engines::all_checks();
            let info = all.iter().find(|c| c.id == check_id);
            let report = report.as_deref().map(read_report).transpose()?;
            let finding = report
                .as_ref()
                .and_then(|r| r.checks.iter().find(|f| f.id == check_id));
            if info.is_none() && finding.is_none() {
                let ids: Vec<&str> = all.iter().map(|c| c.id).collect();
                let near = crate::text::closest_ids(&check_id, &ids);
                bail!(
                    "no check has the id `{check_id}`{} (see `byod-precheck checks`)",
                    if near.is_empty() {
                        String::new()
                    } else {
                        format!("; did you mean {}?", near.join(", "))
                    }
                );
            }
            render::explain::render(info, finding, &mut stdout)?;
            if report.is_some() && finding.is_none() {
                writeln!(
                    stdout,
                    "
In this report: not evaluated (no finding with this id)."
                )?;
            }
            Ok(0)
        }
        Command::Render {
            report,
            format,
            no_color,
        } => {
            let r = read_report(&report)?;
            render::render(&r, format, use_color(no_color), &mut stdout)?;
            Ok(0)
        }
        Command::Diff { old, new, format } => {
            let d = crate::diff::diff(&read_report(&old)?, &read_report(&new)?);
            render::diff::render(&d, format, &mut stdout)?;
            Ok(u8::from(d.worse))
        }
        Command::Replay {
            facts,
            matrix,
            format,
            no_color,
        } => {
            let bytes = std::fs::read(&facts)
                .with_context(|| format!("cannot read {}", facts.display()))?;
            let saved =
                SavedFacts::read(&bytes).map_err(|e| anyhow!("{}: {e}", facts.display()))?;
            let m = load_matrix(matrix.as_deref())?;
            let r = run::replay(&saved, &m, &Selection::default())
                .map_err(|e| anyhow!("{}: {e}", facts.display()))?;
            render::render(&r, format, use_color(no_color), &mut stdout)?;
            Ok(r.exit_code(false))
        }
        Command::Identify(args) => identify(&args, &mut stdout),
        Command::Serve(args) => serve(args),
        Command::Matrix { action } => match action {
            MatrixAction::Validate { file } => {
                let m = load_matrix(Some(&file))?;
                writeln!(
                    stdout,
                    "{}: valid (schema_version {}, sha256 {})",
                    file.display(),
                    m.schema_version,
                    m.origin.sha256
                )?;
                Ok(0)
            }
            MatrixAction::Show { file } => {
                let (text, name) = match &file {
                    Some(f) => (
                        std::fs::read_to_string(f)
                            .with_context(|| format!("cannot read {}", f.display()))?,
                        f.display().to_string(),
                    ),
                    None => (
                        crate::matrix::BUILTIN_SOURCE.to_string(),
                        "built-in".to_string(),
                    ),
                };
                let m = Matrix::parse(&text, &name)?;
                writeln!(stdout, "# {name} (sha256 {})", m.origin.sha256)?;
                write!(stdout, "{text}")?;
                Ok(0)
            }
        },
    }
}

fn use_color(no_color: bool) -> bool {
    !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

fn load_matrix(path: Option<&Path>) -> Result<Matrix> {
    Ok(match path {
        Some(p) => Matrix::load(p)?,
        None => Matrix::builtin(),
    })
}

fn read_report(path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Report::from_json(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn secs(v: f64, flag: &str) -> Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 3600.0) {
        bail!("{flag} must be a number of seconds between 0 and 3600, not {v}");
    }
    Ok(Duration::from_secs_f64(v))
}

/// The `--only`/`--skip` selection, refused when a pattern matches no check at all.
fn selection(args: &CheckArgs) -> Result<Selection> {
    let selection = Selection::new(&args.only, &args.skip).map_err(|e| anyhow!(e))?;
    let ids: Vec<&str> = engines::all_checks().iter().map(|c| c.id).collect();
    selection.check_patterns(&ids).map_err(|e| anyhow!(e))?;
    Ok(selection)
}

/// The format `-o FILE` asks for by its extension; JSON without one. Checked before connecting.
fn output_format(path: &Path) -> Result<Format> {
    match (Format::from_path(path), path.extension()) {
        (Some(f), _) => Ok(f),
        (None, None) => Ok(Format::Json),
        (None, Some(ext)) => bail!(
            "-o {}: unknown extension `.{}`; use .json, .md, .html, .xml or .junit (JUnit), or .txt (the table)",
            path.display(),
            ext.to_string_lossy()
        ),
    }
}

fn run_options(args: &CheckArgs, matrix: &Matrix) -> Result<RunOptions> {
    let mut collect = CollectOptions {
        connect_timeout: secs(args.limits.connect_timeout, "--connect-timeout")?,
        // At least 1 ms: a limit that rounds to 0 would turn the servers' own limits off
        // (statement_timeout = 0 means none).
        check_timeout: secs(args.limits.check_timeout, "--check-timeout")?
            .max(Duration::from_millis(1)),
        probe_write: args.probe_write,
        run_timeout: secs(args.limits.timeout, "--timeout")?,
        share_per_server: args.targets.is_some(),
        ..CollectOptions::default()
    };
    collect.for_matrix(matrix);
    Ok(RunOptions {
        collect,
        selection: selection(args)?,
        keep_facts: args.save_facts.is_some(),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// `check --targets`: every target in one runtime, a bounded number at once.
fn check_fleet(args: CheckArgs, file: &Path, stdout: &mut dyn Write) -> Result<u8> {
    if !matches!(args.format, Format::Table | Format::Json) {
        bail!(
            "--targets prints a table or JSON (--format table|json); each target's report is JSON in --out-dir"
        );
    }
    if args.concurrency == 0 || args.concurrency > 1024 {
        bail!(
            "--concurrency must be between 1 and 1024, not {}",
            args.concurrency
        );
    }
    let targets = fleet::load_targets(file)?;
    let matrix = load_matrix(args.matrix.as_deref())?;
    let opts = FleetOptions {
        run: run_options(&args, &matrix)?,
        concurrency: args.concurrency,
    };
    let dir = &args.out_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(targets.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} targets, {elapsed} elapsed, ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let generated_at = crate::checks::now_rfc3339();
    let started = std::time::Instant::now();
    let rt = runtime()?;
    let mut write_errors = Vec::new();
    let results = rt.block_on(fleet::run_fleet(
        &targets,
        std::sync::Arc::new(matrix),
        &opts,
        |r| {
            if let Some(report) = &r.report {
                let path = dir.join(format!("{}.json", r.entry.name));
                let written = serde_json::to_vec_pretty(report)
                    .map_err(std::io::Error::other)
                    .map_err(anyhow::Error::from)
                    .and_then(|bytes| write_output(&path, &bytes));
                match written {
                    Ok(()) => r.entry.report = Some(path.display().to_string()),
                    Err(e) => write_errors.push(format!("{e:#}")),
                }
            }
            bar.set_message(r.entry.name.clone());
            bar.inc(1);
        },
    ));
    rt.shutdown_timeout(Duration::from_millis(100));
    bar.finish_and_clear();
    let summary = fleet::summarize(
        results.into_iter().map(|r| r.entry).collect(),
        generated_at,
        started.elapsed().as_millis() as u64,
        args.concurrency,
    );
    let json = serde_json::to_string_pretty(&summary)?;
    let summary_path = dir.join("summary.json");
    write_output(&summary_path, json.as_bytes())?;
    match args.format {
        Format::Json => writeln!(stdout, "{json}")?,
        _ => render::fleet::render(&summary, stdout)?,
    }
    for e in &write_errors {
        eprintln!("error: {e}");
    }
    if !write_errors.is_empty() {
        return Ok(2);
    }
    Ok(summary.exit_code(args.fail_on == FailOn::Warn))
}

/// Writes an output file (`-o`, `--save-facts`) without following a symbolic link: a link at
/// that path is replaced by the file (and stderr says so), so a report cannot be written
/// through a link into a file elsewhere.
fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        std::fs::remove_file(path)
            .with_context(|| format!("cannot replace the symbolic link {}", path.display()))?;
        eprintln!(
            "note: {} was a symbolic link; it was replaced by the file, not written through",
            path.display()
        );
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .create_new(is_link)
        .truncate(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// What a run may take beyond `--timeout` before it is ended from outside.
const HARD_DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// One target's check on a thread and runtime of its own, under a hard deadline (`--timeout`
/// plus a grace) and the memory limit, both watched from this thread: a driver that never
/// yields cannot keep the run going. An ended run still gives a report, classified.
fn guarded_check(spec: &ConnSpec, matrix: &Matrix, opts: &RunOptions) -> Result<run::RunResult> {
    use crate::guard::{self, Outcome};
    use crate::net::{ConnectFailure, FailureKind};
    let started = std::time::Instant::now();
    let (s, m, o) = (spec.clone(), matrix.clone(), opts.clone());
    let outcome = guard::run(
        opts.collect.run_timeout + HARD_DEADLINE_GRACE,
        guard::MEMORY_LIMIT_BYTES,
        move || -> Result<run::RunResult> {
            let runtime = runtime()?;
            let r = runtime
                .block_on(async {
                    tokio::spawn(guard::watch_signals());
                    run::check(&s, &m, &o).await
                })
                .map_err(|e| anyhow!(e));
            runtime.shutdown_timeout(Duration::from_millis(100));
            r
        },
    );
    let failure = match outcome {
        Outcome::Done(r) => return r,
        Outcome::TimedOut(d) => ConnectFailure {
            kind: FailureKind::Timeout,
            message: format!(
                "the check did not finish within {:.1} s (--timeout plus {} s) and was ended: the server kept the connection busy without completing",
                d.as_secs_f64(),
                HARD_DEADLINE_GRACE.as_secs()
            ),
        },
        Outcome::OverMemory(_) => ConnectFailure {
            kind: FailureKind::ServerError,
            message: format!(
                "the server sent more than {} MB and the check was ended (the tool stays under that limit whatever a server sends)",
                guard::MEMORY_LIMIT_BYTES / (1024 * 1024)
            ),
        },
        Outcome::Interrupted(sig) => ConnectFailure {
            kind: FailureKind::Timeout,
            message: format!(
                "interrupted by signal {sig}; the check did not finish its cleanup within {} s",
                guard::CLEANUP_GRACE.as_secs()
            ),
        },
        Outcome::Crashed(why) => ConnectFailure {
            kind: FailureKind::ServerError,
            message: format!("the check stopped unexpectedly: {why}"),
        },
    };
    let ms = started.elapsed().as_millis() as u64;
    Ok(run::ended(spec, matrix, opts, failure, ms))
}

fn check(args: CheckArgs, stdout: &mut dyn Write) -> Result<u8> {
    if let Some(file) = args.targets.clone() {
        return check_fleet(args, &file, stdout);
    }
    let url = match args
        .url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
    {
        Some(u) => u,
        None => bail!(
            "no database: pass a URL (e.g. sqlite://app.db, postgres://user@host/db) or set DATABASE_URL"
        ),
    };
    let mut spec = ConnSpec::parse(&url)?;
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(64 * 1024)
            .read_to_string(&mut line)
            .context("cannot read the password from standard input")?;
        let pw = line.lines().next().unwrap_or("").to_string();
        spec.password = Some(Secret::new(pw));
    } else if spec.password.is_none()
        && let Some(pw) = spec
            .dialect
            .password_var
            .and_then(|var| std::env::var(var).ok())
    {
        spec.password = Some(Secret::new(pw));
    }
    let output_format = args.output.as_deref().map(output_format).transpose()?;
    let matrix = load_matrix(args.matrix.as_deref())?;
    let opts = run_options(&args, &matrix)?;
    let engine_ids: Vec<&str> = engines::all_checks()
        .iter()
        .filter(|c| c.engine == spec.engine)
        .map(|c| c.id)
        .collect();
    opts.selection
        .check_engine(spec.engine, &engine_ids)
        .map_err(|e| anyhow!(e))?;
    let result = guarded_check(&spec, &matrix, &opts)?;
    let report = result.report;
    if let (Some(path), Some(facts)) = (&args.save_facts, &result.facts) {
        // Facts never hold the password (the target in them is built from its parsed parts),
        // so they are written as they are: masking by replacement would corrupt them.
        let text = serde_json::to_string_pretty(facts)?;
        write_output(path, text.as_bytes())?;
    }
    if let Some(path) = &args.output {
        let format = output_format.unwrap_or(Format::Json);
        let mut buf = Vec::new();
        render::render(&report, format, false, &mut buf)?;
        write_output(path, &buf)?;
    }
    render::render(&report, args.format, use_color(args.no_color), stdout)?;
    if let Some(sig) = crate::guard::interrupted() {
        eprintln!(
            "interrupted by signal {sig}: the probes not yet sent were skipped and the write probe's cleanup ran; the report is partial"
        );
        return Ok(128u8.saturating_add(sig as u8));
    }
    Ok(report.exit_code(args.fail_on == FailOn::Warn))
}

/// `identify`: 0 when the flavor is known, 1 when the string is not understood, 2 on bad input.
fn identify(args: &IdentifyArgs, out: &mut dyn Write) -> Result<u8> {
    // The names support hears for an engine's family are accepted too.
    let name = match args.engine.to_ascii_lowercase().as_str() {
        "postgresql" | "pg" => "postgres".to_string(),
        "mariadb" => "mysql".to_string(),
        "sqlserver" | "sql-server" => "mssql".to_string(),
        other => other.to_string(),
    };
    let engine = parse_engine(&name).map_err(|e| anyhow!(e))?;
    let mut hints: Vec<(&str, &str)> = Vec::new();
    for h in &args.hints {
        match h.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => hints.push((k.trim(), v)),
            _ => bail!("--hint `{h}`: expected NAME=VALUE (for example version_comment=...)"),
        }
    }
    // Support pastes what clients send: `\n` written out in a banner stands for a new line.
    let text = args
        .version_string
        .replace("\\n", "\n")
        .replace("\\t", "\t");
    let id = match crate::identify(engine, &text, &hints) {
        Ok(id) => id,
        Err(crate::IdentifyError::Empty) => {
            bail!("empty version string: pass what the server printed (and --hint NAME=VALUE)")
        }
        Err(e) => {
            match args.format {
                ListFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "engine": engine,
                        "flavor": null,
                        "error": e.to_string(),
                    }))?
                )?,
                ListFormat::Table => writeln!(out, "unknown flavor: {}", inert(&e.to_string()))?,
            }
            return Ok(1);
        }
    };
    match args.format {
        ListFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&id)?)?,
        ListFormat::Table => {
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY)
                .force_no_tty();
            let none = || "-".to_string();
            let version = match id.patch {
                Some(p) => format!("{}.{}.{p}", id.major, id.minor),
                None => format!("{}.{}", id.major, id.minor),
            };
            for (k, v) in [
                ("engine", id.engine.to_string()),
                ("flavor", id.flavor.clone()),
                ("version", version),
                (
                    "flavor version",
                    id.flavor_version.clone().unwrap_or_else(none),
                ),
                ("pre-release", id.prerelease.clone().unwrap_or_else(none)),
                ("product", id.product.clone()),
                ("os", id.os.clone().unwrap_or_else(none)),
            ] {
                t.add_row(vec![k.to_string(), inert(&v)]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(0)
}

/// Pasted text is hostile: no control character (terminal escape) reaches the terminal.
fn inert(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
/// `serve`: builds the service's configuration, refuses an exposed one (exit 2), runs until
/// SIGINT/SIGTERM, then lets running checks finish within their deadline.
fn serve(args: ServeArgs) -> Result<u8> {
    use crate::serve::{ServeConfig, guard::Policy};
    let token = match (&args.token_file, std::env::var("BYOD_PRECHECK_TOKEN").ok()) {
        (Some(f), _) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the token file {}", f.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string(),
        ),
        (None, Some(t)) => Some(t.trim().to_string()),
        (None, None) => None,
    }
    .filter(|t| !t.is_empty());
    let mut cfg = ServeConfig::new(args.listen);
    cfg.token = token;
    cfg.policy = Policy::parse(&args.allow_target).map_err(|e| anyhow!(e))?;
    cfg.max_concurrent = args.max_concurrent;
    cfg.matrix = std::sync::Arc::new(load_matrix(args.matrix.as_deref())?);
    cfg.connect_timeout = secs(args.limits.connect_timeout, "--connect-timeout")?;
    cfg.check_timeout = secs(args.limits.check_timeout, "--check-timeout")?;
    cfg.run_timeout = secs(args.limits.timeout, "--timeout")?;
    cfg.validate().map_err(|e| anyhow!(e))?;
    // Checks run on worker threads: give them the main thread's stack size (a collector's
    // future is large in debug builds).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(8 * 1024 * 1024)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let stop = async {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term => {},
            }
        };
        let running = crate::serve::start(cfg, stop)
            .await
            .context("cannot start the service")?;
        running.wait().await.context("the service failed")
    })?;
    Ok(0)
}
