//! What a PostgreSQL connection string may say: libpq's URL options, its environment and its
//! rules for `options`, `require_auth` and `target_session_attrs`.

use crate::target::{Dialect, EnvField, Opt, OptKind};

/// PostgreSQL's dialect (libpq's URL, environment and options).
pub const DIALECT: Dialect = Dialect {
    engine: crate::engine::Engine::Postgres,
    schemes: &["postgres", "postgresql"],
    aliases: &["postgresql"],
    preamble: Some(crate::tlsprobe::Preamble::Postgres),
    default_port: Some(5432),
    password_var: Some("PGPASSWORD"),
    env: &[
        ("PGHOST", EnvField::Host),
        ("PGPORT", EnvField::Port),
        ("PGUSER", EnvField::User),
        ("PGDATABASE", EnvField::Database),
    ],
    socket_option: Some("host"),
    options: &[
        Opt::new(
            "sslmode",
            OptKind::OneOf(&[
                "disable",
                "allow",
                "prefer",
                "require",
                "verify-ca",
                "verify-full",
            ]),
        ),
        Opt::new("sslrootcert", OptKind::Path),
        Opt::new("sslcert", OptKind::Path),
        Opt::new("sslkey", OptKind::Path).secret(),
        Opt::new("application_name", OptKind::Text),
        Opt::new("connect_timeout", OptKind::Seconds),
        Opt::new("host", OptKind::Text),
        Opt::new("port", OptKind::Target(EnvField::Port)),
        Opt::new("user", OptKind::Target(EnvField::User)),
        Opt::new("password", OptKind::Password),
        Opt::new("dbname", OptKind::Target(EnvField::Database)),
        Opt::new(
            "options",
            OptKind::Rule(|v| pg_startup_options(v).map(drop)),
        ),
        Opt::new("target_session_attrs", OptKind::Rule(target_session_attrs)),
        Opt::new("require_auth", OptKind::Rule(validate_require_auth)),
    ],
    ca_option: Some("sslrootcert"),
    forms: &[],
};

/// One host is reached, so there is nothing to choose between; whether that server is
/// writable is what the writability check reports.
fn target_session_attrs(value: &str) -> Result<(), String> {
    if value.eq_ignore_ascii_case("any") {
        return Ok(());
    }
    Err(format!(
        "target_session_attrs `{}` is not supported (one host is checked: only `any`; the writability check reports a read-only server or a standby)",
        crate::target::key_shown(value)
    ))
}

/// libpq's `options` value (`-c name=value -c other=value`, also `-cname=value` and
/// `--name=value`) as name/value pairs for the driver's startup packet.
pub fn pg_startup_options(value: &str) -> Result<Vec<(String, String)>, String> {
    let bad = || {
        "options must be `-c name=value` settings separated by spaces (e.g. options=-c search_path=app)".to_string()
    };
    let mut out = Vec::new();
    let mut words = value.split_whitespace();
    while let Some(w) = words.next() {
        let setting = if w == "-c" {
            words.next().ok_or_else(bad)?
        } else if let Some(rest) = w.strip_prefix("--").or_else(|| w.strip_prefix("-c")) {
            rest
        } else {
            return Err(bad());
        };
        let (k, v) = setting.split_once('=').ok_or_else(bad)?;
        if k.is_empty() {
            return Err(bad());
        }
        out.push((k.replace('-', "_"), v.to_string()));
    }
    Ok(out)
}

/// The `require_auth` method names (libpq's).
pub const PG_METHODS: [&str; 6] = ["password", "md5", "gss", "sspi", "scram-sha-256", "none"];

/// Checks a `require_auth` value the way libpq does: a comma-separated list of methods, all
/// plain or all negated with `!`.
pub fn validate_require_auth(value: &str) -> Result<(), String> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    let negated = items.iter().filter(|i| i.starts_with('!')).count();
    if negated != 0 && negated != items.len() {
        return Err("require_auth cannot mix methods and negated (!) methods".into());
    }
    for i in &items {
        let m = i.trim_start_matches('!');
        if !PG_METHODS.contains(&m) {
            return Err(format!(
                "require_auth: unknown method `{}` (use {})",
                crate::text::inert(&crate::text::truncate(m, 40)),
                PG_METHODS.join(", ")
            ));
        }
    }
    Ok(())
}
