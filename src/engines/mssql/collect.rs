//! The SQL Server collector: the only code that talks to a SQL Server. It connects in steps
//! (DNS, TCP, then TDS login with TLS through tiberius and rustls), then sends a fixed set of
//! catalog queries over one connection, in two batches of one round trip each (what every login
//! may read; the server-state views); each statement becomes a probe of its own. SQL Server has no
//! read-only session mode (ApplicationIntent=ReadOnly would route to a secondary replica and
//! check the wrong server), so safety rests on sending only SELECTs.

use super::facts::{
    AzureTier, ConnectionInfo, Database, HostInfo, MssqlFacts, SchemaPermissions, ServerProps,
    Session, WriteProbe,
};
use crate::Engine;
use crate::checks::{
    Capability, ClockFacts, ConnectionSlots, MigrationHistory, ReadOnlyFacts, TlsFacts, TrustMode,
};
use crate::engines::CollectOptions;
use crate::engines::identify_probe;
use crate::engines::sql::{tsql_ident, tsql_literal};
use crate::identity::ServerIdentity;
use crate::net::{ConnectFailure, FailureKind, ms_since, reach_server};
use crate::probe::Probe;
use crate::target::ConnSpec;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tiberius::error::Error as TdsError;
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, ToSql};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

type Conn = Client<Compat<TcpStream>>;

/// Server error numbers that mean "permission denied" (SELECT/EXECUTE denied, VIEW SERVER
/// STATE / VIEW DATABASE STATE missing, no access to the database, not a grantor).
const DENIED: &[u32] = &[229, 230, 262, 297, 300, 916, 15247];

/// One cell, decoded whatever its SQL type.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// A date and time without offset, as seconds since 1970-01-01 in its own (server) zone.
    Local(f64),
    /// A date and time with offset: UTC seconds since the epoch, offset in minutes.
    Offset(f64, i16),
}

impl Val {
    fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) => Some(*f as i64),
            Val::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }
    fn flag(&self) -> bool {
        match self {
            Val::Int(i) => *i != 0,
            Val::Text(t) => matches!(t.trim().to_ascii_uppercase().as_str(), "1" | "TRUE" | "ON"),
            _ => false,
        }
    }
    fn text(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Int(i) => Some(i.to_string()),
            Val::Float(f) => Some(f.to_string()),
            Val::Text(t) => Some(t.clone()),
            Val::Local(s) | Val::Offset(s, _) => Some(format!("{s}")),
        }
    }
    fn epoch(&self) -> Option<f64> {
        match self {
            Val::Local(s) | Val::Offset(s, _) => Some(*s),
            _ => None,
        }
    }
}

/// Days from 0001-01-01 to 1970-01-01, and from 1900-01-01 to 1970-01-01.
const DAYS_0001_TO_1970: f64 = 719_162.0;
const DAYS_1900_TO_1970: f64 = 25_567.0;

fn decode(c: &ColumnData<'static>) -> Val {
    use tiberius::time::{Date, DateTime2, Time};
    let time_secs = |t: Time| t.increments() as f64 / 10f64.powi(i32::from(t.scale()));
    let date_secs = |d: Date| (d.days() as f64 - DAYS_0001_TO_1970) * 86_400.0;
    let dt2 = |d: DateTime2| date_secs(d.date()) + time_secs(d.time());
    match c {
        ColumnData::U8(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::I16(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::I32(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::I64(v) => v.map_or(Val::Null, Val::Int),
        ColumnData::F32(v) => v.map_or(Val::Null, |v| Val::Float(v.into())),
        ColumnData::F64(v) => v.map_or(Val::Null, Val::Float),
        ColumnData::Bit(v) => v.map_or(Val::Null, |v| Val::Int(v.into())),
        ColumnData::String(v) => v.as_ref().map_or(Val::Null, |s| Val::Text(s.to_string())),
        ColumnData::Guid(v) => v.map_or(Val::Null, |g| Val::Text(g.to_string())),
        ColumnData::Numeric(v) => v.map_or(Val::Null, |n| {
            if n.scale() == 0 {
                i64::try_from(n.value()).map_or(Val::Float(f64::from(n)), Val::Int)
            } else {
                Val::Float(f64::from(n))
            }
        }),
        ColumnData::DateTime(v) => v.map_or(Val::Null, |d| {
            Val::Local(
                (f64::from(d.days()) - DAYS_1900_TO_1970) * 86_400.0
                    + f64::from(d.seconds_fragments()) / 300.0,
            )
        }),
        ColumnData::SmallDateTime(v) => v.map_or(Val::Null, |d| {
            Val::Local(
                (f64::from(d.days()) - DAYS_1900_TO_1970) * 86_400.0
                    + f64::from(d.seconds_fragments()) * 60.0,
            )
        }),
        ColumnData::Date(v) => v.map_or(Val::Null, |d| Val::Local(date_secs(d))),
        ColumnData::Time(v) => v.map_or(Val::Null, |t| Val::Float(time_secs(t))),
        ColumnData::DateTime2(v) => v.map_or(Val::Null, |d| Val::Local(dt2(d))),
        // The wire carries the UTC instant and the offset.
        ColumnData::DateTimeOffset(v) => {
            v.map_or(Val::Null, |d| Val::Offset(dt2(d.datetime2()), d.offset()))
        }
        ColumnData::Binary(_) | ColumnData::Xml(_) => Val::Null,
    }
}

/// Runs queries over one connection: counted, bounded by the per-check timeout (a timed-out
/// connection is dropped and the next query reconnects), classified, with secrets scrubbed.
///
/// Every statement goes to the server as the dynamic batch of an `sp_executesql` call (the
/// driver's RPC, with or without parameters) that starts with `SET LOCK_TIMEOUT`: a SET made
/// in dynamic SQL reverts when that batch ends, so our lock limit (and the write probe's
/// `XACT_ABORT`) never outlives the statement, even when the check is cut off before its end.
/// Behind a proxy that keeps server sessions (and for drivers that skip
/// sp_reset_connection) the next client gets the session as the server gave it.
struct Runner<'a> {
    spec: &'a ConnSpec,
    config: Config,
    timeout: Duration,
    connect_timeout: Duration,
    queries: u32,
    client: Option<Conn>,
    /// The server-side bound on lock waits, in milliseconds: a blocked read ends there too.
    lock_ms: u128,
}

impl Runner<'_> {
    /// `sql` as we send it: scoped by its own `SET LOCK_TIMEOUT` (see [`Runner`]).
    fn scoped(&self, sql: &str) -> String {
        format!("SET LOCK_TIMEOUT {}; {sql}", self.lock_ms)
    }
}

type Rows = Vec<Vec<Val>>;

impl Runner<'_> {
    async fn rows(&mut self, what: &str, sql: &str, params: &[&dyn ToSql]) -> Probe<Rows> {
        if self.client.is_none() {
            match tokio::time::timeout(self.connect_timeout, connect(&self.config)).await {
                Ok(Ok(c)) => self.client = Some(c),
                _ => {
                    return Probe::Failed {
                        message: format!("{what}: could not reconnect after an earlier timeout"),
                        ms: 0,
                    };
                }
            }
        }
        let Some(client) = self.client.as_mut() else {
            return Probe::not_collected("no connection");
        };
        self.queries += 1;
        let t = Instant::now();
        let scoped = format!("SET LOCK_TIMEOUT {}; {sql}", self.lock_ms);
        let fut = async {
            // Always the RPC (sp_executesql), never a plain batch: see `Runner`.
            let stream = client.query(scoped, params).await?;
            // The first result set, cut at the caps every engine's answers have.
            let (mut rows, mut bound) = (Vec::new(), crate::engines::sql::Bound::default());
            let mut stream = stream.into_row_stream();
            while let Some(r) = futures_util::TryStreamExt::try_next(&mut stream).await? {
                if r.result_index() > 0 {
                    break;
                }
                bound
                    .add(crate::engines::sql::RowBytes::value_bytes(&r))
                    .map_err(|why| TdsError::Protocol(why.into()))?;
                rows.push(r.cells().map(|(_, c)| decode(c)).collect());
            }
            Ok::<_, TdsError>(rows)
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Err(_) => {
                // The answer may still arrive: this connection cannot be trusted any more.
                self.client = None;
                Probe::TimedOut {
                    ms: self.timeout.as_millis() as u64,
                }
            }
            Ok(Ok(rows)) => Probe::ok(rows, ms_since(t)),
            Ok(Err(e)) => {
                let ms = ms_since(t);
                let message = self.spec.scrub(&error_text(&e));
                match e.code() {
                    // Our own SET LOCK_TIMEOUT ended a lock wait: the server-side time limit.
                    Some(1222) => Probe::TimedOut { ms },
                    Some(code) if DENIED.contains(&code) => Probe::Denied {
                        message: format!("{what}: {message}{}", denied_hint(what)),
                        ms,
                    },
                    Some(208) => Probe::Failed {
                        message: format!(
                            "{what}: this server has no such view or function ({message})"
                        ),
                        ms,
                    },
                    _ => {
                        if !matches!(e, TdsError::Server(_)) {
                            // A transport or protocol error leaves the stream in an unknown state.
                            self.client = None;
                        }
                        Probe::Failed {
                            message: format!("{what}: {message}"),
                            ms,
                        }
                    }
                }
            }
        }
    }

    /// The first row, or a failure saying the query returned none.
    async fn row(&mut self, what: &str, sql: &str, params: &[&dyn ToSql]) -> Probe<Vec<Val>> {
        let rows = self.rows(what, sql, params).await;
        first_row(Some((what, rows)))
    }

    /// Sends `stmts` as one T-SQL batch (one round trip), each answering one result set.
    /// SQL Server runs on past some errors and stops at others, and the driver reports an error
    /// for the whole stream; so on a server error, or any other count of result sets, each
    /// statement is sent again on its own and keeps its own answer. When the server does not
    /// answer within the limit, or the connection fails, every statement gets that answer at
    /// once: one by one, each would wait (or reconnect) again.
    async fn batch<'s>(&mut self, stmts: &[(&'s str, &str)]) -> Vec<(&'s str, Probe<Rows>)> {
        let whats = stmts.iter().map(|(w, _)| *w);
        match self.try_batch(stmts).await {
            Batch::Answered(sets) => whats.zip(sets).collect(),
            Batch::Unanswered(None) => whats
                .map(|w| {
                    let ms = self.timeout.as_millis() as u64;
                    (w, Probe::TimedOut { ms })
                })
                .collect(),
            Batch::Unanswered(Some(message)) => whats
                .map(|w| {
                    let message = format!("{w}: {message}");
                    (w, Probe::Failed { message, ms: 0 })
                })
                .collect(),
            Batch::OneByOne => {
                let mut out = Vec::with_capacity(stmts.len());
                for (what, sql) in stmts {
                    out.push((*what, self.rows(what, sql, &[]).await));
                }
                out
            }
        }
    }

    async fn try_batch(&mut self, stmts: &[(&str, &str)]) -> Batch {
        use futures_util::TryStreamExt;
        let sql = self.scoped(&stmts.iter().map(|(_, s)| *s).collect::<Vec<_>>().join("; "));
        let Some(client) = self.client.as_mut().filter(|_| stmts.len() > 1) else {
            return Batch::OneByOne;
        };
        self.queries += stmts.len() as u32;
        let read = async {
            let mut stream = client.query(sql, &[]).await?;
            // Each result set with the time since the previous one began.
            let mut sets: Vec<(Rows, u64)> = Vec::new();
            let mut bound = crate::engines::sql::Bound::default();
            let mut last = Instant::now();
            while let Some(item) = stream.try_next().await? {
                match item {
                    tiberius::QueryItem::Metadata(_) => {
                        if let Some(prev) = sets.last_mut() {
                            prev.1 = ms_since(last);
                            last = Instant::now();
                        }
                        sets.push((Vec::new(), 0));
                        bound = crate::engines::sql::Bound::default();
                    }
                    tiberius::QueryItem::Row(row) => {
                        bound
                            .add(crate::engines::sql::RowBytes::value_bytes(&row))
                            .map_err(|why| TdsError::Protocol(why.into()))?;
                        if let Some(set) = sets.last_mut() {
                            set.0.push(row.cells().map(|(_, c)| decode(c)).collect());
                        }
                    }
                }
            }
            if let Some(prev) = sets.last_mut() {
                prev.1 = ms_since(last);
            }
            Ok::<_, TdsError>(sets)
        };
        match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok(sets)) if sets.len() == stmts.len() => Batch::Answered(
                sets.into_iter()
                    .map(|(rows, ms)| Probe::ok(rows, ms))
                    .collect(),
            ),
            Ok(Ok(_)) | Ok(Err(TdsError::Server(_))) => Batch::OneByOne,
            // Cut at a cap mid-stream: this connection is dropped, and each statement is asked
            // alone (on a new one), so only the one that answered too much gets that error.
            Ok(Err(TdsError::Protocol(m))) if m.starts_with("bounded answer") => {
                self.client = None;
                Batch::OneByOne
            }
            // The stream is in an unknown state: this connection is not used again.
            Ok(Err(e)) => {
                self.client = None;
                Batch::Unanswered(Some(self.spec.scrub(&error_text(&e))))
            }
            Err(_) => {
                self.client = None;
                Batch::Unanswered(None)
            }
        }
    }
}

/// What a T-SQL batch came to.
enum Batch {
    /// One result set per statement, in order.
    Answered(Vec<Probe<Rows>>),
    /// Ask each statement on its own.
    OneByOne,
    /// No answer within the limit (None), or the connection failed (its message).
    Unanswered(Option<String>),
}

fn denied_hint(what: &str) -> &'static str {
    match what {
        "sys.dm_exec_connections"
        | "sys.dm_exec_sessions"
        | "sys.dm_os_sys_info"
        | "sys.dm_os_host_info" => {
            " (needs VIEW SERVER STATE, or VIEW SERVER PERFORMANCE STATE on SQL Server 2022+)"
        }
        "sys.database_files" => " (needs VIEW DATABASE STATE)",
        "sys.configurations" => " (needs VIEW SERVER STATE or membership in public on the server)",
        _ => "",
    }
}

/// The permissions of `class` (`DATABASE`, `SCHEMA`) the login holds on `name` (an expression),
/// one column each.
fn perms_sql(name: &str, class: &str, perms: &[&str]) -> String {
    let cols: Vec<String> = perms
        .iter()
        .map(|p| format!("HAS_PERMS_BY_NAME({name}, '{class}', '{p}')"))
        .collect();
    format!("SELECT {}", cols.join(", "))
}

const DB_PERMS: [&str; 6] = [
    "CONNECT",
    "CREATE TABLE",
    "CREATE VIEW",
    "CREATE PROCEDURE",
    "CREATE FUNCTION",
    "SHOWPLAN",
];

/// The schema permissions read (`HAS_PERMS_BY_NAME`), in order.
pub(crate) const SCHEMA_PERMS: [&str; 7] = [
    "ALTER",
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "REFERENCES",
    "EXECUTE",
];

/// The first row of a statement's rows; a statement that returned none failed.
fn first_row(answer: Option<(&str, Probe<Rows>)>) -> Probe<Vec<Val>> {
    let Some((what, probe)) = answer else {
        return Probe::default();
    };
    match probe {
        Probe::Ok { value, ms } => match value.into_iter().next() {
            Some(r) => Probe::ok(r, ms),
            None => Probe::Failed {
                message: format!("{what}: the server returned no row"),
                ms,
            },
        },
        other => other.failure(),
    }
}

/// A driver error as one line.
fn error_text(e: &TdsError) -> String {
    match e {
        TdsError::Server(t) => format!("{} (Msg {}, class {})", t.message(), t.code(), t.class()),
        TdsError::Protocol(m) if m.starts_with("bounded answer") => m.to_string(),
        other => other.to_string(),
    }
    .replace('\n', " ")
}

/// Opens TCP and logs in, following one Azure gateway redirect.
pub(crate) async fn connect(config: &Config) -> Result<Conn, TdsError> {
    let mut config = config.clone();
    for _ in 0..2 {
        // Through net: under the service's guard, to the checked address (a redirect's host
        // is checked like the first).
        let addr = config.get_addr();
        let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), "1433"));
        let tcp = crate::net::connect_tcp(host, port.parse().unwrap_or(1433)).await?;
        tcp.set_nodelay(true)?;
        match Client::connect(config.clone(), tcp.compat_write()).await {
            Err(TdsError::Routing { host, port }) => {
                config.host(&host);
                config.port(port);
            }
            other => return other,
        }
    }
    Err(TdsError::Protocol(
        "the server redirected the login more than once".into(),
    ))
}

/// How the client was told to treat encryption and the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TlsChoice {
    pub encryption: EncryptionLevel,
    pub trust_server_certificate: bool,
    pub ca_file: bool,
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" | "mandatory" | "required" => Some(true),
        "false" | "no" | "0" | "off" | "optional" => Some(false),
        _ => None,
    }
}

/// Builds the tiberius configuration field by field from the parsed target (never from the raw
/// string, so our parser and our remedies are the only source of truth).
pub(crate) fn config(spec: &ConnSpec) -> Result<(Config, TlsChoice), ConnectFailure> {
    let bad = |message: String| ConnectFailure {
        kind: FailureKind::Config,
        message,
    };
    let mut c = Config::new();
    c.host(spec.tcp_host());
    c.port(spec.port_or_default());
    if let Some(i) = spec.params.get("instance") {
        // Without SQL Browser the port decides; the name still goes in the login.
        c.instance_name(i);
    }
    if let Some(d) = &spec.database {
        c.database(d);
    }
    c.application_name(
        spec.params
            .get("application_name")
            .or_else(|| spec.params.get("applicationname"))
            .map_or("byod-precheck", String::as_str),
    );
    c.authentication(AuthMethod::sql_server(
        spec.user.as_deref().unwrap_or(""),
        spec.password.as_ref().map_or("", |p| p.expose()),
    ));
    let encrypt = spec.params.get("encrypt").map(String::as_str);
    let encryption = match encrypt {
        None => EncryptionLevel::Required,
        Some(v) if v.eq_ignore_ascii_case("strict") => {
            return Err(bad(
                "encrypt=strict (TDS 8.0) is not supported by this build; use encrypt=true".into(),
            ));
        }
        Some(v) => match truthy(v) {
            Some(true) => EncryptionLevel::Required,
            Some(false) => EncryptionLevel::Off,
            None => {
                return Err(bad(format!(
                    "encrypt=`{v}` is not one of true, false, mandatory, optional"
                )));
            }
        },
    };
    c.encryption(encryption);
    let tsc = spec
        .params
        .get("trust_server_certificate")
        .or_else(|| spec.params.get("trustservercertificate"));
    let trust = match tsc {
        None => false,
        Some(v) => truthy(v).ok_or_else(|| {
            bad(format!(
                "trust_server_certificate=`{v}` is not true or false"
            ))
        })?,
    };
    let ca = spec
        .params
        .get("ca")
        .or_else(|| spec.params.get("trust_cert_ca"));
    if trust && ca.is_some() {
        return Err(bad(
            "trust_server_certificate=true and a CA file exclude each other: keep the CA file (the certificate is then verified)".into(),
        ));
    }
    if trust {
        c.trust_cert();
    }
    if let Some(path) = ca {
        if !std::path::Path::new(path).is_file() {
            return Err(bad(format!("the CA file `{path}` is not a readable file")));
        }
        c.trust_cert_ca(path);
    }
    if let Some(h) = spec.params.get("hostnameincertificate") {
        c.hostname_in_certificate(h);
    }
    Ok((
        c,
        TlsChoice {
            encryption,
            trust_server_certificate: trust,
            ca_file: ca.is_some(),
        },
    ))
}

/// The client option that set the trust mode, for messages.
fn client_setting(t: TlsChoice) -> String {
    let enc = if t.encryption == EncryptionLevel::Off {
        "encrypt=false"
    } else {
        "encrypt=true"
    };
    let trust = if t.trust_server_certificate {
        ", trust_server_certificate=true"
    } else if t.ca_file {
        ", ca=FILE"
    } else {
        ""
    };
    format!("{enc}{trust}")
}

/// What a rejected certificate means, from rustls's words.
pub fn tls_cause(message: &str) -> &'static str {
    if message.contains("BadSignature") || message.contains("SelfSigned") {
        "self-signed"
    } else if message.contains("UnknownIssuer") {
        "unknown issuer"
    } else if message.contains("NotValidForName") || message.contains("not valid for name") {
        "hostname mismatch"
    } else if message.contains("Expired") || message.contains("expired") {
        "expired"
    } else if message.contains("NotValidYet") {
        "not yet valid"
    } else if message.contains("UnsupportedCertVersion") {
        "legacy certificate"
    } else {
        "handshake"
    }
}

/// Classifies a login failure.
fn classify(e: &TdsError, spec: &ConnSpec, tls: TlsChoice) -> ConnectFailure {
    let message = spec.scrub(&error_text(e));
    let kind = match e {
        TdsError::Server(t) => match t.code() {
            18456 | 18452 | 18470 | 18487 | 18488 => FailureKind::Authentication,
            4060 => FailureKind::DatabaseMissing,
            916 | 4063 | 40615 | 40532 => FailureKind::Permission,
            _ => FailureKind::ServerError,
        },
        TdsError::Tls(_) => FailureKind::Tls,
        TdsError::Io { kind, .. } if *kind == std::io::ErrorKind::ConnectionRefused => {
            FailureKind::Refused
        }
        TdsError::Io { kind, .. } if *kind == std::io::ErrorKind::TimedOut => FailureKind::Timeout,
        _ if message.contains("certificate")
            || message.contains("TLS")
            || message.contains("corrupt message") =>
        {
            FailureKind::Tls
        }
        _ => FailureKind::ServerError,
    };
    let message = if kind == FailureKind::Tls {
        // tiberius's own text is long and names its API; say the cause in the user's terms.
        let cause = tls_cause(&message);
        let rustls = message
            .split("handshake: ")
            .nth(1)
            .and_then(|s| s.split(". ").next())
            .unwrap_or(&message)
            .trim_end_matches('.');
        format!(
            "the server certificate was not accepted ({cause}): {rustls} ({})",
            client_setting(tls)
        )
    } else if kind == FailureKind::DatabaseMissing {
        format!(
            "database `{}` does not exist or this login cannot open it: {message}",
            spec.database.as_deref().unwrap_or("?")
        )
    } else {
        message
    };
    ConnectFailure { kind, message }
}

/// Collects every SQL Server fact. Never fails: failures are recorded in the facts.
pub async fn collect(spec: &ConnSpec, opts: &CollectOptions) -> MssqlFacts {
    let mut facts = MssqlFacts {
        common: crate::checks::CommonFacts::started(spec.target_info()),
        ..Default::default()
    };
    let host = spec.tcp_host();
    let reached = match reach_server(
        &host,
        spec.port_or_default(),
        opts.connect_timeout,
        opts.share_per_server,
        &mut facts.common.connection,
    )
    .await
    {
        Ok(stream) => stream,
        Err(f) => return failed(facts, f),
    };
    let (config, tls) = match config(spec) {
        Ok(c) => c,
        Err(f) => return failed(facts, f),
    };
    // tiberius hides the certificate: read it with a PRELOGIN exchange of our own (no login),
    // alongside the driver's login.
    let ca = ["ca", "trust_cert_ca"]
        .iter()
        .find_map(|k| spec.params.get(*k))
        .map(std::path::PathBuf::from);
    let inspect = crate::net::Inspect {
        host: &host,
        port: spec.port_or_default(),
        preamble: crate::tlsprobe::Preamble::Tds,
        ca: ca.as_deref(),
        reached,
        shared: opts.share_per_server,
    };
    let login = crate::net::login(
        &mut facts.common.connection,
        opts.connect_timeout,
        std::future::ready(Ok(())),
        |_: &()| connect(&config),
        Some(inspect),
        |e| classify(e, spec, tls),
    );
    let client = match login.await {
        Ok((c, ())) => c,
        Err(f) => return failed(facts, f),
    };
    let mut r = Runner {
        spec,
        config,
        timeout: opts.check_timeout,
        connect_timeout: opts.connect_timeout,
        queries: 0,
        client: Some(client),
        lock_ms: opts.check_timeout.as_millis().min(i32::MAX as u128),
    };

    // What every login may read, in one round trip.
    let schema_expr = opts.schema.as_deref().map_or_else(
        || "COALESCE(SCHEMA_NAME(), N'dbo')".to_string(),
        tsql_literal,
    );
    let first = [
        (
            "SERVERPROPERTY",
            "SELECT @@VERSION, CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('ProductUpdateLevel') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('Edition') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('EngineEdition') AS int), \
             CAST(SERVERPROPERTY('Collation') AS nvarchar(128)), \
             CAST(SERVERPROPERTY('IsHadrEnabled') AS int), @@SERVERNAME"
                .to_string(),
        ),
        (
            "session",
            "SELECT DB_NAME(), SUSER_SNAME(), USER_NAME(), IS_SRVROLEMEMBER('sysadmin'), \
             IS_MEMBER('db_owner')"
                .to_string(),
        ),
        ("SCHEMA_NAME()", format!("SELECT {schema_expr}")),
        (
            "sys.databases",
            "SELECT name, database_id, compatibility_level, collation_name, \
             is_read_committed_snapshot_on, snapshot_isolation_state, is_auto_close_on, \
             is_auto_shrink_on, state_desc, is_read_only, user_access_desc \
             FROM sys.databases WHERE name = DB_NAME()"
                .to_string(),
        ),
        (
            "DATABASEPROPERTYEX",
            "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(128)), \
             CAST(DATABASEPROPERTYEX(DB_NAME(), 'Recovery') AS nvarchar(128)), \
             CAST(DATABASEPROPERTYEX(DB_NAME(), 'ComparisonStyle') AS int)"
                .to_string(),
        ),
        (
            "SYSDATETIMEOFFSET()",
            "SELECT SYSDATETIMEOFFSET()".to_string(),
        ),
        (
            "HAS_PERMS_BY_NAME (database)",
            perms_sql("DB_NAME()", "DATABASE", &DB_PERMS),
        ),
        (
            "HAS_PERMS_BY_NAME (schema)",
            perms_sql(&schema_expr, "SCHEMA", &SCHEMA_PERMS),
        ),
        ("migration tables", migration_tables_sql()),
    ];
    // The server's state: views a login without VIEW SERVER STATE (or an older server) may
    // not read, so a batch of their own.
    let state = [
        (
            "sys.configurations",
            "SELECT name, CAST(value_in_use AS nvarchar(128)) FROM sys.configurations",
        ),
        (
            "sys.dm_exec_sessions",
            "SELECT COUNT(*), @@MAX_CONNECTIONS FROM sys.dm_exec_sessions WHERE is_user_process = 1",
        ),
        (
            "sys.dm_exec_connections",
            "SELECT encrypt_option, auth_scheme, net_transport FROM sys.dm_exec_connections \
             WHERE session_id = @@SPID",
        ),
        (
            "sys.dm_os_host_info",
            "SELECT host_platform, host_distribution, host_release FROM sys.dm_os_host_info",
        ),
        (
            "sys.dm_os_sys_info",
            "SELECT sqlserver_start_time, SYSDATETIME() FROM sys.dm_os_sys_info",
        ),
        (
            "sys.database_files",
            "SELECT SUM(size) FROM sys.database_files",
        ),
    ];
    let before = crate::checks::epoch_now();
    let b1 = r
        .batch(&first.each_ref().map(|(w, s)| (*w, s.as_str())))
        .await;
    let after = crate::checks::epoch_now();
    let mut b1 = b1.into_iter();
    let mut b2 = r.batch(&state).await.into_iter();
    let server = first_row(b1.next());
    // The banner spans lines (`\n\t`); one line reads better in reports and tables.
    facts.common.version_raw = server.clone().map(|row| {
        row.first()
            .and_then(Val::text)
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    });
    facts.server = server.map(|row| {
        let t = |i: usize| row.get(i).and_then(Val::text);
        ServerProps {
            product_version: t(1).unwrap_or_default(),
            product_level: t(2),
            product_update_level: t(3),
            edition: t(4),
            engine_edition: row.get(5).and_then(Val::int),
            collation: t(6),
            hadr_enabled: row.get(7).and_then(Val::int).map(|v| v != 0),
            server_name: t(8),
        }
    });
    facts.common.identity = identity(&facts, &host);
    let id = facts.common.identity.value().cloned();

    let session = first_row(b1.next());
    let schema = first_row(b1.next()).map(|row| {
        row.first()
            .and_then(Val::text)
            .unwrap_or_else(|| "dbo".into())
    });
    let schema_name = schema.value().cloned().unwrap_or_else(|| "dbo".into());
    facts.session = session.map(|row| Session {
        database: row.first().and_then(Val::text).unwrap_or_default(),
        login: row.get(1).and_then(Val::text),
        user: row.get(2).and_then(Val::text),
        sysadmin: row.get(3).is_some_and(Val::flag),
        db_owner: row.get(4).is_some_and(Val::flag),
        schema: schema_name.clone(),
    });

    let db = first_row(b1.next());
    let props = first_row(b1.next());
    let props = props.value().cloned().unwrap_or_default();
    facts.database = db.map(|row| {
        let t = |i: usize| row.get(i).and_then(Val::text);
        let f = |i: usize| row.get(i).is_some_and(Val::flag);
        Database {
            name: t(0).unwrap_or_default(),
            database_id: row.get(1).and_then(Val::int),
            compatibility_level: row.get(2).and_then(Val::int).unwrap_or(0),
            collation: t(3),
            comparison_style: props.get(2).and_then(Val::int),
            read_committed_snapshot: f(4),
            snapshot_isolation_state: row.get(5).and_then(Val::int).unwrap_or(0),
            auto_close: f(6),
            auto_shrink: f(7),
            state: t(8).unwrap_or_default(),
            read_only: f(9),
            user_access: t(10),
            updateability: props.first().and_then(Val::text),
            recovery_model: props.get(1).and_then(Val::text),
        }
    });
    facts.common.read_only = facts.database.clone().map(|d| {
        let mut reasons = Vec::new();
        if d.read_only {
            reasons.push("sys.databases.is_read_only = 1 (ALTER DATABASE ... SET READ_ONLY)".into());
        }
        if let Some(u) = d.updateability.as_deref().filter(|u| !u.eq_ignore_ascii_case("READ_WRITE")) {
            if !d.read_only {
                reasons.push(format!(
                    "DATABASEPROPERTYEX Updateability = {u}: a readable secondary replica, or a read-only routing target"
                ));
            } else {
                reasons.push(format!("DATABASEPROPERTYEX Updateability = {u}"));
            }
        }
        if !d.state.is_empty() && !d.state.eq_ignore_ascii_case("ONLINE") {
            reasons.push(format!("state {}", d.state));
        }
        ReadOnlyFacts::from_reasons(reasons)
    });

    let configs = b2.next().map(|a| a.1).unwrap_or_default();
    facts.common.settings = configs.map(|rows| {
        rows.into_iter()
            .filter_map(|row| Some((row.first()?.text()?, row.get(1).and_then(Val::text)?)))
            .collect::<BTreeMap<_, _>>()
    });

    let sessions = first_row(b2.next());
    let user_connections = facts
        .common
        .settings
        .value()
        .and_then(|s| s.get("user connections"))
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|v| *v > 0);
    facts.common.connections = sessions.map(|row| ConnectionSlots {
        max: user_connections
            .or_else(|| row.get(1).and_then(Val::int).map(|v| v.max(0) as u64))
            .unwrap_or(32767),
        reserved: 0,
        in_use: row.first().and_then(Val::int).unwrap_or(0).max(0) as u64,
        user_limit: None,
    });

    let conn = first_row(b2.next());
    facts.connection_info = conn.map(|row| ConnectionInfo {
        encrypt_option: row.first().and_then(Val::text).unwrap_or_default(),
        auth_scheme: row.get(1).and_then(Val::text),
        net_transport: row.get(2).and_then(Val::text),
    });
    facts.common.tls = tls_facts(&facts.connection_info, tls);

    facts.host = first_row(b2.next()).map(|row| HostInfo {
        platform: row.first().and_then(Val::text).unwrap_or_default(),
        distribution: row.get(1).and_then(Val::text),
        release: row.get(2).and_then(Val::text),
    });

    let clock = first_row(b1.next());
    facts.common.clock = match clock {
        Probe::Ok { value, ms } => match value.first() {
            Some(Val::Offset(utc, offset)) => Probe::ok(
                ClockFacts {
                    server_epoch: *utc,
                    local_epoch: (before + after) / 2.0,
                    time_zone: Some(format!(
                        "{}{:02}:{:02}",
                        if *offset < 0 { '-' } else { '+' },
                        offset.unsigned_abs() / 60,
                        offset.unsigned_abs() % 60
                    )),
                },
                ms,
            ),
            other => Probe::Failed {
                message: format!("SYSDATETIMEOFFSET(): unexpected value {other:?}"),
                ms,
            },
        },
        other => other.map(|_| ClockFacts {
            server_epoch: 0.0,
            local_epoch: 0.0,
            time_zone: None,
        }),
    };

    facts.common.uptime_seconds = first_row(b2.next()).map(|row| {
        let start = row.first().and_then(Val::epoch).unwrap_or(0.0);
        let now = row.get(1).and_then(Val::epoch).unwrap_or(start);
        (now - start).max(0.0) as u64
    });

    facts.common.database_size_bytes = first_row(b2.next())
        .map(|row| row.first().and_then(Val::int).unwrap_or(0).max(0) as u64 * 8192);

    facts.database_permissions = first_row(b1.next()).map(|row| {
        DB_PERMS
            .iter()
            .zip(row)
            .map(|(p, v)| (p.to_string(), v.flag()))
            .collect()
    });
    facts.schema_permissions = first_row(b1.next()).map(|row| SchemaPermissions {
        schema: schema_name.clone(),
        permissions: SCHEMA_PERMS
            .iter()
            .zip(row)
            .map(|(p, v)| (p.to_string(), v.flag()))
            .collect(),
    });

    facts.azure = if id.as_ref().is_some_and(|i| {
        matches!(
            i.flavor.as_str(),
            "azure-sql-database" | "azure-sql-managed-instance"
        )
    }) {
        r.row(
            "DATABASEPROPERTYEX (Azure tier)",
            "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Edition') AS nvarchar(128)), \
             CAST(DATABASEPROPERTYEX(DB_NAME(), 'ServiceObjective') AS nvarchar(128))",
            &[],
        )
        .await
        .map(|row| AzureTier {
            edition: row.first().and_then(Val::text),
            service_objective: row.get(1).and_then(Val::text),
        })
    } else {
        Probe::not_collected("not an Azure SQL service")
    };

    facts.common.user_tables = r
        .row(
            "user tables",
            "SELECT COUNT(*) FROM sys.tables WHERE is_ms_shipped = 0",
            &[],
        )
        .await
        .map(|row| {
            row.first()
                .and_then(Val::int)
                .unwrap_or(0)
                .max(0)
                .unsigned_abs()
        });
    facts.common.migrations = migrations(&mut r, b1.next().map(|a| a.1).unwrap_or_default()).await;
    facts.write_probe = if opts.probe_write {
        write_probe(&mut r, &schema_name).await
    } else {
        Probe::not_collected(
            "not asked: run with --probe-write to create and roll back a scratch table",
        )
    };
    if let Some(id) = &id {
        facts.common.capabilities = capabilities(id, facts.database.value());
    }
    facts.common.queries = r.queries;
    if let Some(c) = r.client.take() {
        let _ = c.close().await;
    }
    facts
}

fn identity(facts: &MssqlFacts, host: &str) -> Probe<ServerIdentity> {
    // The banner and the properties come from one row: without them, the version's failure.
    let Some(p) = facts.server.value() else {
        return facts.common.version_raw.failure();
    };
    let ee = p.engine_edition.map(|e| e.to_string());
    let mut hints: Vec<(&str, &str)> = vec![
        ("product_version", p.product_version.as_str()),
        ("host", host),
    ];
    for (k, v) in [
        ("engine_edition", ee.as_deref()),
        ("edition", p.edition.as_deref()),
        ("product_level", p.product_level.as_deref()),
        ("product_update_level", p.product_update_level.as_deref()),
        ("server_name", p.server_name.as_deref()),
    ] {
        if let Some(v) = v {
            hints.push((k, v));
        }
    }
    identify_probe(Engine::Mssql, &facts.common.version_raw, &hints)
}

/// TLS as the server saw it (`encrypt_option`), and how the client trusted the certificate. When
/// the view cannot be read, the client's `encrypt=true` still proves the session is encrypted
/// (the login would have failed otherwise).
fn tls_facts(conn: &Probe<ConnectionInfo>, t: TlsChoice) -> Probe<TlsFacts> {
    let trust = if t.trust_server_certificate {
        TrustMode::NotVerified
    } else {
        TrustMode::Verified
    };
    let setting = client_setting(t);
    let build = |in_use: bool, note: &str| TlsFacts {
        in_use,
        protocol: in_use.then(|| format!("TLS{note}")),
        cipher: None,
        bits: None,
        trust: if in_use { trust } else { TrustMode::None },
        cert_expires_in_days: None,
        client_setting: setting.clone(),
        server_leg: None,
    };
    match conn {
        Probe::Ok { value, ms } => Probe::ok(
            build(
                value.encrypt_option.eq_ignore_ascii_case("TRUE"),
                " (sys.dm_exec_connections.encrypt_option TRUE)",
            ),
            *ms,
        ),
        other if t.encryption == EncryptionLevel::Required => Probe::ok(
            build(
                true,
                " (from the client's encrypt=true; sys.dm_exec_connections not readable)",
            ),
            match other {
                Probe::Denied { ms, .. } | Probe::Failed { ms, .. } => *ms,
                _ => 0,
            },
        ),
        other => other.clone().map(|_| build(false, "")),
    }
}

/// Records a connection failure; the other checks are then skipped (see `registry::evaluate`).
pub(super) fn failed(mut facts: MssqlFacts, f: ConnectFailure) -> MssqlFacts {
    facts.common.connection.failure = Some(f);
    facts
}

/// Creates a uniquely named table in a transaction and rolls it back (SQL Server DDL is
/// transactional), then makes sure nothing is left.
async fn write_probe(r: &mut Runner<'_>, schema: &str) -> Probe<WriteProbe> {
    let table = format!(
        "{}.{}",
        tsql_ident(schema),
        tsql_ident(&crate::engines::sql::scratch_name())
    );
    // XACT_ABORT: any error rolls the whole transaction back at once.
    let sql = format!(
        "SET XACT_ABORT ON; BEGIN TRANSACTION; \
         CREATE TABLE {table} (id int IDENTITY(1,1) PRIMARY KEY, doc nvarchar(200) NULL); \
         INSERT INTO {table} (doc) VALUES (N'probe'); \
         ROLLBACK TRANSACTION; SELECT 1"
    );
    let done = r.rows("write probe", &sql, &[]).await;
    // Whether the table is still there: None when that could not be read.
    async fn still_there(r: &mut Runner<'_>, table: &str) -> Option<bool> {
        r.row(
            "write probe leftover",
            "SELECT CASE WHEN OBJECT_ID(@P1) IS NULL THEN 0 ELSE 1 END",
            &[&table],
        )
        .await
        .value()
        .and_then(|row| row.first())
        .map(Val::flag)
    }
    let mut leftover = still_there(r, &table).await.unwrap_or(false);
    if leftover {
        let _ = r
            .rows("write probe cleanup", &format!("DROP TABLE {table}"), &[])
            .await;
        leftover = still_there(r, &table).await.unwrap_or(true);
    }
    match done {
        Probe::Ok { ms, .. } => Probe::ok(WriteProbe { table, leftover }, ms),
        other => other.map(|_| WriteProbe { table, leftover }),
    }
}

/// The tables whose name a migration tool uses (see [`crate::migrations`]), in any schema,
/// with their columns (read with the first batch).
fn migration_tables_sql() -> String {
    let names = crate::migrations::table_names()
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, \
         CAST(c.CHARACTER_MAXIMUM_LENGTH AS bigint) \
         FROM INFORMATION_SCHEMA.COLUMNS c JOIN INFORMATION_SCHEMA.TABLES t \
         ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
         WHERE t.TABLE_TYPE = 'BASE TABLE' AND LOWER(c.TABLE_NAME) IN ({names}) \
         ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
    )
}

/// Reads each history table found, each on its own (a lock on one times out alone).
async fn migrations(r: &mut Runner<'_>, found: Probe<Rows>) -> Probe<Vec<MigrationHistory>> {
    use crate::migrations::Candidate;
    let Probe::Ok { value: rows, ms } = found else {
        return found.map(|_| Vec::new());
    };
    let rows = rows.into_iter().filter_map(|row| {
        Some((
            row.first().and_then(Val::text),
            row.get(1).and_then(Val::text)?,
            row.get(2).and_then(Val::text)?,
            row.get(3).and_then(Val::text).unwrap_or_default(),
            row.get(4).and_then(Val::int),
        ))
    });
    let mut out = Vec::new();
    let candidates = Candidate::from_rows(rows);
    for cand in &candidates {
        let Some(tool) = cand.tool(&candidates) else {
            continue;
        };
        let columns = cand.read_columns(tool);
        // The names come from the catalog and are bracket-quoted.
        let sql = format!(
            "SELECT {} FROM {}.{}",
            columns
                .iter()
                .map(|c| format!("CAST({} AS nvarchar(4000))", tsql_ident(c)))
                .collect::<Vec<_>>()
                .join(", "),
            tsql_ident(cand.schema.as_deref().unwrap_or("dbo")),
            tsql_ident(&cand.name)
        );
        let read = r.rows(&format!("{} history", cand.name), &sql, &[]).await;
        // A history table we cannot read (a lock, a missing grant) makes the check an error.
        let rows: Vec<Vec<Option<String>>> = match read {
            Probe::Ok { value, .. } => value
                .iter()
                .map(|row| row.iter().map(Val::text).collect())
                .collect(),
            other => return other.map(|_| Vec::new()),
        };
        out.push(MigrationHistory::read(
            tool,
            cand.display_name("dbo"),
            &rows,
        ));
    }
    Probe::ok(out, ms)
}

/// What the app's SQL may rely on, from the version, flavor and compatibility level.
pub fn capabilities(id: &ServerIdentity, db: Option<&Database>) -> BTreeMap<String, Capability> {
    let evergreen = super::identify::is_evergreen(&id.flavor);
    let synapse = id.flavor == "azure-synapse";
    let v = (id.major, id.patch.unwrap_or(0));
    let since = |major: u64, build: u64, what: &str, release: &str| {
        Capability::from_version(
            evergreen || v >= (major, build),
            if evergreen {
                format!("{what}: always available on {}", id.product)
            } else {
                format!("{what}: SQL Server {release}+")
            },
        )
    };
    let compat = db.map(|d| d.compatibility_level);
    let mut m = BTreeMap::new();
    let mut json = since(13, 0, "JSON_VALUE, OPENJSON, FOR JSON", "2016");
    if json.supported
        && let Some(c) = compat.filter(|c| *c < 130)
    {
        json = Capability::from_version(
            false,
            format!("OPENJSON needs compatibility level 130+, the database has {c}"),
        );
    }
    m.insert("json".into(), json);
    m.insert("cte".into(), since(9, 0, "WITH queries", "2005"));
    m.insert(
        "window-functions".into(),
        since(11, 0, "OVER (... ROWS/RANGE)", "2012"),
    );
    m.insert(
        "check-constraints".into(),
        Capability::from_version(!synapse, "CHECK constraints are enforced"),
    );
    m.insert(
        "transactional-ddl".into(),
        Capability::from_version(!synapse, "DDL inside a transaction rolls back"),
    );
    m.insert(
        "drop-cascade".into(),
        Capability::from_version(
            false,
            "SQL Server has no DROP ... CASCADE: drop dependent objects first",
        ),
    );
    m.insert(
        "returning".into(),
        Capability::from_version(true, "OUTPUT clause (SQL Server's RETURNING)"),
    );
    m.insert(
        "upsert".into(),
        Capability::from_version(!synapse, "MERGE (no ON CONFLICT)"),
    );
    m.insert("merge".into(), since(10, 0, "MERGE", "2008"));
    m.insert(
        "sequences".into(),
        if synapse {
            Capability::from_version(false, "Synapse has no CREATE SEQUENCE")
        } else {
            since(11, 0, "CREATE SEQUENCE", "2012")
        },
    );
    m.insert(
        "varchar-without-length".into(),
        Capability::from_version(
            false,
            "VARCHAR without a length is VARCHAR(1) in a declaration",
        ),
    );
    m.insert("string-agg".into(), since(14, 0, "STRING_AGG()", "2017"));
    // CREATE OR ALTER arrived in SQL Server 2016 SP1 (build 13.0.4001).
    m.insert(
        "create-or-alter".into(),
        since(13, 4001, "CREATE OR ALTER", "2016 SP1"),
    );
    m.insert(
        "drop-if-exists".into(),
        since(13, 0, "DROP ... IF EXISTS", "2016"),
    );
    m.insert(
        "offset-fetch".into(),
        since(11, 0, "ORDER BY ... OFFSET ... FETCH", "2012"),
    );
    let utf8_collation = db
        .and_then(|d| d.collation.as_deref())
        .is_some_and(|c| c.to_ascii_uppercase().contains("UTF8"));
    let mut utf8 = since(15, 0, "UTF-8 collations (_UTF8)", "2019");
    if utf8_collation {
        utf8.basis
            .push_str("; the database collation is a UTF-8 one");
    } else if utf8.supported {
        utf8.basis
            .push_str("; NVARCHAR stores Unicode under any collation");
    }
    m.insert("utf8".into(), utf8);
    m
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tiberius::time::{Date, DateTime2, DateTimeOffset, Time};

    fn cfg(url: &str) -> Result<TlsChoice, ConnectFailure> {
        config(&ConnSpec::parse(url).unwrap()).map(|(_, t)| t)
    }

    #[test]
    fn the_certificate_is_verified_unless_the_client_says_otherwise() {
        let t = cfg("mssql://sa:pw@db/app").unwrap();
        assert_eq!(t.encryption, EncryptionLevel::Required);
        assert!(!t.trust_server_certificate && !t.ca_file);
        let t = cfg("sqlserver://sa:pw@db/app?trust_server_certificate=true").unwrap();
        assert!(t.trust_server_certificate);
        let t = cfg(
            "Server=tcp:db,1433;User Id=sa;Password=pw;Encrypt=false;TrustServerCertificate=yes",
        )
        .unwrap();
        assert_eq!(
            (t.encryption, t.trust_server_certificate),
            (EncryptionLevel::Off, true)
        );
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not really a certificate").unwrap();
        let t = cfg(&format!("mssql://sa:pw@db/app?ca={}", ca.display())).unwrap();
        assert!(t.ca_file);
    }

    #[test]
    fn contradictory_or_unusable_tls_options_are_config_errors_not_panics() {
        // tiberius panics when trust_cert and trust_cert_ca are both set: we refuse first.
        for url in [
            "mssql://sa:pw@db/app?trust_server_certificate=true&ca=/etc/hostname",
            "mssql://sa:pw@db/app?ca=/no/such/ca.pem",
            "mssql://sa:pw@db/app?encrypt=strict",
        ] {
            let e = cfg(url).unwrap_err();
            assert_eq!(e.kind, FailureKind::Config, "{url}");
            assert!(!e.message.contains("pw@"), "{}", e.message);
        }
        // values outside the option's set are refused earlier, when the URL is parsed
        for url in [
            "mssql://sa:pw@db/app?encrypt=sometimes",
            "mssql://sa:pw@db/app?trust_server_certificate=perhaps",
        ] {
            assert!(ConnSpec::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn rustls_rejections_are_named_by_cause() {
        for (text, cause) in [
            ("invalid peer certificate: BadSignature", "self-signed"),
            ("invalid peer certificate: UnknownIssuer", "unknown issuer"),
            (
                "certificate not valid for name \"db.example.com\"; certificate is only valid for DnsName(\"localhost\")",
                "hostname mismatch",
            ),
            (
                "certificate expired: verification time 1795550400 (UNIX)",
                "expired",
            ),
            (
                "received corrupt message of type InvalidContentType",
                "handshake",
            ),
        ] {
            assert_eq!(tls_cause(text), cause, "{text}");
        }
    }

    #[test]
    fn date_and_time_cells_become_epoch_seconds() {
        // 2026-11-24 20:00:00.5 UTC, with a +01:00 offset on the wire.
        let days = 719_162 + 20_781; // 0001-01-01 .. 1970-01-01 .. 2026-11-24
        let dt2 = DateTime2::new(Date::new(days), Time::new(720_005, 1));
        let expect = 20_781.0 * 86_400.0 + 72_000.5;
        assert_eq!(
            decode(&ColumnData::DateTime2(Some(dt2))),
            Val::Local(expect)
        );
        assert_eq!(
            decode(&ColumnData::DateTimeOffset(Some(DateTimeOffset::new(
                dt2, 60
            )))),
            Val::Offset(expect, 60)
        );
        let dt = tiberius::time::DateTime::new(25_567 + 20_781, 300 * 72_000);
        assert_eq!(
            decode(&ColumnData::DateTime(Some(dt))),
            Val::Local(20_781.0 * 86_400.0 + 72_000.0)
        );
        assert_eq!(decode(&ColumnData::I32(None)), Val::Null);
        assert!(decode(&ColumnData::Bit(Some(true))).flag());
        assert_eq!(Val::Text("196609".into()).int(), Some(196_609));
    }
}
