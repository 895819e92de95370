//! Whether a pooler sits in front: the server session compared between our transactions, pgpool-II and PgBouncer asked where one is suspected, managed-service markers.

use super::*;

/// Our backend as the server sees it: who serves us, since when, and the defaults the
/// server, database or role give a session (we set none of them on the session).
pub(super) const SERVER_SESSION: &str = "SELECT pg_backend_pid(), inet_server_port(), current_setting('port'), \
    (SELECT extract(epoch from (now() - backend_start))::float8 FROM pg_stat_activity WHERE pid = pg_backend_pid()), \
    current_setting('default_transaction_read_only'), pg_is_in_recovery(), host(inet_server_addr())";

/// pid, inet_server_port, port, the backend's age in seconds, default_transaction_read_only,
/// pg_is_in_recovery, inet_server_addr.
pub(super) type ServerSessionRow = (
    i32,
    Option<i32>,
    String,
    Option<f64>,
    String,
    bool,
    Option<String>,
);

/// [`SERVER_SESSION`]'s answer.
#[derive(Debug, Clone)]
pub(super) struct ServerSession {
    pub(super) pid: i32,
    pub(super) server_port: Option<i32>,
    pub(super) port_setting: String,
    pub(super) backend_age_s: Option<f64>,
    pub(super) default_read_only: String,
    pub(super) in_recovery: bool,
    /// The address the server session was reached at (none over a local socket).
    pub(super) server_addr: Option<String>,
}

/// Whether the server session was reached at an address we did not connect to (a proxy on
/// another host, or NAT): a reason to ask a pooler to name itself, not evidence of one.
pub(super) fn served_elsewhere(s: &ServerSession, connected: &[String]) -> bool {
    let Some(addr) = s.server_addr.as_deref() else {
        return false;
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    !connected.is_empty()
        && !connected
            .iter()
            .filter_map(|a| a.parse::<std::net::SocketAddr>().ok())
            .any(|a| a.ip() == ip || a.ip().to_canonical() == ip.to_canonical())
}

impl From<ServerSessionRow> for ServerSession {
    fn from(r: ServerSessionRow) -> Self {
        ServerSession {
            pid: r.0,
            server_port: r.1,
            port_setting: r.2,
            backend_age_s: r.3,
            default_read_only: r.4,
            in_recovery: r.5,
            server_addr: r.6,
        }
    }
}

/// What tells a pooler or proxy in front of the server, gathered during the run.
pub(super) struct PoolerSignals {
    /// pgpool-II's answer to `SHOW pool_version`.
    pub(super) pool_version: Option<String>,
    /// The TCP port we connected to (none over a local socket).
    pub(super) connected_port: Option<u16>,
    pub(super) server: Option<ServerSession>,
    /// The backend of our second transaction.
    pub(super) pid_again: Option<i32>,
    pub(super) login_ms: u64,
    /// The server is PGlite, embedded in the process that speaks the protocol to us.
    pub(super) embedded: bool,
}

/// What PgBouncer's admin console said, when asked.
pub(super) enum Console {
    /// `SHOW VERSION` and `SHOW CONFIG`.
    Config(Option<String>, BTreeMap<String, String>),
    /// A PgBouncer that would not show its settings to this user: its message.
    Refused(String),
    /// No PgBouncer there (the server says database "pgbouncer" does not exist).
    Absent,
}

impl PoolerSignals {
    /// What says the server session is not ours alone, in the server's terms.
    pub(super) fn evidence(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(v) = &self.pool_version {
            out.push(format!("SHOW pool_version answered {v}"));
        }
        let Some(s) = &self.server else { return out };
        if let (Some(ours), Some(theirs)) = (self.connected_port, s.server_port)
            && i32::from(ours) != theirs
        {
            out.push(format!(
                "we connected to port {ours}; the server session listens on port {theirs}"
            ));
        }
        // PGlite runs in the process that answers us: it has no socket of its own to name.
        if self.connected_port.is_some() && s.server_port.is_none() && !self.embedded {
            out.push(format!(
                "we connected over TCP; the server session came through the server's local socket (port {})",
                s.port_setting
            ));
        }
        if let Some(age) = s.backend_age_s
            && age > self.login_ms as f64 / 1000.0 + 2.0
        {
            out.push(format!(
                "the server session is {age:.0} s old, older than our connection: it was kept from an earlier client"
            ));
        }
        if let Some(again) = self.pid_again
            && again != s.pid
        {
            out.push(format!(
                "our next transaction ran in another server session (pid {} then {again})",
                s.pid
            ));
        }
        out
    }

    pub(super) fn facts(
        self,
        console: Option<Console>,
        pgpool: Option<BTreeMap<String, String>>,
    ) -> Pooler {
        let mut p = Pooler {
            evidence: self.evidence(),
            ..Default::default()
        };
        let num =
            |m: &BTreeMap<String, String>, k: &str| m.get(k).and_then(|v| v.trim().parse().ok());
        // Seconds, rounded up: a limit under a second is not "never" (newer PgBouncers may
        // print fractions).
        let secs = |m: &BTreeMap<String, String>, k: &str| {
            m.get(k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v.ceil() as u64)
        };
        if let Some(v) = self.pool_version {
            p.kind = Some("pgpool-II".into());
            p.version = Some(v);
            // pgpool-II's connection cache hands a client its server connections for the
            // whole client session, and resets them (reset_query_list) before the next one.
            p.mode = Some("session".into());
            match &pgpool {
                Some(m) => {
                    p.client_limit = num(m, "num_init_children");
                    p.pool_size = num(m, "max_pool");
                    p.client_idle_timeout_s = secs(m, "client_idle_limit");
                }
                None => p.unreadable = Some("SHOW pool_status was refused".into()),
            }
        }
        match console {
            Some(Console::Config(version, cfg)) => {
                p.kind = Some("PgBouncer".into());
                p.version = version;
                p.mode = cfg.get("pool_mode").cloned();
                p.client_limit = num(&cfg, "max_client_conn");
                p.pool_size = num(&cfg, "default_pool_size");
                p.client_idle_timeout_s = secs(&cfg, "client_idle_timeout");
                p.evidence
                    .push("PgBouncer's admin console (database pgbouncer) answered".into());
            }
            Some(Console::Refused(why)) => {
                p.kind = Some("PgBouncer".into());
                p.evidence
                    .push("PgBouncer's admin console (database pgbouncer) exists".into());
                p.unreadable = Some(format!(
                    "its admin console refused SHOW CONFIG to this user: {why} (add the user to stats_users to let it be read)"
                ));
            }
            Some(Console::Absent) | None => {}
        }
        if p.mode.is_none() && p.evidence.iter().any(|e| e.contains("next transaction")) {
            p.mode = Some("transaction".into());
        }
        p.in_front = !p.evidence.is_empty();
        p
    }
}

/// Asks PgBouncer's admin console (a login of its own to the virtual database `pgbouncer`,
/// made after ours is closed) for its version and settings. `None`: nothing could be told.
pub(super) async fn pgbouncer_console(
    options: &PgConnectOptions,
    timeout: std::time::Duration,
    runner: &Runner<'_>,
) -> Option<Console> {
    use sqlx::Connection;
    let o = options.clone().database("pgbouncer");
    let mut conn = match tokio::time::timeout(timeout, sqlx::PgConnection::connect_with(&o)).await {
        Ok(Ok(c)) => c,
        Ok(Err(sqlx::Error::Database(d))) if d.code().as_deref() == Some("3D000") => {
            return Some(Console::Absent);
        }
        Ok(Err(e @ sqlx::Error::Database(_))) => {
            return Some(Console::Refused(runner.spec.scrub(&error_text(&e))));
        }
        _ => return None,
    };
    // The console speaks only the simple protocol and answers SHOW alone.
    let version = runner
        .probe(
            "SHOW VERSION",
            1,
            crate::engines::sql::bounded(sqlx::Executor::fetch(&mut conn, "SHOW VERSION")),
        )
        .await
        .value()
        .and_then(|rows| {
            rows.first()
                .and_then(|r| sqlx::Row::try_get::<String, _>(r, 0).ok())
        })
        .map(|v| v.trim_start_matches("PgBouncer ").to_string());
    let config = runner
        .probe(
            "SHOW CONFIG",
            1,
            crate::engines::sql::bounded(sqlx::Executor::fetch(&mut conn, "SHOW CONFIG")),
        )
        .await;
    let _ = tokio::time::timeout(std::time::Duration::from_millis(250), conn.close()).await;
    Some(match config {
        Probe::Ok { value, .. } => Console::Config(
            version,
            value
                .iter()
                .filter_map(|r| {
                    let k = sqlx::Row::try_get::<String, _>(r, 0).ok()?;
                    let v = sqlx::Row::try_get::<String, _>(r, 1).ok()?;
                    Some((k, v))
                })
                .collect(),
        ),
        Probe::Denied { message, .. } | Probe::Failed { message, .. } => Console::Refused(message),
        _ => Console::Refused("SHOW CONFIG did not answer".into()),
    })
}

/// pgpool-II's own settings (`SHOW pool_status`, alone in its message): item → value.
pub(super) async fn pgpool_status(
    pool: &PgPool,
    runner: &Runner<'_>,
) -> Option<BTreeMap<String, String>> {
    let rows = runner
        .probe(
            "SHOW pool_status",
            1,
            crate::engines::sql::bounded(sqlx::raw_sql("SHOW pool_status").fetch(pool)),
        )
        .await;
    rows.value().map(|rows| {
        rows.iter()
            .filter_map(|r| {
                let k = sqlx::Row::try_get::<String, _>(r, 0).ok()?;
                let v = sqlx::Row::try_get::<String, _>(r, 1).ok()?;
                Some((k, v))
            })
            .collect()
    })
}

/// A row of pg_stat_ssl: ssl, version, cipher, bits.
pub(super) type SslRow = (bool, Option<String>, Option<String>, Option<i32>);

/// Managed services leave settings of their own.
pub(super) fn managed_marker(settings: &BTreeMap<String, String>) -> Option<&'static str> {
    // The first name at or after the prefix is the one that would start with it.
    let has = |prefix: &str| {
        settings
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|(k, _)| k.starts_with(prefix))
    };
    if has("alloydb.") || has("google_columnar_engine.") {
        Some("alloydb")
    } else if has("rds.") {
        Some("rds")
    } else if has("azure.") || has("pgms_") {
        Some("azure")
    } else if has("cloudsql.") {
        Some("cloudsql")
    } else {
        None
    }
}
