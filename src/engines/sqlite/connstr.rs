//! What a SQLite target may say: `sqlite://path/to/app.db?mode=ro` (also `sqlite:app.db` and
//! `sqlite::memory:`), with SQLite's URI options.

use crate::target::{ConnSpec, Dialect, Form, Opt, OptKind};

/// SQLite's dialect: a file, no port, no password.
pub const DIALECT: Dialect = Dialect {
    engine: crate::engine::Engine::Sqlite,
    schemes: &["sqlite"],
    aliases: &[],
    preamble: None,
    default_port: None,
    password_var: None,
    env: &[],
    socket_option: None,
    options: &[
        Opt::new("mode", OptKind::OneOf(&["ro", "rw", "rwc", "memory"])),
        Opt::new("immutable", OptKind::Bool),
    ],
    ca_option: None,
    forms: &[Form {
        recognise: |s| {
            s.get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("sqlite:"))
        },
        called: "a sqlite: URL",
        parse,
    }],
};

fn parse(input: &str, dialect: &'static Dialect) -> Result<ConnSpec, String> {
    let rest = &input["sqlite:".len()..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path =
        crate::target::percent_decode(path).ok_or("the path is not valid percent-encoded UTF-8")?;
    if path.is_empty() {
        return Err("no file; write sqlite://path/to/app.db or sqlite::memory:".into());
    }
    let mut spec = ConnSpec {
        path: Some(path),
        ..ConnSpec::empty(dialect)
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        spec.set_param(k, v)?;
    }
    Ok(spec)
}
