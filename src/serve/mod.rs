//! `byod-precheck serve`: the setup page and an HTTP API over the same engine as `check`.
//! `POST /v1/checks` runs one check (JSON, or Server-Sent Events: one event per finding, then
//! the report), recent reports are kept by id, `GET /v1/catalogue` lists the registry,
//! `GET /v1/openapi.json` is generated from this code. Every connection a request causes goes
//! through the [`guard`]; errors are RFC 9457 problem details ([`problem`]); the password is
//! never logged, echoed, stored or put in a report.

mod execute;
pub mod guard;
mod openapi;
pub mod problem;
pub mod store;

use crate::api::Precheck;
use crate::engine::Engine;
use crate::matrix::Matrix;
use crate::net::ConnectGuard;
use crate::render::{self, Format};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use guard::{Policy, Resolver, TargetGuard};
use problem::{Kind, Problem};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use store::Store;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use utoipa::ToSchema;

/// The version of the HTTP API (the `/v1` in every path).
pub const API_VERSION: u32 = 1;

/// Longest accepted fields, in characters (stated in the OpenAPI document).
const MAX_URL: usize = 8192;
const MAX_PASSWORD: usize = 4096;
const MAX_CA_PEM: usize = 16384;

/// The setup page: one self-contained file (no external asset).
const PAGE: &str = include_str!("page.html");

/// How the service runs.
pub struct ServeConfig {
    /// Where to listen (loopback unless a token is set).
    pub listen: SocketAddr,
    /// The bearer token every `/v1` request but health must carry, when set.
    pub token: Option<String>,
    /// Where checks may connect.
    pub policy: Policy,
    /// Checks running at once; more are answered 429.
    pub max_concurrent: usize,
    /// The matrix every check is judged against (the server's, never the request's).
    pub matrix: Arc<Matrix>,
    pub connect_timeout: Duration,
    pub check_timeout: Duration,
    /// The whole check; past it the report says it timed out.
    pub run_timeout: Duration,
    /// The largest request body accepted.
    pub max_body: usize,
    /// The recent reports kept.
    pub store: store::Bounds,
    /// Name resolution (the system's; tests inject their own).
    pub resolver: Arc<dyn Resolver>,
    /// How long a server's reach figures and TLS inspection are shared between checks
    /// (zero: every check measures its own; see [`crate::share`]).
    pub share_ttl: Duration,
}

/// The default of [`ServeConfig::share_ttl`]: short, so a certificate or network change shows
/// within seconds, long enough that a busy service inspects each server a few times a minute.
pub const SHARE_TTL: Duration = Duration::from_secs(5);

impl ServeConfig {
    /// The defaults of `byod-precheck serve`.
    pub fn new(listen: SocketAddr) -> ServeConfig {
        ServeConfig {
            listen,
            token: None,
            policy: Policy::default(),
            max_concurrent: 16,
            matrix: Arc::new(Matrix::builtin()),
            connect_timeout: Duration::from_secs(10),
            check_timeout: Duration::from_secs(10),
            run_timeout: Duration::from_secs(60),
            // Room for every field at its longest, each character escaped in JSON (12 bytes
            // for a surrogate pair): a valid request is never refused for its size.
            max_body: 512 * 1024,
            store: store::Bounds::default(),
            resolver: Arc::new(guard::SystemResolver),
            share_ttl: share_ttl_from_env().unwrap_or(SHARE_TTL),
        }
    }

    /// Refuses a configuration that would expose the service: off loopback without a token.
    pub fn validate(&self) -> Result<(), String> {
        if !self.listen.ip().is_loopback() && self.token.is_none() {
            return Err(format!(
                "listening on {} (not loopback) needs a bearer token: pass --token-file FILE or set BYOD_PRECHECK_TOKEN",
                self.listen
            ));
        }
        if self.token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err("the bearer token must be at least 16 characters".into());
        }
        if self.max_concurrent == 0 || self.max_concurrent > 1024 {
            return Err(format!(
                "--max-concurrent must be between 1 and 1024, not {}",
                self.max_concurrent
            ));
        }
        Ok(())
    }
}

/// `BYOD_PRECHECK_SHARE_TTL`: seconds to share per-server figures (0 turns sharing off).
fn share_ttl_from_env() -> Option<Duration> {
    let v = std::env::var("BYOD_PRECHECK_SHARE_TTL").ok()?;
    let secs = v.trim().parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

struct AppState {
    cfg: ServeConfig,
    /// Per-server figures shared between checks (none when `share_ttl` is zero).
    share: Option<Arc<crate::share::ServerShare>>,
    store: Store,
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
    shutting_down: AtomicBool,
    /// Where pasted CA certificates are written for the drivers (private to this process).
    ca_dir: PathBuf,
    openapi: serde_json::Value,
}

/// A running service: its address, and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Waits until the service ends (its shutdown signal fired and the checks finished).
    pub async fn wait(self) -> std::io::Result<()> {
        self.done.await.map_err(std::io::Error::other)?
    }

    /// Stops accepting, lets running checks finish (each within its deadline) and waits.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.done.await.map_err(std::io::Error::other)?
    }
}

/// Binds and starts the service in the background; `shutdown` ends it gracefully when it
/// resolves (the CLI passes SIGINT/SIGTERM).
pub async fn start(
    cfg: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Running> {
    cfg.validate()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let addr = listener.local_addr()?;
    let ca_dir = std::env::temp_dir().join(format!("byod-precheck-ca-{}", store::new_id()));
    create_private_dir(&ca_dir)?;
    let state = Arc::new(AppState {
        permits: Arc::new(Semaphore::new(cfg.max_concurrent)),
        store: Store::new(cfg.store),
        tracker: TaskTracker::new(),
        shutting_down: AtomicBool::new(false),
        openapi: openapi::document(),
        share: (!cfg.share_ttl.is_zero())
            .then(|| Arc::new(crate::share::ServerShare::new(cfg.share_ttl))),
        ca_dir,
        cfg,
    });
    let app = router(state.clone());
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let grace = state.cfg.run_timeout + Duration::from_secs(5);
    let done = tokio::spawn(async move {
        let st = state.clone();
        let signal = async move {
            tokio::select! {
                _ = shutdown => {},
                _ = stopped.wait_for(|s| *s) => {},
            }
            st.shutting_down.store(true, Ordering::SeqCst);
            log(format_args!(
                "shutting down: {} check(s) running",
                st.tracker.len()
            ));
        };
        let served = axum::serve(listener, app).with_graceful_shutdown(signal);
        let result = served.await;
        state.tracker.close();
        if tokio::time::timeout(grace, state.tracker.wait())
            .await
            .is_err()
        {
            log(format_args!(
                "shutdown: checks still running past their deadline were cut"
            ));
        }
        let _ = std::fs::remove_dir_all(&state.ca_dir);
        result
    });
    log(format_args!("listening on http://{addr}"));
    Ok(Running { addr, stop, done })
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

/// One line on stderr: the service log. Callers never pass a secret.
fn log(args: std::fmt::Arguments) {
    eprintln!("{} {args}", crate::checks::now_rfc3339());
}

fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/v1/checks", post(post_check))
        .route("/v1/checks/{id}", get(get_check))
        .route("/v1/catalogue", get(catalogue))
        .route("/v1/openapi.json", get(openapi_json))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/", get(page))
        .route("/v1/health", get(health))
        .merge(api)
        .fallback(|| async { Problem::new(Kind::NotFound, "no such path") })
        .layer(DefaultBodyLimit::max(state.cfg.max_body))
        .layer(middleware::from_fn(access_log))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// One line per request: method, path (never the query or the body), status, time.
async fn access_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(200).collect();
    let r = next.run(req).await;
    log(format_args!(
        "{method} {} -> {} in {} ms",
        path.escape_debug(),
        r.status().as_u16(),
        started.elapsed().as_millis()
    ));
    r
}

async fn require_token(State(s): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(token) = &s.cfg.token {
        use subtle::ConstantTimeEq;
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            return Problem::new(Kind::Unauthorized, "send Authorization: Bearer <token>")
                .into_response();
        }
    }
    next.run(req).await
}

/// A check request. The password may sit in the URL or, better, here; either way it goes to
/// the driver only.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The connection string: postgres://, mysql://, mariadb://, mssql://, sqlserver://, ADO.NET,
    /// JDBC or sqlite:// (SQLite only when the service allows it).
    #[schema(
        max_length = 8192,
        min_length = 1,
        example = "postgres://app@db.example.com:5432/app?sslmode=verify-full"
    )]
    pub url: String,
    /// The password, when it is not in the URL (it then replaces the URL's).
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub password: Option<String>,
    /// Create (and roll back or drop) a scratch object to confirm capabilities for real.
    #[serde(default)]
    pub probe_write: bool,
    /// A CA certificate (PEM) to verify the server with, instead of a file path in the URL.
    #[serde(default)]
    #[schema(max_length = 16384)]
    pub ca_pem: Option<String>,
}

/// What `GET /v1/health` says.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `shutting-down`.
    pub status: String,
    /// The tool's version.
    pub version: String,
    /// The HTTP API's version.
    pub api_version: u32,
    /// Checks running now.
    pub checks_running: u32,
    /// Checks allowed at once.
    pub max_concurrent: u32,
    /// Whether `/v1` requests need a bearer token.
    pub token_required: bool,
}

/// The setup page.
#[utoipa::path(get, path = "/", responses((status = 200, description = "The setup page", content_type = "text/html")))]
async fn page(State(s): State<Arc<AppState>>) -> Html<String> {
    Html(PAGE.replace(
        "__TOKEN_REQUIRED__",
        if s.cfg.token.is_some() { "yes" } else { "no" },
    ))
}

/// Whether the service is up.
#[utoipa::path(get, path = "/v1/health", responses((status = 200, description = "Up", body = Health)))]
async fn health(State(s): State<Arc<AppState>>) -> Json<Health> {
    let max = s.cfg.max_concurrent;
    Json(Health {
        status: if s.shutting_down.load(Ordering::SeqCst) {
            "shutting-down".into()
        } else {
            "ok".into()
        },
        version: env!("CARGO_PKG_VERSION").into(),
        api_version: API_VERSION,
        checks_running: (max - s.permits.available_permits()) as u32,
        max_concurrent: max as u32,
        token_required: s.cfg.token.is_some(),
    })
}

/// The registry: every check's id, engine, category, title and documentation.
#[utoipa::path(get, path = "/v1/catalogue",
    responses(
        (status = 200, description = "Every check", body = openapi::CatalogueSchema),
        (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
async fn catalogue() -> Response {
    Json(crate::engines::all_checks()).into_response()
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json",
    responses(
        (status = 200, description = "The OpenAPI document", body = Object),
        (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
async fn openapi_json(State(s): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(s.openapi.clone())
}

/// A recent report by id: `ID` or `ID.json` (JSON), `ID.html`, `ID.md`.
#[utoipa::path(get, path = "/v1/checks/{id}",
    params(("id" = String, Path, description = "The report id, optionally with .json, .html or .md")),
    responses(
        (status = 200, description = "The report", content(
            (openapi::ReportSchema = "application/json"),
            (String = "text/html"),
            (String = "text/markdown"))),
        (status = 404, description = "Unknown or expired", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
async fn get_check(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let (id, format) = match id.rsplit_once('.') {
        Some((id, "json")) => (id, Format::Json),
        Some((id, "html")) => (id, Format::Html),
        Some((id, "md")) => (id, Format::Markdown),
        Some(_) => return Problem::new(Kind::NotFound, "use .json, .html or .md").into_response(),
        None => (id.as_str(), Format::Json),
    };
    let Some(report) = s.store.get(id) else {
        return Problem::new(
            Kind::NotFound,
            "no report with this id (reports are kept in memory for a limited time)",
        )
        .into_response();
    };
    let mut buf = Vec::new();
    if render::render(&report, format, false, &mut buf).is_err() {
        return Problem::new(Kind::Internal, "the report could not be rendered").into_response();
    }
    let ctype = match format {
        Format::Html => "text/html; charset=utf-8",
        Format::Markdown => "text/markdown; charset=utf-8",
        _ => "application/json",
    };
    ([(header::CONTENT_TYPE, ctype)], buf).into_response()
}

/// Checks a database: the report `check --format json` prints. With `Accept: text/event-stream`,
/// Server-Sent Events: `started` (the report id and target), one `finding` per check as soon as
/// its facts are in (the connection check right after the login, before any query; the others
/// once the collection ends), in the report's order, then `report`. A finding sent early is
/// sent again, as the report has it, only if the rest of the run changed it (the whole check
/// timed out after the login).
#[utoipa::path(post, path = "/v1/checks",
    request_body(content = CheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The report (or, with Accept: text/event-stream, the events)", content(
            (openapi::ReportSchema = "application/json"),
            (String = "text/event-stream")),
            headers(("Location" = String, description = "Where the report is kept: /v1/checks/{id}"))),
        (status = 400, description = "Not a valid request or connection string", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The service may not connect to this target", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many checks are running", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Shutting down", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
async fn post_check(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match prepare(&s, &headers, body).await {
        Ok(job) => {
            let sse = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/event-stream"));
            if sse {
                execute::stream_check(s, job)
            } else {
                execute::json_check(s, job).await
            }
        }
        Err(p) => p.into_response(),
    }
}

/// A check ready to run: admitted, its target allowed.
struct Job {
    precheck: Precheck,
    password: Option<String>,
    id: String,
    permit: tokio::sync::OwnedSemaphorePermit,
    /// A pasted CA written to a file, removed when the job ends.
    _ca: Option<TempFile>,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn prepare(
    s: &Arc<AppState>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Job, Problem> {
    if s.shutting_down.load(Ordering::SeqCst) {
        return Err(Problem::new(
            Kind::ShuttingDown,
            "retry on another instance",
        ));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json {
        return Err(Problem::new(
            Kind::UnsupportedMediaType,
            "send Content-Type: application/json",
        ));
    }
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                Kind::PayloadTooLarge,
                format!("at most {} bytes", s.cfg.max_body),
            )
        } else {
            Problem::new(Kind::BadRequest, "the body could not be read")
        }
    })?;
    let req: CheckRequest = serde_json::from_slice(&body)
        .map_err(|e| Problem::new(Kind::BadRequest, problem::body_error(&e)))?;
    // The limits the OpenAPI document states (`maxLength` counts characters).
    for (field, value, max) in [
        ("url", Some(&req.url), MAX_URL),
        ("password", req.password.as_ref(), MAX_PASSWORD),
        ("ca_pem", req.ca_pem.as_ref(), MAX_CA_PEM),
    ] {
        if value.is_some_and(|v| v.chars().count() > max) {
            return Err(Problem::new(
                Kind::BadRequest,
                format!("{field} is longer than {max} characters"),
            ));
        }
    }
    let password = req.password.clone().filter(|p| !p.is_empty());
    let hide = |text: String| match &password {
        Some(p) if p.len() >= 3 => text.replace(p.as_str(), "***"),
        _ => text,
    };
    let mut precheck = Precheck::new(&req.url)
        .map_err(|e| Problem::new(Kind::InvalidTarget, hide(e.to_string())))?
        .matrix(s.cfg.matrix.clone())
        .probe_write(req.probe_write)
        .connect_timeout(s.cfg.connect_timeout)
        .check_timeout(s.cfg.check_timeout)
        .timeout(s.cfg.run_timeout);
    let url_password = precheck
        .spec()
        .password
        .as_ref()
        .map(|p| p.expose().to_string());
    if let Some(p) = &password {
        precheck = precheck.password(p.clone());
    }
    let spec = precheck.spec();
    // Any option naming a file (a CA, a client certificate or key), the socket aside.
    let file_option = spec.dialect.options.iter().find(|o| {
        matches!(o.kind, crate::target::OptKind::Path)
            && Some(o.name) != spec.dialect.socket_option
            && spec.option(o.name).is_some()
    });
    if let Some(key) = file_option.map(|o| o.name) {
        return Err(Problem::new(
            Kind::InvalidTarget,
            format!(
                "`{key}` names a file on the service's machine, which a request may not do; paste the CA certificate as ca_pem"
            ),
        ));
    }
    if spec.socket().is_some() {
        return Err(Problem::new(
            Kind::TargetRefused,
            "a local socket is the service's own machine; connect over TCP",
        ));
    }
    let guard = Arc::new(TargetGuard::new(
        Arc::new(s.cfg.policy.clone()),
        s.cfg.resolver.clone(),
    ));
    if spec.engine == Engine::Sqlite {
        s.cfg
            .policy
            .sqlite(spec.path.as_deref().unwrap_or_default())
            .map_err(|e| Problem::new(Kind::TargetRefused, e))?;
    } else {
        // Resolved and judged now, before anything connects; the check then reaches exactly
        // these addresses (the guard answers every later lookup of this host the same).
        let (host, port) = (spec.tcp_host(), spec.port_or_default());
        if guard.resolve(&host, port).await.is_err()
            && let Some(why) = guard.refused()
        {
            return Err(Problem::new(Kind::TargetRefused, hide(why)));
        }
    }
    let ca = match req.ca_pem.as_deref() {
        Some(pem) if !pem.trim().is_empty() => {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(Problem::new(
                    Kind::BadRequest,
                    "ca_pem is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
                ));
            }
            let Some(key) = spec.dialect.ca_option else {
                return Err(Problem::new(
                    Kind::BadRequest,
                    format!("{} uses no CA", spec.engine),
                ));
            };
            let path = s.ca_dir.join(format!("{}.pem", store::new_id()));
            std::fs::write(&path, pem)
                .map_err(|_| Problem::new(Kind::Internal, "the CA could not be stored"))?;
            precheck
                .spec_mut()
                .params
                .insert(key.into(), path.display().to_string());
            Some(TempFile(path))
        }
        _ => None,
    };
    let permit = s.permits.clone().try_acquire_owned().map_err(|_| {
        Problem::new(
            Kind::TooManyChecks,
            format!("{} checks are running; retry shortly", s.cfg.max_concurrent),
        )
    })?;
    if let Some(share) = &s.share {
        precheck = precheck.share(share.clone());
    }
    Ok(Job {
        precheck: precheck.guard(guard as Arc<dyn ConnectGuard>),
        password: password.or(url_password),
        id: store::new_id(),
        permit,
        _ca: ca,
    })
}
