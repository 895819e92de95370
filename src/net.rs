//! The network steps every server engine shares: name resolution and the TCP connect, each
//! timed and classified, before a driver is asked to log in. A failure names its step, so the
//! client learns whether DNS, a firewall or a password is at fault.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where a connection attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port, or a firewall rejects.
    Refused,
    /// No answer within the connect timeout (a firewall dropping packets, a hung server).
    Timeout,
    /// TLS could not be set up or the certificate is not trusted.
    Tls,
    /// The server refused the user name or password.
    Authentication,
    /// The database named in the URL does not exist.
    DatabaseMissing,
    /// The user may not connect to this database.
    Permission,
    /// The server reported another error.
    ServerError,
    /// The connection string or local configuration is unusable (missing file, bad CA file).
    Config,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Dns => "dns",
            FailureKind::Refused => "refused",
            FailureKind::Timeout => "timeout",
            FailureKind::Tls => "tls",
            FailureKind::Authentication => "authentication",
            FailureKind::DatabaseMissing => "database-missing",
            FailureKind::Permission => "permission",
            FailureKind::ServerError => "server-error",
            FailureKind::Config => "config",
        }
    }
}

/// A classified connection failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectFailure {
    pub kind: FailureKind,
    /// The driver's or OS's message, with any secret scrubbed.
    pub message: String,
}

/// What the connection steps found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionFacts {
    /// Addresses the host name resolved to.
    pub addresses: Vec<String>,
    /// Time to resolve the name.
    pub dns_ms: Option<u64>,
    /// Time to open the TCP connection.
    pub tcp_ms: Option<u64>,
    /// Time for the driver to connect and log in (TLS and authentication included).
    pub login_ms: Option<u64>,
    /// Set when a step failed; the other facts were then not collected.
    pub failure: Option<ConnectFailure>,
    /// A weakness of the authentication the server asked for, seen before the login (md5 on
    /// an unencrypted connection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_risk: Option<String>,
    /// The TLS the server offers, inspected on a connection of our own (no credentials sent).
    #[serde(default)]
    pub tls: Option<crate::tlsprobe::TlsInspection>,
    /// Why the TLS inspection itself could not be done, if it could not.
    #[serde(default)]
    pub tls_inspection_error: Option<String>,
    /// The addresses, DNS and TCP times are the server's, measured once by the first of this
    /// run's targets on it (many-targets mode), not by this target.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reach_shared: bool,
    /// With `reach_shared` in a service: how old the shared figures were, in milliseconds
    /// (measured by an earlier check of the same server; see [`Sharing`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach_age_ms: Option<u64>,
}

/// Reaches the server, as [`reach`] does; with `shared` (many targets on one server), only the
/// first target on each host and port does, and the others take its figures without opening a
/// connection of their own: each unused connection would cost the server a process. Only a
/// success is shared; a target that finds no shared result reaches for itself. `None`: the
/// figures were shared, no connection was opened.
pub async fn reach_server(
    host: &str,
    port: u16,
    timeout: Duration,
    shared: bool,
    facts: &mut ConnectionFacts,
) -> Result<Option<tokio::net::TcpStream>, ConnectFailure> {
    if let Some(share) = sharing_now() {
        return share.reach(host, port, timeout, facts).await;
    }
    if !shared {
        return reach(host, port, timeout, facts).await.map(Some);
    }
    type Reached = (Vec<String>, Option<u64>, Option<u64>);
    // The failure is shared too: targets on a silent server get its connect timeout at once,
    // instead of each waiting its turn to time out again (and the last ones the run's limit).
    type Cell = std::sync::Arc<tokio::sync::OnceCell<Result<Reached, ConnectFailure>>>;
    static SHARED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::BTreeMap<(String, u16), Cell>>,
    > = std::sync::OnceLock::new();
    let cell = SHARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry((host.to_ascii_lowercase(), port))
        .or_default()
        .clone();
    let mut stream = None;
    let reached = cell
        .get_or_init(|| async {
            let mut own = ConnectionFacts::default();
            stream = Some(reach(host, port, timeout, &mut own).await?);
            Ok::<_, ConnectFailure>((own.addresses, own.dns_ms, own.tcp_ms))
        })
        .await;
    match reached {
        Ok((addresses, dns_ms, tcp_ms)) => {
            facts.addresses = addresses.clone();
            facts.dns_ms = *dns_ms;
            facts.tcp_ms = *tcp_ms;
            facts.reach_shared = stream.is_none();
            Ok(stream)
        }
        Err(f) => Err(f.clone()),
    }
}

/// Resolves the host and opens a TCP connection to the first address that answers, within
/// `timeout` overall. The open connection is returned: the TLS inspection reuses it rather
/// than opening one more (each costs the server a process).
pub async fn reach(
    host: &str,
    port: u16,
    timeout: Duration,
    facts: &mut ConnectionFacts,
) -> Result<tokio::net::TcpStream, ConnectFailure> {
    let started = Instant::now();
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(timeout, resolve(host, port)).await {
        Err(_) => {
            return Err(ConnectFailure {
                kind: FailureKind::Timeout,
                message: format!(
                    "resolving `{host}` took longer than {} s",
                    timeout.as_secs_f32()
                ),
            });
        }
        Ok(Err(f)) => return Err(f),
        Ok(Ok(a)) => a,
    };
    facts.dns_ms = Some(started.elapsed().as_millis() as u64);
    facts.addresses = addrs.iter().map(ToString::to_string).collect();
    if addrs.is_empty() {
        return Err(ConnectFailure {
            kind: FailureKind::Dns,
            message: format!("the host name `{host}` resolves to no address"),
        });
    }
    let mut last = None;
    for addr in &addrs {
        let left = timeout.saturating_sub(started.elapsed());
        let t = Instant::now();
        match tokio::time::timeout(left, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                facts.tcp_ms = Some(t.elapsed().as_millis() as u64);
                return Ok(stream);
            }
            Ok(Err(e)) => {
                last = Some(ConnectFailure {
                    kind: if e.kind() == std::io::ErrorKind::ConnectionRefused {
                        FailureKind::Refused
                    } else if e.kind() == std::io::ErrorKind::TimedOut {
                        FailureKind::Timeout
                    } else {
                        FailureKind::Refused
                    },
                    message: format!("TCP connect to {addr}: {e}"),
                })
            }
            Err(_) => {
                return Err(ConnectFailure {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "no answer from {addr} within {} s (a firewall dropping packets, or the server is hung)",
                        timeout.as_secs_f32()
                    ),
                });
            }
        }
    }
    Err(last.unwrap_or(ConnectFailure {
        kind: FailureKind::Refused,
        message: "no address answered".into(),
    }))
}

/// [`reach_server`] for a target: its TCP host and port, nothing for a local socket or a file
/// (the driver opens those itself).
pub async fn reach_target(
    spec: &crate::target::ConnSpec,
    timeout: Duration,
    shared: bool,
    facts: &mut ConnectionFacts,
) -> Result<Option<tokio::net::TcpStream>, ConnectFailure> {
    if spec.socket().is_some() || spec.dialect.default_port.is_none() {
        return Ok(None);
    }
    reach_server(
        &spec.tcp_host(),
        spec.port_or_default(),
        timeout,
        shared,
        facts,
    )
    .await
}

/// Milliseconds since `t`.
pub fn ms_since(t: Instant) -> u64 {
    t.elapsed().as_millis() as u64
}

/// The TLS inspection to run beside a login: where to connect and which preamble to speak.
pub struct Inspect<'a> {
    pub host: &'a str,
    pub port: u16,
    pub preamble: crate::tlsprobe::Preamble,
    /// The CA file the user gave, if any.
    pub ca: Option<&'a std::path::Path>,
    /// The TCP connection [`reach`] opened, reused rather than opening one more.
    pub reached: Option<tokio::net::TcpStream>,
    /// Inspect each server once per process and share the result (many-targets mode).
    pub shared: bool,
}

impl<'a> Inspect<'a> {
    /// The inspection of `spec`'s server at `host`, in its dialect's preamble; `None` for a
    /// target whose protocol has none (a file).
    pub fn of(
        spec: &crate::target::ConnSpec,
        host: &'a str,
        ca: Option<&'a std::path::Path>,
        reached: Option<tokio::net::TcpStream>,
        shared: bool,
    ) -> Option<Inspect<'a>> {
        Some(Inspect {
            host,
            port: spec.port_or_default(),
            preamble: spec.dialect.preamble?,
            ca,
            reached,
            shared,
        })
    }
}

/// Inspects the TLS layer on a connection of our own (`inspect`: `None` when TLS is off or the
/// target is a local socket) beside the driver's login (`login` makes one attempt each time it
/// is called). Records the inspection and the login time in `facts`; turns a timeout or a
/// driver error into a classified failure, naming the certificate's problem when TLS is what
/// failed.
///
/// The two run side by side: the inspection never logs in, so it takes none of the slots a
/// role's `CONNECTION LIMIT`, a pooler's pool or `max_connections` counts, and it never waits
/// for the login. A server that serves one client at a time either queues the login until the
/// inspection's connection closes (pgpool-II with one child: a delay) or turns it away
/// (PGlite): a login turned away while the inspection was open is made again once the
/// inspection's connection is closed, so a busy single slot only ever delays the run.
///
/// `gate` is the look at what the server will ask before any password is sent
/// (`prelogin::gate`): the login starts only once it has passed, with what it decided (`login`
/// is given it: TLS required, or a relay to connect through), and it runs beside the
/// inspection (it never logs in either). Its risk goes to `facts.auth_risk`; a login it cut
/// fails with its reason. The gate is given back with the connection: what it holds (a relay)
/// must live as long as the connection.
pub async fn login<T, E, F, G: Gated>(
    facts: &mut ConnectionFacts,
    timeout: Duration,
    gate: impl std::future::Future<Output = Result<G, ConnectFailure>>,
    mut login: impl FnMut(&G) -> F,
    inspect: Option<Inspect<'_>>,
    classify: impl Fn(&E) -> ConnectFailure,
) -> Result<(T, G), ConnectFailure>
where
    F: std::future::Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let share = sharing_now();
    let fresh = name_gate();
    let inspecting = inspect.is_some();
    let inspection = async {
        match (inspect, share) {
            (Some(i), Some(s)) => Some(s.inspect(i, timeout, fresh, tcp).await),
            (Some(i), None) if i.shared => Some(
                crate::tlsprobe::inspect_shared(
                    i.host, i.port, i.preamble, i.ca, timeout, i.reached, tcp,
                )
                .await,
            ),
            (Some(i), None) => Some(
                crate::tlsprobe::inspect(i.host, i.port, i.preamble, i.ca, timeout, i.reached, tcp)
                    .await,
            ),
            (None, _) => None,
        }
    };
    let (connected, inspected, g) = if name_gate() {
        // The driver was handed the checked address and cannot verify the certificate's name:
        // our inspection (same address, the real name) verifies it before any password is sent.
        let inspected = inspection.await;
        let verified =
            matches!(&inspected, Some(Ok(i)) if i.offered && i.verification_error.is_none());
        if !verified {
            let why = match &inspected {
                Some(Ok(i)) if !i.offered => "the server offers no TLS".to_string(),
                Some(Ok(i)) => i.verification_error.clone().unwrap_or_default(),
                Some(Err(e)) => e.clone(),
                None => "no TLS inspection".to_string(),
            };
            match inspected {
                Some(Ok(i)) => facts.tls = Some(i),
                Some(Err(e)) => facts.tls_inspection_error = Some(e),
                None => {}
            }
            return Err(ConnectFailure {
                kind: FailureKind::Tls,
                message: format!(
                    "the server certificate could not be verified for the host name ({why}); the login was not attempted"
                ),
            });
        }
        let g = gate.await?;
        facts.auth_risk = g.risk();
        let connected = tokio::time::timeout(timeout, login(&g)).await;
        (connected, inspected, g)
    } else {
        let gated = async {
            let g = gate.await?;
            let first = tokio::time::timeout(timeout, login(&g)).await;
            Ok::<_, ConnectFailure>((g, first))
        };
        let (inspected, gated) = tokio::join!(inspection, gated);
        let (g, first) = match gated {
            Ok((g, first)) => {
                facts.auth_risk = g.risk();
                (g, first)
            }
            Err(f) => {
                match inspected {
                    Some(Ok(i)) => facts.tls = Some(i),
                    Some(Err(e)) => facts.tls_inspection_error = Some(e),
                    None => {}
                }
                return Err(f);
            }
        };
        let connected = match first {
            // Turned away while our inspection held the server (not the server's judgement of
            // us: a password, a database, a permission): once more, now that it is closed.
            Ok(Err(e))
                if inspecting && g.refused().is_none() && may_be_turned_away(classify(&e).kind) =>
            {
                let left = timeout.saturating_sub(started.elapsed());
                tokio::time::timeout(left, login(&g)).await
            }
            other => other,
        };
        (connected, inspected, g)
    };
    match inspected {
        Some(Ok(i)) => facts.tls = Some(i),
        Some(Err(e)) => facts.tls_inspection_error = Some(e),
        None => {}
    }
    match connected {
        Err(_) => Err(ConnectFailure {
            kind: FailureKind::Timeout,
            message: format!(
                "the server accepted TCP but did not complete the login within {} s",
                timeout.as_secs_f32()
            ),
        }),
        Ok(Err(e)) => {
            if let Some(refused) = g.refused() {
                return Err(refused);
            }
            let mut f = classify(&e);
            if f.kind == FailureKind::Tls
                && let Some(cause) = facts
                    .tls
                    .as_ref()
                    .and_then(|t| t.verification_error.clone())
                && !f.message.contains(&cause)
            {
                f.message = format!("the server certificate is {cause} ({})", f.message);
            }
            Err(f)
        }
        Ok(Ok(v)) => {
            facts.login_ms = Some(ms_since(started));
            logged_in(facts);
            Ok((v, g))
        }
    }
}

/// What the look before the login decided (`prelogin::Gate`), as far as the login step needs.
pub trait Gated {
    /// A weakness of the way the password will go, allowed but reported.
    fn risk(&self) -> Option<String>;
    /// Why the gate cut a login that was under way (a cleartext request it stopped).
    fn refused(&self) -> Option<ConnectFailure>;
}

/// No look before the login (SQL Server: TDS encrypts the login itself).
impl Gated for () {
    fn risk(&self) -> Option<String> {
        None
    }
    fn refused(&self) -> Option<ConnectFailure> {
        None
    }
}

/// Whether a login that failed this way may have been turned away only because another
/// connection of ours was open (a server of one client at a time): not a verdict on the
/// credentials, the database or the configuration.
fn may_be_turned_away(kind: FailureKind) -> bool {
    matches!(
        kind,
        FailureKind::Refused | FailureKind::ServerError | FailureKind::Tls | FailureKind::Timeout
    )
}

/// Decides where a connection may go: the service's SSRF guard. It resolves a host name once,
/// judges every address it resolved to, and refuses the whole host when one is not allowed.
pub trait ConnectGuard: Send + Sync + 'static {
    /// The addresses `host:port` may be reached at, or why not.
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<SocketAddr>, ConnectFailure>> + Send + 'a>,
    >;
}

/// A guard and what it decided for this run: each host is resolved and checked once, and every
/// later step (the TCP connect, the TLS inspection, the driver's login, a SQL Server redirect)
/// goes to exactly the addresses that were checked; nothing resolves the name a second time.
struct Pinning {
    guard: std::sync::Arc<dyn ConnectGuard>,
    hosts: std::sync::Mutex<std::collections::BTreeMap<(String, u16), Vec<SocketAddr>>>,
    /// A driver was handed an address instead of the name it should verify the certificate
    /// for: the login waits for our own inspection to verify the name first.
    name_gate: std::sync::atomic::AtomicBool,
}

tokio::task_local! {
    static PINNING: std::sync::Arc<Pinning>;
}

/// Runs `work` (a whole check) with every connection it opens decided by `guard` and pinned to
/// the address the guard checked. The collectors run in the caller's task, which is what the
/// task-local scope covers.
pub async fn guarded<F: std::future::Future>(
    guard: std::sync::Arc<dyn ConnectGuard>,
    work: F,
) -> F::Output {
    let pinning = std::sync::Arc::new(Pinning {
        guard,
        hosts: Default::default(),
        name_gate: Default::default(),
    });
    PINNING.scope(pinning, work).await
}

/// Under a guard, the addresses `host:port` is pinned to (resolved through the guard now if it
/// was not yet); `None` without a guard.
pub(crate) async fn pinned_addresses(
    host: &str,
    port: u16,
) -> Option<Result<Vec<SocketAddr>, ConnectFailure>> {
    pinning()?;
    Some(resolve(host, port).await)
}

/// What a long-running caller (the service) shares between the checks it runs: each server's
/// reach figures and TLS inspection, for a while. Set for a check with [`sharing`]; the
/// service's implementation keys them on the pinned addresses.
pub trait Sharing: Send + Sync + 'static {
    /// Reaches the server as [`reach`] does, or takes fresh shared figures (`reach_shared`,
    /// `reach_age_ms`) and opens nothing (`None`).
    fn reach<'a>(
        &'a self,
        host: &'a str,
        port: u16,
        timeout: Duration,
        facts: &'a mut ConnectionFacts,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<Option<tokio::net::TcpStream>, ConnectFailure>>
                + Send
                + 'a,
        >,
    >;
    /// Inspects the TLS layer as [`crate::tlsprobe::inspect`] does, or takes a fresh shared
    /// inspection (`shared_age_ms`). `fresh`: the login waits for this inspection to verify the
    /// name, so it must be this check's own.
    fn inspect<'a>(
        &'a self,
        inspect: Inspect<'a>,
        timeout: Duration,
        fresh: bool,
        connect: crate::tlsprobe::Connect,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<crate::tlsprobe::TlsInspection, String>>
                + Send
                + 'a,
        >,
    >;
}

tokio::task_local! {
    static SHARING: std::sync::Arc<dyn Sharing>;
}

/// Runs `work` (a whole check) with `share` deciding what it measures itself.
pub async fn sharing<F: std::future::Future>(
    share: std::sync::Arc<dyn Sharing>,
    work: F,
) -> F::Output {
    SHARING.scope(share, work).await
}

fn sharing_now() -> Option<std::sync::Arc<dyn Sharing>> {
    SHARING.try_with(std::sync::Arc::clone).ok()
}

/// Told the connection facts once a check's login succeeded: everything the connection check
/// judges is known then, before any query (the service streams that finding at once).
pub type LoginObserver = std::sync::Arc<dyn Fn(&ConnectionFacts) + Send + Sync>;

tokio::task_local! {
    static ON_LOGIN: LoginObserver;
}

/// Runs `work` (a whole check) with `observer` told of each successful login.
pub async fn observing_login<F: std::future::Future>(
    observer: LoginObserver,
    work: F,
) -> F::Output {
    ON_LOGIN.scope(observer, work).await
}

fn logged_in(facts: &ConnectionFacts) {
    let _ = ON_LOGIN.try_with(|o| o(facts));
}

fn pinning() -> Option<std::sync::Arc<Pinning>> {
    PINNING.try_with(|p| p.clone()).ok()
}

fn pin_key(host: &str, port: u16) -> (String, u16) {
    (
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase(),
        port,
    )
}

/// Resolves a host: through the guard when one is set (once per host and port, then the same
/// answer), else through the system resolver.
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnectFailure> {
    if let Some(p) = pinning() {
        let key = pin_key(host, port);
        if let Some(a) = p.hosts.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(a.clone());
        }
        let addrs = p.guard.resolve(&key.0, port).await?;
        p.hosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, addrs.clone());
        return Ok(addrs);
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(a) => Ok(a.collect()),
        Err(e) => Err(ConnectFailure {
            kind: FailureKind::Dns,
            message: format!("the host name `{host}` does not resolve: {e}"),
        }),
    }
}

/// Opens a TCP connection to `host:port` for a driver that takes a stream (SQL Server, the TLS
/// inspection): to the pinned addresses under a guard, the first that answers.
pub async fn connect_tcp(host: &str, port: u16) -> std::io::Result<tokio::net::TcpStream> {
    let addrs = resolve(host, port)
        .await
        .map_err(|f| std::io::Error::new(std::io::ErrorKind::PermissionDenied, f.message))?;
    let mut last = None;
    for a in addrs {
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("`{host}` has no address"))))
}

/// [`connect_tcp`] as the TLS inspection takes it.
fn tcp(
    host: String,
    port: u16,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = std::io::Result<tokio::net::TcpStream>> + Send>,
> {
    Box::pin(async move { connect_tcp(&host, port).await })
}

/// The host to give a driver that resolves names itself (sqlx): under a guard, the address that
/// was checked (so the driver cannot resolve the name again and land elsewhere); else the name.
/// `verify_name`: the connection must prove the certificate is valid for the name. Returns the
/// host and whether the driver itself can still verify the name: a driver given an address
/// cannot, so the login is then gated on our own inspection verifying it on the same address
/// (see [`login`]); the caller asks its driver for chain verification only.
pub fn driver_host(host: &str, port: u16, verify_name: bool) -> (String, bool) {
    let Some(p) = pinning() else {
        return (host.to_string(), verify_name);
    };
    let pinned = p
        .hosts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&pin_key(host, port))
        .and_then(|a| a.first().copied());
    match pinned {
        Some(a) => {
            if verify_name {
                p.name_gate
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            (a.ip().to_string(), false)
        }
        // Not resolved through the guard (it is resolved before any driver runs): hand the
        // driver a name that cannot resolve rather than let it resolve one unchecked.
        None => ("unchecked.invalid".to_string(), verify_name),
    }
}

/// Under a guard, whether the login must wait for our own TLS inspection to verify the name.
fn name_gate() -> bool {
    pinning().is_some_and(|p| p.name_gate.load(std::sync::atomic::Ordering::Relaxed))
}
