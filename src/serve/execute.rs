//! Running an admitted check: on a thread and runtime of its own, under the service's
//! deadline, its findings and report scrubbed of the password, answered as JSON or as
//! Server-Sent Events.

use super::problem::{Kind, Problem};
use super::{AppState, Job, log};
use crate::report::Report;
use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt as _;

/// The stack of a check's thread: a collector's future is large in debug builds.
const CHECK_STACK: usize = 8 * 1024 * 1024;

/// Replaces the password in every string of a JSON value (the drivers' messages are scrubbed
/// already; this is the last gate before anything leaves the service).
fn scrub(v: &mut serde_json::Value, secret: Option<&str>) {
    let Some(secret) = secret.filter(|s| s.len() >= 3) else {
        return;
    };
    match v {
        serde_json::Value::String(s) if s.contains(secret) => *s = s.replace(secret, "***"),
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| scrub(x, Some(secret))),
        serde_json::Value::Object(o) => o.values_mut().for_each(|x| scrub(x, Some(secret))),
        _ => {}
    }
}

fn to_scrubbed<T: Serialize>(v: &T, secret: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::to_value(v).unwrap_or_default();
    scrub(&mut v, secret);
    v
}

/// Runs a job in a tracked task (graceful shutdown waits for it) under the service deadline;
/// each finding goes to `on_finding`. Returns the scrubbed, stored report.
async fn execute(
    s: Arc<AppState>,
    job: Job,
    mut on_finding: Option<impl FnMut(crate::report::Finding) + Send + 'static>,
) -> Result<Arc<Report>, Problem> {
    let Job {
        precheck,
        password,
        id,
        permit,
        _ca,
    } = job;
    let place = {
        let t = precheck.target();
        format!(
            "{}://{}:{}",
            t.engine,
            t.host.as_deref().or(t.path.as_deref()).unwrap_or(""),
            t.port.unwrap_or(0)
        )
    };
    let deadline = s.cfg.run_timeout + Duration::from_secs(5);
    let secret = password.clone();
    let st = s.clone();
    let task = s.tracker.spawn(async move {
        let started = Instant::now();
        let run = precheck.run_streaming(move |f| {
            let Some(send) = on_finding.as_mut() else {
                return;
            };
            // Back to a Finding so the event keeps the report's field order.
            let clean =
                serde_json::from_value::<crate::report::Finding>(to_scrubbed(f, secret.as_deref()));
            if let Ok(f) = clean {
                send(f);
            }
        });
        // Each check on a thread and runtime of its own, as `check --targets` runs each
        // target: a driver that never yields (a server that keeps sending) holds only its own
        // thread, never a worker the HTTP side and this deadline need; and the checks are
        // scheduled by the kernel beside the database's own processes, not queued behind two
        // workers. The thread holds the admission permit and the CA file until it ends, so a
        // check cut at its deadline still counts against --max-concurrent while it runs.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("check".into())
            .stack_size(CHECK_STACK)
            .spawn(move || {
                let (permit, ca) = (permit, _ca);
                let report = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(run));
                // Free before the answer goes: a client that posts again at once is admitted.
                drop((permit, ca));
                if let Ok(r) = report {
                    let _ = tx.send(r);
                }
            });
        if spawned.is_err() {
            log(format_args!("check {id}: cannot start a thread for it"));
            return None;
        }
        let report = tokio::time::timeout(deadline, rx).await.ok()?.ok()?;
        let clean: Arc<Report> = if password.as_deref().is_some_and(|p| p.len() >= 3) {
            let value = to_scrubbed(&report, password.as_deref());
            Arc::new(serde_json::from_value(value).ok()?)
        } else {
            // No password to look for (`scrub` would change nothing).
            Arc::new(report)
        };
        st.store.put(id.clone(), clean.clone());
        log(format_args!(
            "check {id} of {} -> {} in {} ms",
            place.escape_debug(),
            clean.summary.status,
            started.elapsed().as_millis()
        ));
        Some(clean)
    });
    match task.await {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Problem::new(
            Kind::Internal,
            "the check did not finish within the service's deadline",
        )),
        Err(_) => Err(Problem::new(Kind::Internal, "the check failed")),
    }
}

pub(super) async fn json_check(s: Arc<AppState>, job: Job) -> Response {
    let id = job.id.clone();
    match execute(s, job, None::<fn(crate::report::Finding)>).await {
        Ok(report) => {
            let mut r = Json(&*report).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/v1/checks/{id}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(p) => p.into_response(),
    }
}

pub(super) fn stream_check(s: Arc<AppState>, job: Job) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let id = job.id.clone();
    let started = serde_json::json!({
        "id": id,
        "location": format!("/v1/checks/{id}"),
        "target": job.precheck.target(),
    });
    let _ = tx.send(event("started", &started));
    let findings = tx.clone();
    tokio::spawn(async move {
        let outcome = execute(
            s,
            job,
            Some(move |f| {
                let _ = findings.send(event("finding", &f));
            }),
        )
        .await;
        let _ = match outcome {
            Ok(report) => tx.send(event("report", &*report)),
            Err(p) => tx.send(event("problem", &p)),
        };
    });
    let stream = tokio_stream::wrappers::UnboundedReceiverStream::new(rx)
        .map(Ok::<Event, std::convert::Infallible>);
    let mut r = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/checks/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn event<T: Serialize>(name: &str, data: &T) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_default())
}
