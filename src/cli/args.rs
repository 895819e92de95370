//! The command line's arguments (clap): what each command and option is, and their help text.
//! `cli.rs` turns them into engine-free options and runs the command.

use crate::Engine;
use crate::engines;
use crate::render::Format;
use crate::render::diff::DiffFormat;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Is this database fit for our product? Checks a PostgreSQL, MySQL/MariaDB, SQL Server or
/// SQLite database against a supported-matrix file, check by check, with the exact fix.
#[derive(Debug, Parser)]
#[command(name = "byod-precheck", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 no check failed or errored; 1 at least one failed or errored (or warned, with --fail-on warn); 2 the tool could not run."
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a database.
    Check(CheckArgs),
    /// List the checks (the registry).
    Checks {
        /// Only this engine's checks (postgres, mysql, mssql, sqlite; mariadb lists mysql's).
        #[arg(long, value_parser = parse_engine)]
        engine: Option<Engine>,
        /// A table for people, or JSON (with each check's documentation) for programs.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Explain a check: what it asks the server, why it matters, how to fix it.
    Explain {
        /// A check id, e.g. postgres.tls.
        check_id: String,
        /// Also show what this saved report found for the check.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Render a saved JSON report (table, json, markdown, html or junit).
    Render {
        /// A JSON report written by `check -o FILE.json` or `check --format json`.
        report: PathBuf,
        /// Output format on standard output.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// No colours (also: the NO_COLOR variable, or when standard output is not a terminal).
        #[arg(long)]
        no_color: bool,
    },
    /// Compare two saved reports by check id; exit 1 when something got worse.
    Diff {
        /// The earlier JSON report.
        old: PathBuf,
        /// The later JSON report of the same database.
        new: PathBuf,
        /// A table for people, or JSON for programs.
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
    },
    /// Judge saved facts (from `check --save-facts`) again, against a matrix.
    Replay {
        /// A facts file written by `check --save-facts FILE`.
        facts: PathBuf,
        /// Supported-matrix file to judge the facts against (default: the built-in one).
        #[arg(long)]
        matrix: Option<PathBuf>,
        /// Output format on standard output.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// No colours (also: the NO_COLOR variable, or when standard output is not a terminal).
        #[arg(long)]
        no_color: bool,
    },
    /// Validate or show a matrix file.
    Matrix {
        #[command(subcommand)]
        action: MatrixAction,
    },
    /// Who is this server? Identify it from a version string a client sent: version(),
    /// SHOW server_version, VERSION(), @@VERSION, a psql/mysql banner, a protocol greeting or a
    /// cloud console's engine version. Exit 0 known flavor, 1 unrecognised, 2 bad input.
    Identify(IdentifyArgs),
    /// Serve the setup page and the HTTP API (POST /v1/checks) until SIGINT or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct IdentifyArgs {
    /// postgres, mysql, mssql or sqlite.
    pub(crate) engine: String,
    /// The version string, as the server or tool printed it.
    pub(crate) version_string: String,
    /// Another probe result, NAME=VALUE (repeatable): version_comment, aurora_version,
    /// basedir, handshake_version, server_version_num, server_version, citus_version,
    /// timescaledb_version, tidb_version, memsql_version, product_version, engine_edition, ...
    #[arg(long = "hint", value_name = "NAME=VALUE")]
    pub(crate) hints: Vec<String>,
    /// A table for people, or the library's ServerIdentity as JSON for programs.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub(crate) format: ListFormat,
}

/// `serve`: the token never comes from the command line (it would show in `ps`).
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Where to listen. Off loopback, a bearer token is required.
    #[arg(long, default_value = "127.0.0.1:8470")]
    pub(crate) listen: std::net::SocketAddr,
    /// A file whose first line is the bearer token `/v1` requests must carry (or set
    /// BYOD_PRECHECK_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// Let checks reach this range, address or host name (repeatable): loopback, private,
    /// link-local and metadata addresses are refused otherwise. `sqlite` or `sqlite:DIR` allows
    /// SQLite files (anywhere, or under DIR).
    #[arg(long, value_name = "CIDR|HOST")]
    pub(crate) allow_target: Vec<String>,
    /// Checks running at once; more are answered 429 Too Many Requests.
    #[arg(long, default_value_t = 16)]
    pub(crate) max_concurrent: usize,
    /// Supported-matrix file every check is judged against (default: the built-in one).
    #[arg(long)]
    pub(crate) matrix: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) limits: Limits,
}

#[derive(Debug, Subcommand)]
pub(crate) enum MatrixAction {
    /// Check a matrix file; every problem is reported with its line and column.
    Validate {
        /// The matrix file (TOML; see docs/matrix.md).
        file: PathBuf,
    },
    /// Print a matrix (the built-in one without FILE).
    Show {
        /// The matrix file (default: the built-in checks/matrix.toml).
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ListFormat {
    /// Id, engine, category and title.
    Table,
    /// Every field, documentation included.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Exit 1 on a warning too.
    Warn,
    /// Exit 1 on a fail or an error only.
    Fail,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Connection URL (postgres://, mysql://, mssql://, ADO.NET, JDBC, sqlite://). Default: $DATABASE_URL.
    pub(crate) url: Option<String>,
    /// Check many databases: a file with one `URL` or `name=URL` per line, or TOML
    /// (`[[target]]` with `name` and `url`) when it ends in .toml. Prints a summary table
    /// (or JSON) and writes one report per target to --out-dir.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["url", "output", "save_facts", "password_stdin"])]
    pub(crate) targets: Option<PathBuf>,
    /// With --targets: how many targets are checked at once.
    #[arg(long, default_value_t = 16, requires = "targets")]
    pub(crate) concurrency: usize,
    /// With --targets: the folder for the reports (`<name>.json`) and `summary.json`.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "precheck-reports",
        requires = "targets"
    )]
    pub(crate) out_dir: PathBuf,
    /// Supported-matrix file (default: the built-in checks/matrix.toml).
    #[arg(long)]
    pub(crate) matrix: Option<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Also write the report to FILE, in the format its extension names: .json, .md, .html, .xml or .junit (JUnit), .txt (the table); JSON without an extension. Another extension is an error.
    #[arg(short = 'o', long = "output")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) limits: Limits,
    /// What makes the exit code 1: a fail or an error (default), or a warning too.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    pub(crate) fail_on: FailOn,
    /// Run only the checks whose id matches this glob (repeatable), e.g. 'postgres.tls' or '*.version'. A pattern that matches no check is an error; the connection check always runs.
    #[arg(long, value_name = "GLOB")]
    pub(crate) only: Vec<String>,
    /// Skip the checks whose id matches this glob (repeatable), e.g. '*.write-probe'.
    #[arg(long, value_name = "GLOB")]
    pub(crate) skip: Vec<String>,
    /// Allow a scratch object, rolled back or dropped, to confirm capabilities for real.
    #[arg(long)]
    pub(crate) probe_write: bool,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// No colours.
    #[arg(long)]
    pub(crate) no_color: bool,
    /// Also save the collected facts to FILE (support can `replay` them).
    #[arg(long)]
    pub(crate) save_facts: Option<PathBuf>,
}

/// An engine by name, or by the name of a product that is one of its flavors (MariaDB is a
/// flavor of mysql, as in the URL schemes).
pub(crate) fn parse_engine(s: &str) -> Result<Engine, String> {
    engines::named(s).ok_or_else(|| {
        format!(
            "unknown engine `{s}` (postgres, mysql, mssql, sqlite; mariadb is a flavor of mysql)"
        )
    })
}

/// The time limits of a check, the same for `check` and `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Limits {
    /// Seconds allowed for connecting (DNS, TCP, TLS and login).
    #[arg(long, default_value_t = 10.0)]
    pub(crate) connect_timeout: f64,
    /// Seconds allowed for each query, client and server side.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) check_timeout: f64,
    /// Seconds allowed for the whole check.
    #[arg(long, default_value_t = 60.0)]
    pub(crate) timeout: f64,
}
