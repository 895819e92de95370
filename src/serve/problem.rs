//! Errors of the service as JSON problem details (RFC 9457): a type URI, a title per kind, the
//! HTTP status and a detail that never quotes a request's secret.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem detail, served as `application/problem+json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` style, under this service's docs).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request; never holds a password.
    pub detail: String,
    /// Seconds to wait before retrying (429 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// The kinds of problem the service answers with. Knowledge as data: slug, status, title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    InvalidTarget,
    Unauthorized,
    TargetRefused,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotAcceptable,
    TooManyChecks,
    ShuttingDown,
    Internal,
}

impl Kind {
    fn describe(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            Kind::BadRequest => (
                "bad-request",
                StatusCode::BAD_REQUEST,
                "The request body is not a valid check request",
            ),
            Kind::InvalidTarget => (
                "invalid-target",
                StatusCode::BAD_REQUEST,
                "The connection string cannot be used",
            ),
            Kind::Unauthorized => (
                "unauthorized",
                StatusCode::UNAUTHORIZED,
                "A valid bearer token is required",
            ),
            Kind::TargetRefused => (
                "target-refused",
                StatusCode::FORBIDDEN,
                "The service may not connect to this target",
            ),
            Kind::NotFound => ("not-found", StatusCode::NOT_FOUND, "No such resource"),
            Kind::PayloadTooLarge => (
                "payload-too-large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large",
            ),
            Kind::UnsupportedMediaType => (
                "unsupported-media-type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The request body must be application/json",
            ),
            Kind::NotAcceptable => (
                "not-acceptable",
                StatusCode::NOT_ACCEPTABLE,
                "No representation matches the Accept header",
            ),
            Kind::TooManyChecks => (
                "too-many-checks",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many checks are running",
            ),
            Kind::ShuttingDown => (
                "shutting-down",
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is shutting down",
            ),
            Kind::Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "The service failed",
            ),
        }
    }

    /// The HTTP status of this kind.
    pub fn status(self) -> StatusCode {
        self.describe().1
    }
}

impl Problem {
    /// A problem of `kind` with a detail.
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        let (slug, status, title) = kind.describe();
        Problem {
            kind: format!("https://byod-precheck.dev/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: (kind == Kind::TooManyChecks).then_some(1),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"byod-precheck\""),
            );
        }
        r
    }
}

/// A JSON parser's complaint about a request body, with every quoted value removed (serde
/// quotes the offending value, which may be the password typed into the wrong field).
pub fn body_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        if c == '"' {
            quoted = !quoted;
            if quoted {
                out.push_str("\"…\"");
            }
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_body_error_never_quotes_a_value() {
        let e = serde_json::from_str::<std::collections::BTreeMap<String, bool>>(
            r#"{"probe_write": "hunter2-marker"}"#,
        )
        .unwrap_err();
        let shown = body_error(&e);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("line 1"), "{shown}");
    }
}
