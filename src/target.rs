//! Connection strings: `postgres://`, `mysql://`, `mssql://`, ADO.NET, JDBC and `sqlite://`
//! parsed into one [`ConnSpec`]. The password lives in a [`Secret`] that never prints, and
//! every error message shows the input with its password masked.

use crate::engine::Engine;
use crate::report::TargetInfo;
use std::collections::BTreeMap;
use std::fmt;

/// A password. Its `Debug` and `Display` print `***`, so it cannot leak through a log line or a
/// panic message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The password itself, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A parsed target.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnSpec {
    pub engine: Engine,
    /// What the engine's connection strings may say (its options, default port, ...).
    pub dialect: &'static Dialect,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Options by their dialect's name for them (`sslmode`, `encrypt`,
    /// `trust_server_certificate`, ...), each validated by its [`OptKind`]; read them through
    /// [`ConnSpec::option`], [`ConnSpec::flag`] and [`ConnSpec::seconds`].
    pub params: BTreeMap<String, String>,
    /// SQLite: the file path, or `:memory:`.
    pub path: Option<String>,
}

/// A connection string that cannot be used. The message names the form of the input and what
/// is wrong with it; it never quotes the input itself, so a password in it cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid connection string ({form}): {reason}")]
pub struct TargetError {
    /// What kind of string it looked like ("a postgres:// URL", "an ADO.NET string").
    pub form: String,
    pub reason: String,
}

/// What one engine's connection strings may say: its URL schemes, default port, where a
/// password may come from, and the options it accepts. Each engine declares its own in its
/// folder (`engines/<engine>/mod.rs`, `DIALECT`), and [`parse_with`] reads a string against
/// the list of them, so the knowledge of an engine stays in one place.
pub struct Dialect {
    pub engine: Engine,
    /// URL schemes (`postgres`, `postgresql`); the first is the one shown.
    pub schemes: &'static [&'static str],
    /// Other names of the engine where one is named (`--engine mariadb`).
    pub aliases: &'static [&'static str],
    /// The port used when none is given; none for a file.
    pub default_port: Option<u16>,
    /// The wire protocol's exchange before TLS (PostgreSQL's SSLRequest, MySQL's greeting,
    /// TDS PRELOGIN): how the TLS inspection and the pre-login look speak to the server.
    pub preamble: Option<crate::tlsprobe::Preamble>,
    /// The environment variable the password may come from (`PGPASSWORD`).
    pub password_var: Option<&'static str>,
    /// Environment variables that fill what the URL leaves out (libpq's `PGHOST`, ...).
    pub env: &'static [(&'static str, EnvField)],
    /// The option that names a Unix-socket directory (a value starting with `/`) or file.
    pub socket_option: Option<&'static str>,
    /// The options it accepts; any other is refused, so a typo is not ignored.
    pub options: &'static [Opt],
    /// The option that names a CA certificate file (the service writes a pasted CA there).
    pub ca_option: Option<&'static str>,
    /// String forms other than `scheme://` URLs (SQLite's `sqlite:` paths, SQL Server's
    /// ADO.NET and JDBC strings).
    pub forms: &'static [Form],
}

impl Dialect {
    /// The option `key` names (its name or one of its aliases, compared as [`norm_key`] does).
    pub fn option(&self, key: &str) -> Option<&'static Opt> {
        self.options
            .iter()
            .find(|o| o.name == key || o.aliases.contains(&key))
    }
}

impl fmt::Debug for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dialect({})", self.engine)
    }
}

impl PartialEq for Dialect {
    fn eq(&self, other: &Self) -> bool {
        self.engine == other.engine
    }
}

/// A part of the target an environment variable may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvField {
    /// A host name, or a socket directory when it starts with `/`; a list's first entry.
    Host,
    Port,
    User,
    Database,
}

/// A connection string form of its own, recognised before URLs.
pub struct Form {
    /// Whether `input` (trimmed) is written in this form.
    pub recognise: fn(&str) -> bool,
    /// What the form is called in messages ("an ADO.NET string").
    pub called: &'static str,
    /// Parses it; the message never quotes the input.
    pub parse: fn(&str, &'static Dialect) -> Result<ConnSpec, String>,
}

/// One option of a dialect.
pub struct Opt {
    /// The name it is kept and shown under.
    pub name: &'static str,
    /// Other spellings accepted for it (`ssl_mode` for `ssl-mode`), lowercased, no spaces.
    pub aliases: &'static [&'static str],
    pub kind: OptKind,
    /// A secret or a path to one (`sslkey`): never shown in a report.
    pub secret: bool,
}

impl Opt {
    /// An option of `kind`, shown in reports.
    pub const fn new(name: &'static str, kind: OptKind) -> Opt {
        Opt {
            name,
            aliases: &[],
            kind,
            secret: false,
        }
    }
    /// The same option, also accepted under `aliases`.
    pub const fn or(self, aliases: &'static [&'static str]) -> Opt {
        Opt { aliases, ..self }
    }
    /// The same option, never shown.
    pub const fn secret(self) -> Opt {
        Opt {
            secret: true,
            ..self
        }
    }
}

/// What an option's value is, and so how it is checked when read.
pub enum OptKind {
    /// Free text (an application name, a character set).
    Text,
    /// A file on this machine.
    Path,
    /// A number of seconds, 0 or more.
    Seconds,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`).
    Bool,
    /// One of a closed set, compared without case.
    OneOf(&'static [&'static str]),
    /// Checked by the dialect's own rule (libpq's `options`, `require_auth`).
    Rule(fn(&str) -> Result<(), String>),
    /// Part of the target itself, not an option: the user, password, database or port.
    Target(EnvField),
    /// The password.
    Password,
}

/// The values [`OptKind::Bool`] accepts, true ones first.
const BOOL_TRUE: [&str; 3] = ["true", "yes", "1"];
const BOOL_FALSE: [&str; 3] = ["false", "no", "0"];

/// Parses any accepted form of connection string against the engines' dialects (the program's
/// list is `engines::DIALECTS`; `ConnSpec::parse` passes it).
pub fn parse_with(input: &str, dialects: &[&'static Dialect]) -> Result<ConnSpec, TargetError> {
    let trimmed = input.trim();
    // The message says what form the input took, never what it held.
    let err = |reason: String| TargetError {
        form: form_of(trimmed, dialects),
        reason,
    };
    if trimmed.is_empty() {
        return Err(err("empty; pass a URL or set DATABASE_URL".into()));
    }
    if trimmed.len() > MAX_INPUT {
        return Err(err(format!(
            "{} bytes is too long for a connection string (at most {MAX_INPUT})",
            trimmed.len()
        )));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(err("contains control characters".into()));
    }
    for d in dialects {
        if let Some(form) = d.forms.iter().find(|f| (f.recognise)(trimmed)) {
            return (form.parse)(trimmed, d).map_err(err);
        }
    }
    let schemes = || {
        let all: Vec<String> = dialects
            .iter()
            .flat_map(|d| d.schemes.iter().map(|s| format!("{s}://")))
            .collect();
        all.join(", ")
    };
    let Some((scheme, _)) = trimmed.split_once("://") else {
        return Err(err(format!("no scheme; start with {}", schemes())));
    };
    let Some(dialect) = dialect_of_scheme(scheme, dialects) else {
        return Err(err(format!("unknown scheme; use {}", schemes())));
    };
    parse_url(trimmed, dialect).map_err(err)
}

/// The dialect whose URL scheme `scheme` is.
fn dialect_of_scheme(scheme: &str, dialects: &[&'static Dialect]) -> Option<&'static Dialect> {
    dialects
        .iter()
        .find(|d| d.schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)))
        .copied()
}

/// libpq's `postgres://user@/db?host=/run/postgresql`: user information before an empty host
/// (a Unix socket named by an option). The URL parser refuses an empty host after `@`, so the
/// authority is rewritten to `user@localhost` and the host forgotten again after parsing.
fn empty_host_after_user(input: &str) -> Option<String> {
    let (scheme, rest) = input.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let userinfo = authority.strip_suffix('@')?;
    Some(format!("{scheme}://{userinfo}@localhost{}", &rest[end..]))
}

/// A `scheme://user:password@host:port/database?option=value` URL of `dialect`.
fn parse_url(input: &str, dialect: &'static Dialect) -> Result<ConnSpec, String> {
    let rewritten = empty_host_after_user(input);
    let url = url::Url::parse(rewritten.as_deref().unwrap_or(input)).map_err(|e| e.to_string())?;
    // `postgres://u:/pw@h/db`: a password holding `/`, `?` or `#` cut the authority short
    // and the rest, password included, became the path. Refused, never shown.
    if url.path().contains('@') || url.fragment().is_some_and(|f| f.contains('@')) {
        return Err(
            "the part after the host holds `@`: a password with `/`, `?` or `#` must be percent-encoded (%2F, %3F, %23)".into(),
        );
    }
    let decode = |s: &str, what: &str| -> Result<String, String> {
        percent_decode(s).ok_or_else(|| format!("the {what} is not valid percent-encoded UTF-8"))
    };
    let user = if url.username().is_empty() {
        None
    } else {
        Some(decode(url.username(), "user name")?)
    };
    let password = match url.password() {
        Some(p) => Some(Secret::new(decode(p, "password")?)),
        None => None,
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty() && rewritten.is_none())
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
    let path = url.path().trim_start_matches('/');
    let database = if path.is_empty() {
        None
    } else {
        Some(decode(path, "database name")?)
    };
    let mut spec = ConnSpec {
        host,
        port: url.port(),
        database,
        user,
        password,
        ..ConnSpec::empty(dialect)
    };
    let mut after_password = false;
    for (k, v) in url.query_pairs() {
        spec.set_param(&k, &v)
            .map_err(|reason| unless_after_password(after_password, reason))?;
        after_password |= k.eq_ignore_ascii_case("password");
    }
    spec.take_socket_host()?;
    spec.fill_from_env(&|k| std::env::var(k).ok().filter(|v| !v.is_empty()))?;
    let socket = dialect
        .socket_option
        .is_some_and(|o| spec.params.contains_key(o));
    if spec.host.is_none() && !socket {
        return Err(format!(
            "no host; write e.g. {}://user@db.example.com{}/app",
            dialect.schemes.first().copied().unwrap_or_default(),
            dialect
                .default_port
                .map(|p| format!(":{p}"))
                .unwrap_or_default()
        ));
    }
    Ok(spec)
}

impl ConnSpec {
    /// A target of `dialect` with nothing said yet.
    pub fn empty(dialect: &'static Dialect) -> ConnSpec {
        ConnSpec {
            engine: dialect.engine,
            dialect,
            host: None,
            port: None,
            database: None,
            user: None,
            password: None,
            params: BTreeMap::new(),
            path: None,
        }
    }

    /// libpq's socket form `postgresql://%2Frun%2Fpostgresql/app`: a host that decodes to a
    /// path is a Unix-socket directory, the same as `?host=/run/postgresql`.
    fn take_socket_host(&mut self) -> Result<(), String> {
        if let Some(option) = self.dialect.socket_option
            && let Some(h) = &self.host
            && h.contains('%')
        {
            let dir = percent_decode(h)
                .ok_or_else(|| "the host is not valid percent-encoded UTF-8".to_string())?;
            if dir.starts_with('/') {
                self.host = None;
                self.params.entry(option.into()).or_insert(dir);
            }
        }
        Ok(())
    }

    /// The dialect's environment (libpq's `PGHOST` — a name or a socket directory —, `PGPORT`,
    /// `PGUSER` and `PGDATABASE`) fills what the string leaves out; the string wins where
    /// both say.
    pub(crate) fn fill_from_env(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        for (var, field) in self.dialect.env {
            let Some(value) = env(var) else { continue };
            // libpq takes lists of hosts and ports; the first is the one tried first.
            let first = || {
                value
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            };
            match field {
                EnvField::Host => {
                    let socket = self.dialect.socket_option;
                    if self.host.is_some() || socket.is_some_and(|o| self.params.contains_key(o)) {
                        continue;
                    }
                    let h = first();
                    match socket {
                        Some(o) if h.starts_with('/') => {
                            self.params.insert(o.into(), h);
                        }
                        _ if !h.is_empty() => self.host = Some(h),
                        _ => {}
                    }
                }
                EnvField::Port if self.port.is_none() => {
                    let p = first();
                    self.port = Some(
                        p.parse()
                            .map_err(|_| format!("{var} `{p}` is not a number from 1 to 65535"))?,
                    );
                }
                EnvField::User if self.user.is_none() => self.user = Some(value),
                EnvField::Database if self.database.is_none() => self.database = Some(value),
                _ => {}
            }
        }
        Ok(())
    }

    /// Sets an option, checked against the dialect: its name (or an alias, kept under the
    /// name), then its value by its kind.
    pub fn set_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        let key = norm_key(key);
        let Some(opt) = self.dialect.option(&key) else {
            let known: Vec<&str> = self.dialect.options.iter().map(|o| o.name).collect();
            return Err(format!(
                "unknown option `{}` for {} (known: {})",
                key_shown(&key),
                self.engine,
                known.join(", ")
            ));
        };
        let name = opt.name;
        match &opt.kind {
            OptKind::OneOf(allowed) if !allowed.iter().any(|a| a.eq_ignore_ascii_case(value)) => {
                return Err(format!(
                    "option `{name}` cannot be `{}` (use one of: {})",
                    key_shown(value),
                    allowed.join(", ")
                ));
            }
            OptKind::Bool if parse_bool(value).is_none() => {
                return Err(format!(
                    "option `{name}` cannot be `{}` (use one of: true, false, yes, no, 1, 0)",
                    key_shown(value)
                ));
            }
            OptKind::Seconds if value.parse::<f64>().map_or(true, |v| v.is_nan() || v < 0.0) => {
                return Err(format!(
                    "option `{name}` must be a number of seconds, not `{}`",
                    key_shown(value)
                ));
            }
            OptKind::Rule(rule) => rule(value)?,
            OptKind::Password => {
                self.password = Some(Secret::new(value));
                return Ok(());
            }
            OptKind::Target(field) => {
                match field {
                    EnvField::User => self.user = Some(value.to_string()),
                    EnvField::Database => self.database = Some(value.to_string()),
                    EnvField::Port => {
                        self.port =
                            Some(value.parse().map_err(|_| {
                                "the port is not a number from 1 to 65535".to_string()
                            })?);
                    }
                    EnvField::Host => self.host = Some(value.to_string()),
                }
                return Ok(());
            }
            _ => {}
        }
        let value = match opt.kind {
            OptKind::OneOf(_) | OptKind::Bool => value.to_ascii_lowercase(),
            _ => value.to_string(),
        };
        self.params.insert(name.to_string(), value);
        Ok(())
    }

    /// An option's value, by its dialect name.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A [`OptKind::Bool`] option: `Some(false)` for `immutable=false`, not "given".
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.option(name).and_then(parse_bool)
    }

    /// A [`OptKind::Seconds`] option, when above 0 (0 means "no limit of its own" in libpq).
    pub fn seconds(&self, name: &str) -> Option<std::time::Duration> {
        self.option(name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| std::time::Duration::from_secs_f64(s.min(3600.0)))
    }

    /// The socket the target names (a directory or file), when it is reached without TCP.
    pub fn socket(&self) -> Option<&str> {
        let option = self.dialect.socket_option?;
        let v = self.option(option)?;
        (option != "host" || v.starts_with('/')).then_some(v)
    }

    /// The host to reach over TCP: the URL's, else a `host=` parameter that is not a socket
    /// directory (libpq's `postgres:///app?host=db`), else localhost. The one answer every
    /// step (DNS, TCP, TLS inspection, the driver's login) uses.
    pub fn tcp_host(&self) -> String {
        self.host
            .clone()
            .or_else(|| {
                self.params
                    .get("host")
                    .filter(|h| !h.starts_with('/'))
                    .cloned()
            })
            .unwrap_or_else(|| "localhost".into())
    }

    /// The port, else the engine's default (0 for a file).
    pub fn port_or_default(&self) -> u16 {
        self.port
            .unwrap_or(self.dialect.default_port.unwrap_or_default())
    }

    /// What the report says about the target: everything but secrets.
    pub fn target_info(&self) -> TargetInfo {
        TargetInfo {
            engine: self.engine,
            // Where the TCP steps went; none for a file or a local socket.
            host: self.host.clone().or_else(|| {
                (self.dialect.default_port.is_some() && self.socket().is_none())
                    .then(|| self.tcp_host())
            }),
            port: self.dialect.default_port.map(|_| self.port_or_default()),
            database: self.database.clone(),
            user: self.user.clone(),
            path: self.path.clone(),
            options: self
                .params
                .iter()
                .filter(|(k, _)| {
                    !k.contains("password") && !self.dialect.option(k).is_some_and(|o| o.secret)
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The target as it may be shown anywhere (reports, errors, a fleet's summary): built from
    /// the parsed parts, with no password, options that are secrets left out, and every part
    /// made inert. `engine://user@host:port/database?option=value`, or `sqlite://path`.
    pub fn shown(&self) -> String {
        let s = self.target_info().url(|_| true);
        crate::text::inert(&crate::text::truncate(&s, 300))
    }

    /// Replaces every occurrence of the password, as given or percent-encoded, in a driver's
    /// message (belt and braces: the drivers are given the password separately, never inside
    /// a URL, and messages are built from parsed parts).
    pub fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if p.expose().len() >= 3 => {
                let pw = p.expose();
                let encoded: String = url::form_urlencoded::byte_serialize(pw.as_bytes()).collect();
                let mut out = text.replace(pw, "***");
                if encoded.len() >= 3 && encoded != pw {
                    out = out.replace(&encoded, "***");
                }
                out
            }
            _ => text.to_string(),
        }
    }
}

/// The longest connection string accepted: room for a cloud access token as the password
/// (IAM and Azure AD tokens run to a few thousand characters), percent-encoded.
const MAX_INPUT: usize = 32 * 1024;

/// What kind of connection string `input` looks like, for error messages: only a known scheme
/// or form, never any part of the input.
fn form_of(input: &str, dialects: &[&'static Dialect]) -> String {
    if let Some(form) = dialects
        .iter()
        .flat_map(|d| d.forms.iter())
        .find(|f| (f.recognise)(input))
    {
        return form.called.into();
    }
    match input.split_once("://") {
        Some((scheme, _)) if dialect_of_scheme(scheme, dialects).is_some() => {
            format!("a {}:// URL", scheme.to_ascii_lowercase())
        }
        Some(_) => "a URL with an unknown scheme".into(),
        None => "not a URL".into(),
    }
}

/// Whether a bool option's value says yes (`true`, `yes`, `1`) or no, in any case.
fn parse_bool(value: &str) -> Option<bool> {
    let v = value.to_ascii_lowercase();
    if BOOL_TRUE.contains(&v.as_str()) {
        Some(true)
    } else if BOOL_FALSE.contains(&v.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// A problem found after a password was read may be about part of that password (a `;` or `&`
/// that ended it early): its words are then not repeated.
pub(crate) fn unless_after_password(after_password: bool, reason: String) -> String {
    if after_password {
        "an option after the password is not understood (not shown: it may be part of the \
         password; a password holding `;` or `&` must be quoted, or percent-encoded in a URL)"
            .into()
    } else {
        reason
    }
}

/// A key as compared: lowercased, spaces dropped (`User Id`, `Pass Word`).
pub(crate) fn norm_key(k: &str) -> String {
    k.to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A key or option value for a message, only when it looks like one (a word of letters,
/// digits, spaces, `_ - .`, at most 40 characters): anything else may be a mistyped URL with
/// its password (`postgres:/u:pw@h/db` read as `key=value`), and is not repeated.
pub(crate) fn key_shown(k: &str) -> String {
    let lower = norm_key(k);
    let plain = k.chars().count() <= 40
        && k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-.".contains(c))
        // `PasswordSECRET=` (an `=` lost): a password run into its keyword.
        && !lower.contains("pass")
        && !lower.contains("pwd");
    if plain {
        k.to_string()
    } else {
        "(not shown: it does not look like an option)".to_string()
    }
}

pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn postgres_url_with_options() {
        let s = ConnSpec::parse("postgresql://app:s%40cret@db.example.com:6432/app?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(s.engine, Engine::Postgres);
        assert_eq!(s.password.as_ref().unwrap().expose(), "s@cret");
        assert_eq!(
            (s.host.as_deref(), s.port, s.database.as_deref()),
            (Some("db.example.com"), Some(6432), Some("app"))
        );
        assert_eq!(s.params["sslmode"], "verify-full");
        let info = serde_json::to_string(&s.target_info()).unwrap();
        assert!(!info.contains("cret"));
        assert!(!format!("{s:?}").contains("cret"));
    }

    #[test]
    fn tcp_host_takes_the_url_then_a_host_parameter_then_localhost() {
        let host = |u: &str| ConnSpec::parse(u).unwrap().tcp_host();
        assert_eq!(host("postgres://u@db.example.com/app"), "db.example.com");
        assert_eq!(
            host("postgres:///app?host=db.example.com"),
            "db.example.com"
        );
        assert_eq!(
            host("postgres:///app?host=/var/run/postgresql"),
            "localhost"
        );
        assert_eq!(host("mssql://u@sql.example.com/app"), "sql.example.com");
    }

    #[test]
    fn sqlite_forms() {
        assert_eq!(
            ConnSpec::parse("sqlite::memory:").unwrap().path.as_deref(),
            Some(":memory:")
        );
        assert_eq!(
            ConnSpec::parse("sqlite:///tmp/a.db")
                .unwrap()
                .path
                .as_deref(),
            Some("/tmp/a.db")
        );
        assert_eq!(
            ConnSpec::parse("sqlite://app.db?mode=ro").unwrap().params["mode"],
            "ro"
        );
        assert!(ConnSpec::parse("sqlite://").is_err());
    }

    #[test]
    fn ado_and_jdbc() {
        let a = ConnSpec::parse("Server=tcp:db.example.com,1433;Database=app;User Id=app;Password=p;w;Encrypt=true;TrustServerCertificate=false").unwrap_err();
        assert!(!a.to_string().contains("p;w"), "{a}");
        let a = ConnSpec::parse("Server=tcp:db.example.com,1433;Initial Catalog=app;User Id=app;Password=pw1;Encrypt=true;TrustServerCertificate=true").unwrap();
        assert_eq!(
            (a.engine, a.port, a.database.as_deref()),
            (Engine::Mssql, Some(1433), Some("app"))
        );
        assert_eq!(a.params["trust_server_certificate"], "true");
        let j = ConnSpec::parse(
            "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=pw2;encrypt=true",
        )
        .unwrap();
        assert_eq!(
            (
                j.host.as_deref(),
                j.user.as_deref(),
                j.password.unwrap().expose()
            ),
            (Some("db"), Some("sa"), "pw2")
        );
    }

    #[test]
    fn errors_never_show_the_password() {
        for bad in [
            "postgres://u:TOPSECRET@host:99999/db",
            "postgres://u:TOPSECRET@/db",
            "foo://u:TOPSECRET@h/db",
            "postgres://u:TOP/SECRET@h:x/db",
            "postgres://u:TOPSECRET@h/db?bogus=1",
            "Server=h;Password=TOPSECRET;Nonsense=1",
            "jdbc:sqlserver://h:1433;password=TOPSECRET;weird",
            "mysql://u:TOPSECRET@h/%ff",
        ] {
            let e = ConnSpec::parse(bad).unwrap_err().to_string();
            assert!(
                !e.contains("TOPSECRET") && !e.contains("SECRET"),
                "{bad} -> {e}"
            );
        }
    }

    #[test]
    fn ado_and_jdbc_values_quoted_braced_and_spaced_as_the_drivers_read_them() {
        let pw = |input: &str| {
            ConnSpec::parse(input)
                .unwrap()
                .password
                .map(|p| p.expose().to_string())
        };
        assert_eq!(
            pw("Server=h;Password = x y ;Encrypt=true").as_deref(),
            Some("x y")
        );
        assert_eq!(pw("Server=h;Pass Word=abc").as_deref(), Some("abc"));
        assert_eq!(pw("Server=h;PWD=\"a;b\"\"c\"").as_deref(), Some("a;b\"c"));
        assert_eq!(pw("Server=h;Pwd='it''s;x'").as_deref(), Some("it's;x"));
        assert_eq!(pw("Server=h;Password={a;b}}c}").as_deref(), Some("a;b}c"));
        assert_eq!(pw("Server=h;Password=a@b&c=d").as_deref(), Some("a@b&c=d"));
        assert_eq!(
            pw("jdbc:sqlserver://h:1433;user=sa;password={x;y=z}};w};encrypt=true").as_deref(),
            Some("x;y=z};w")
        );
        let token = "T".repeat(4000);
        assert_eq!(
            pw(&format!("postgres://u:{token}@h/db")).map(|p| p.len()),
            Some(4000)
        );
    }

    #[test]
    fn errors_after_a_password_never_quote_what_follows_it() {
        for bad in [
            "Server=h;Password=abc;SECRETTAIL",
            "Server=h;Password=abc;SECRETTAIL=1",
            "Server=h;Password=\"abcSECRETTAIL",
            "Server=h;Password=\"abc\"SECRETTAIL",
            "jdbc:sqlserver://h;password={abcSECRETTAIL",
            "jdbc:sqlserver://h;password=abc;SECRETTAIL=2",
            "postgres://h/db?password=abc&SECRETTAIL=1",
            "postgres://h/db?password=abc&sslmode=SECRETTAIL",
            &format!("postgres://u:{}SECRETTAIL@h:notaport/db", "p".repeat(500)),
        ] {
            let e = ConnSpec::parse(bad).unwrap_err().to_string();
            assert!(
                !e.contains("SECRETTAIL") && !e.contains("abc"),
                "{bad} -> {e}"
            );
        }
        // Before any password, the unknown keyword is named.
        let e = ConnSpec::parse("Server=h;Nonsense=1;Password=x").unwrap_err();
        assert!(e.to_string().contains("`Nonsense`"), "{e}");
    }

    #[test]
    fn the_shown_target_is_built_from_parts() {
        let s = ConnSpec::parse(
            "Server=tcp:db,1433;Database=app;User Id=sa;Password=\"postgres;1\";Encrypt=true",
        )
        .unwrap();
        assert_eq!(s.shown(), "mssql://sa@db:1433/app?encrypt=true");
        let s = ConnSpec::parse("postgres://a:b@h/d%1b?application_name=x%e2%80%aey").unwrap();
        assert_eq!(
            s.shown(),
            "postgres://a@h:5432/d\\u{1b}?application_name=x\\u{202e}y"
        );
    }

    #[test]
    fn options_that_cannot_be_applied_are_refused() {
        assert!(ConnSpec::parse("postgres://h/db?target_session_attrs=read-write").is_err());
        assert!(ConnSpec::parse("postgres://h/db?target_session_attrs=any").is_ok());
        assert!(ConnSpec::parse("postgres://h/db?options=-c%20search_path%3Dapp").is_ok());
        assert!(ConnSpec::parse("postgres://h/db?options=bogus").is_err());
        assert!(ConnSpec::parse("postgres://h/db?require_auth=scram-sha-256").is_ok());
        assert!(ConnSpec::parse("postgres://h/db?require_auth=kerberos").is_err());
        assert_eq!(
            crate::engines::postgres::connstr::pg_startup_options(
                "-c search_path=app --lock-timeout=5s -cwork_mem=4MB"
            )
            .unwrap(),
            vec![
                ("search_path".to_string(), "app".to_string()),
                ("lock_timeout".to_string(), "5s".to_string()),
                ("work_mem".to_string(), "4MB".to_string())
            ]
        );
    }

    #[test]
    fn typed_options_read_their_value_not_their_presence() {
        let s = ConnSpec::parse("sqlite://app.db?immutable=false&mode=RO").unwrap();
        assert_eq!(s.flag("immutable"), Some(false));
        assert_eq!(
            s.option("mode"),
            Some("ro"),
            "closed sets are kept lowercased"
        );
        assert!(ConnSpec::parse("sqlite://app.db?immutable=maybe").is_err());
        // An alias is kept under the option's name.
        let m = ConnSpec::parse("mysql://u@h/db?ssl_mode=REQUIRED&ssl_ca=/ca.pem").unwrap();
        assert_eq!(m.option("ssl-mode"), Some("required"));
        assert_eq!(m.option("ssl-ca"), Some("/ca.pem"));
        let t = ConnSpec::parse("postgres://h/db?connect_timeout=2.5").unwrap();
        assert_eq!(
            t.seconds("connect_timeout"),
            Some(std::time::Duration::from_millis(2500))
        );
        assert_eq!(
            ConnSpec::parse("postgres://h/db?connect_timeout=0")
                .unwrap()
                .seconds("connect_timeout"),
            None,
            "0 is libpq's no limit of its own"
        );
    }

    #[test]
    fn unknown_scheme_and_option_are_named() {
        assert!(
            ConnSpec::parse("oracle://h/db")
                .unwrap_err()
                .to_string()
                .contains("unknown scheme")
        );
        assert!(
            ConnSpec::parse("postgres://h/db?sslmod=require")
                .unwrap_err()
                .to_string()
                .contains("unknown option `sslmod`")
        );
    }

    #[test]
    fn postgres_unix_socket_hosts_in_both_libpq_forms() {
        for url in [
            "postgres:///app?host=/run/postgresql",
            "postgresql://%2Frun%2Fpostgresql/app",
            "postgres://user@/app?host=/run/postgresql",
            "postgres://user:pw@/app?host=/run/postgresql",
        ] {
            let s = ConnSpec::parse(url).unwrap();
            assert_eq!(s.host, None, "{url}");
            assert_eq!(s.params["host"], "/run/postgresql", "{url}");
            assert_eq!(s.database.as_deref(), Some("app"), "{url}");
            assert_eq!(
                s.target_info().host,
                None,
                "{url}: no TCP host in the report"
            );
        }
    }

    #[test]
    fn pg_environment_fills_what_the_url_leaves_out() {
        let env = |k: &str| match k {
            "PGHOST" => Some("/var/run/postgresql".to_string()),
            "PGPORT" => Some("5433".to_string()),
            "PGUSER" => Some("envuser".to_string()),
            "PGDATABASE" => Some("envdb".to_string()),
            _ => None,
        };
        let mut s = ConnSpec::parse("postgres://urluser@db.example.com/").unwrap();
        s.fill_from_env(&env).unwrap();
        // The URL wins where both say.
        assert_eq!(s.host.as_deref(), Some("db.example.com"));
        assert_eq!(s.user.as_deref(), Some("urluser"));
        assert_eq!((s.port, s.database.as_deref()), (Some(5433), Some("envdb")));
        assert!(!s.params.contains_key("host"));
        let mut bare = ConnSpec::empty(crate::engines::dialect(Engine::Postgres));
        bare.fill_from_env(&env).unwrap();
        assert_eq!(bare.params["host"], "/var/run/postgresql");
        assert_eq!(bare.user.as_deref(), Some("envuser"));
        let bad = |k: &str| (k == "PGPORT").then(|| "x".to_string());
        assert!(
            bare.clone().fill_from_env(&bad).is_ok(),
            "the port is already set"
        );
        let mut b = ConnSpec::parse("postgres://h/db").unwrap();
        assert!(b.fill_from_env(&bad).unwrap_err().contains("PGPORT"));
    }
}
