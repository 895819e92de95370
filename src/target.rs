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
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Options, keys lowercased (`sslmode`, `encrypt`, `trust_server_certificate`, ...).
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

/// Options each engine accepts in its URL; anything else is refused so a typo is not ignored.
fn known_params(engine: Engine) -> &'static [&'static str] {
    match engine {
        Engine::Postgres => &[
            "sslmode",
            "sslrootcert",
            "sslcert",
            "sslkey",
            "application_name",
            "connect_timeout",
            "host",
            "port",
            "user",
            "password",
            "dbname",
            "options",
            "target_session_attrs",
            "require_auth",
        ],
        Engine::Mysql => &[
            "ssl-mode",
            "ssl_mode",
            "sslmode",
            "ssl-ca",
            "ssl_ca",
            "ssl-cert",
            "ssl-key",
            "charset",
            "connect_timeout",
            "socket",
            "user",
            "password",
        ],
        Engine::Mssql => &[
            "encrypt",
            "trust_server_certificate",
            "trustservercertificate",
            "ca",
            "trust_cert_ca",
            "hostnameincertificate",
            "instance",
            "application_name",
            "applicationname",
            "connect_timeout",
            "logintimeout",
            "database",
            "databasename",
            "user",
            "password",
        ],
        Engine::Sqlite => &["mode", "immutable"],
    }
}

/// The values an option accepts, where they form a closed set.
fn allowed_values(engine: Engine, key: &str) -> Option<&'static [&'static str]> {
    const BOOL: &[&str] = &["true", "false", "yes", "no", "1", "0"];
    match (engine, key) {
        (Engine::Postgres, "sslmode") => Some(&[
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ]),
        (Engine::Mysql, "ssl-mode" | "ssl_mode" | "sslmode") => Some(&[
            "disabled",
            "preferred",
            "required",
            "verify_ca",
            "verify_identity",
        ]),
        (Engine::Mssql, "encrypt") => Some(&[
            "true",
            "false",
            "yes",
            "no",
            "strict",
            "mandatory",
            "optional",
            "off",
            "on",
        ]),
        (Engine::Mssql, "trust_server_certificate" | "trustservercertificate") => Some(BOOL),
        (Engine::Sqlite, "mode") => Some(&["ro", "rw", "rwc", "memory"]),
        (Engine::Sqlite, "immutable") => Some(BOOL),
        _ => None,
    }
}

impl ConnSpec {
    /// Parses any accepted form of connection string.
    pub fn parse(input: &str) -> Result<ConnSpec, TargetError> {
        let trimmed = input.trim();
        // The message says what form the input took, never what it held.
        let err = |reason: String| TargetError {
            form: form_of(trimmed),
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
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("sqlite:") {
            return parse_sqlite(trimmed).map_err(err);
        }
        if lower.starts_with("jdbc:sqlserver://") {
            return parse_jdbc(trimmed).map_err(err);
        }
        if !trimmed.contains("://") && trimmed.contains('=') {
            return parse_ado(trimmed).map_err(err);
        }
        let Some((scheme, _)) = trimmed.split_once("://") else {
            return Err(err(
                "no scheme; start with postgres://, mysql://, mariadb://, mssql://, sqlserver:// or sqlite://".into(),
            ));
        };
        let engine = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Engine::Postgres,
            "mysql" | "mariadb" => Engine::Mysql,
            "mssql" | "sqlserver" => Engine::Mssql,
            _ => {
                return Err(err(
                    "unknown scheme; use postgres://, mysql://, mariadb://, mssql://, sqlserver:// or sqlite://".into(),
                ));
            }
        };
        let url = url::Url::parse(trimmed).map_err(|e| err(e.to_string()))?;
        // `postgres://u:/pw@h/db`: a password holding `/`, `?` or `#` cut the authority short
        // and the rest, password included, became the path. Refused, never shown.
        if url.path().contains('@') || url.fragment().is_some_and(|f| f.contains('@')) {
            return Err(err(
                "the part after the host holds `@`: a password with `/`, `?` or `#` must be percent-encoded (%2F, %3F, %23)".into(),
            ));
        }
        let decode = |s: &str, what: &str| -> Result<String, String> {
            percent_decode(s)
                .ok_or_else(|| format!("the {what} is not valid percent-encoded UTF-8"))
        };
        let user = if url.username().is_empty() {
            None
        } else {
            Some(decode(url.username(), "user name").map_err(err)?)
        };
        let password = match url.password() {
            Some(p) => Some(Secret::new(decode(p, "password").map_err(err)?)),
            None => None,
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_string());
        let path = url.path().trim_start_matches('/');
        let database = if path.is_empty() {
            None
        } else {
            Some(decode(path, "database name").map_err(err)?)
        };
        let mut spec = ConnSpec {
            engine,
            host,
            port: url.port(),
            database,
            user,
            password,
            params: BTreeMap::new(),
            path: None,
        };
        let mut after_password = false;
        for (k, v) in url.query_pairs() {
            spec.set_param(&k, &v)
                .map_err(|reason| err(unless_after_password(after_password, reason)))?;
            after_password |= k.eq_ignore_ascii_case("password");
        }
        if engine == Engine::Postgres {
            spec.take_pg_socket_host().map_err(err)?;
            spec.fill_from_pg_env(&|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
                .map_err(err)?;
        }
        if spec.host.is_none()
            && !spec.params.contains_key("host")
            && !spec.params.contains_key("socket")
        {
            return Err(err(
                "no host; write e.g. postgres://user@db.example.com:5432/app".into(),
            ));
        }
        Ok(spec)
    }

    /// libpq's socket form `postgresql://%2Frun%2Fpostgresql/app`: a host that decodes to a
    /// path is a Unix-socket directory, the same as `?host=/run/postgresql`.
    fn take_pg_socket_host(&mut self) -> Result<(), String> {
        if let Some(h) = &self.host
            && h.contains('%')
        {
            let dir = percent_decode(h)
                .ok_or_else(|| "the host is not valid percent-encoded UTF-8".to_string())?;
            if dir.starts_with('/') {
                self.host = None;
                self.params.entry("host".into()).or_insert(dir);
            }
        }
        Ok(())
    }

    /// libpq's environment: `PGHOST` (a name or a socket directory), `PGPORT`, `PGUSER` and
    /// `PGDATABASE` fill what the URL leaves out; the URL wins where both say.
    pub(crate) fn fill_from_pg_env(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), String> {
        if self.host.is_none()
            && !self.params.contains_key("host")
            && let Some(h) = env("PGHOST")
        {
            // libpq takes a list; the first host is the one tried first.
            let h = h.split(',').next().unwrap_or_default().trim().to_string();
            if h.starts_with('/') {
                self.params.insert("host".into(), h);
            } else if !h.is_empty() {
                self.host = Some(h);
            }
        }
        if self.port.is_none()
            && let Some(p) = env("PGPORT")
        {
            let p = p.split(',').next().unwrap_or_default().trim().to_string();
            self.port = Some(
                p.parse()
                    .map_err(|_| format!("PGPORT `{p}` is not a number from 1 to 65535"))?,
            );
        }
        if self.user.is_none() {
            self.user = env("PGUSER");
        }
        if self.database.is_none() {
            self.database = env("PGDATABASE");
        }
        Ok(())
    }

    fn set_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        let key = key.to_ascii_lowercase().replace(' ', "");
        if !known_params(self.engine).contains(&key.as_str()) {
            return Err(format!(
                "unknown option `{}` for {} (known: {})",
                key_shown(&key),
                self.engine,
                known_params(self.engine).join(", ")
            ));
        }
        if let Some(allowed) = allowed_values(self.engine, &key)
            && !allowed.iter().any(|a| a.eq_ignore_ascii_case(value))
        {
            return Err(format!(
                "option `{key}` cannot be `{}` (use one of: {})",
                key_shown(value),
                allowed.join(", ")
            ));
        }
        if key.contains("timeout") && value.parse::<f64>().map_or(true, |v| v.is_nan() || v < 0.0) {
            return Err(format!(
                "option `{key}` must be a number of seconds, not `{}`",
                key_shown(value)
            ));
        }
        if key == "require_auth" {
            validate_require_auth(value)?;
        }
        if self.engine == Engine::Postgres && key == "options" {
            pg_startup_options(value)?;
        }
        if key == "target_session_attrs" && !value.eq_ignore_ascii_case("any") {
            // One host is reached, so there is nothing to choose between; whether that server
            // is writable is what the writability check reports.
            return Err(format!(
                "target_session_attrs `{}` is not supported (one host is checked: only `any`; the writability check reports a read-only server or a standby)",
                key_shown(value)
            ));
        }
        match key.as_str() {
            "password" => self.password = Some(Secret::new(value)),
            "user" => self.user = Some(value.to_string()),
            "database" | "databasename" | "dbname" => self.database = Some(value.to_string()),
            "port" => {
                self.port = Some(
                    value
                        .parse()
                        .map_err(|_| "the port is not a number from 1 to 65535".to_string())?,
                );
            }
            _ => {
                self.params.insert(key, value.to_string());
            }
        }
        Ok(())
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

    /// The default port of the engine, used when none is given.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.engine {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
            Engine::Mssql => 1433,
            Engine::Sqlite => 0,
        })
    }

    /// What the report says about the target: everything but secrets.
    pub fn target_info(&self) -> TargetInfo {
        TargetInfo {
            engine: self.engine,
            // Where the TCP steps went; none for a file or a local socket.
            host: self.host.clone().or_else(|| {
                let socket = self.params.contains_key("socket")
                    || self.params.get("host").is_some_and(|h| h.starts_with('/'));
                (self.engine != Engine::Sqlite && !socket).then(|| self.tcp_host())
            }),
            port: (self.engine != Engine::Sqlite).then(|| self.port_or_default()),
            database: self.database.clone(),
            user: self.user.clone(),
            path: self.path.clone(),
            options: self
                .params
                .iter()
                .filter(|(k, _)| !k.contains("password") && k.as_str() != "sslkey")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The target as it may be shown anywhere (reports, errors, a fleet's summary): built from
    /// the parsed parts, with no password, options that are secrets left out, and every part
    /// made inert. `engine://user@host:port/database?option=value`, or `sqlite://path`.
    pub fn shown(&self) -> String {
        let t = self.target_info();
        let mut s = match (&t.host, &t.path) {
            (_, Some(p)) => format!("sqlite://{p}"),
            (host, None) => format!(
                "{}://{}{}{}/{}",
                t.engine,
                t.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default(),
                host.as_deref().unwrap_or(""),
                t.port.map(|p| format!(":{p}")).unwrap_or_default(),
                t.database.as_deref().unwrap_or("")
            ),
        };
        let opts: Vec<String> = t.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !opts.is_empty() {
            s.push('?');
            s.push_str(&opts.join("&"));
        }
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

fn parse_sqlite(input: &str) -> Result<ConnSpec, String> {
    let rest = &input["sqlite:".len()..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = percent_decode(path).ok_or("the path is not valid percent-encoded UTF-8")?;
    if path.is_empty() {
        return Err("no file; write sqlite://path/to/app.db or sqlite::memory:".into());
    }
    let mut spec = ConnSpec {
        engine: Engine::Sqlite,
        host: None,
        port: None,
        database: None,
        user: None,
        password: None,
        params: BTreeMap::new(),
        path: Some(path),
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        spec.set_param(k, v)?;
    }
    Ok(spec)
}

/// The longest connection string accepted: room for a cloud access token as the password
/// (IAM and Azure AD tokens run to a few thousand characters), percent-encoded.
const MAX_INPUT: usize = 32 * 1024;

/// What kind of connection string `input` looks like, for error messages: only a known scheme
/// or form, never any part of the input.
fn form_of(input: &str) -> String {
    let lower = input.to_ascii_lowercase();
    if lower.starts_with("sqlite:") {
        return "a sqlite: URL".into();
    }
    if lower.starts_with("jdbc:sqlserver://") {
        return "a jdbc:sqlserver:// URL".into();
    }
    match lower.split_once("://") {
        Some((scheme, _)) => {
            let known = [
                "postgres",
                "postgresql",
                "mysql",
                "mariadb",
                "mssql",
                "sqlserver",
            ];
            if known.contains(&scheme) {
                format!("a {scheme}:// URL")
            } else {
                "a URL with an unknown scheme".into()
            }
        }
        None if input.contains('=') => "an ADO.NET string".into(),
        None => "not a URL".into(),
    }
}

/// A problem found after a password was read may be about part of that password (a `;` or `&`
/// that ended it early): its words are then not repeated.
fn unless_after_password(after_password: bool, reason: String) -> String {
    if after_password {
        "an option after the password is not understood (not shown: it may be part of the \
         password; a password holding `;` or `&` must be quoted, or percent-encoded in a URL)"
            .into()
    } else {
        reason
    }
}

/// A key and value of a `key=value;...` string, the value unquoted.
struct Pair {
    key: String,
    value: String,
}

/// Splits an ADO.NET connection string the way SqlClient does: `;` separates pairs; a value in
/// `"..."` or `'...'` (the quote doubled inside) or `{...}` (`}}` inside) may hold `;`, `=` and
/// spaces; `==` in a key is a literal `=`; space around keys and unquoted values is dropped.
/// Errors never quote the input.
fn split_ado(input: &str) -> Result<Vec<Pair>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let n = chars.len();
    loop {
        while i < n && (chars[i].is_whitespace() || chars[i] == ';') {
            i += 1;
        }
        if i >= n {
            return Ok(out);
        }
        let mut key = String::new();
        loop {
            if i >= n || chars[i] == ';' {
                return Err(format!(
                    "part {} has no `=` (a password holding `;` must be quoted: Password=\"...\")",
                    out.len() + 1
                ));
            }
            if chars[i] == '=' {
                if chars.get(i + 1) == Some(&'=') {
                    key.push('=');
                    i += 2;
                    continue;
                }
                i += 1;
                break;
            }
            key.push(chars[i]);
            i += 1;
        }
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        match chars.get(i) {
            Some(&q) if q == '"' || q == '\'' || q == '{' => {
                let close = if q == '{' { '}' } else { q };
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!(
                                "the value of part {} opens a quote that is never closed",
                                out.len() + 1
                            ));
                        }
                        Some(&c) if c == close => {
                            if chars.get(i + 1) == Some(&close) {
                                value.push(close);
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(&c) => {
                            value.push(c);
                            i += 1;
                        }
                    }
                }
                while i < n && chars[i].is_whitespace() {
                    i += 1;
                }
                if i < n && chars[i] != ';' {
                    return Err(format!(
                        "the quoted value of part {} is followed by more text before `;`",
                        out.len() + 1
                    ));
                }
            }
            _ => {
                while i < n && chars[i] != ';' {
                    value.push(chars[i]);
                    i += 1;
                }
                value = value.trim_end().to_string();
            }
        }
        out.push(Pair {
            key: key.trim().to_string(),
            value,
        });
    }
}

/// Splits the properties of a JDBC URL: `;` separates them; a value in `{...}` (`}}` inside)
/// may hold `;` and `=`.
fn split_jdbc(props: &str) -> Result<Vec<Pair>, String> {
    let chars: Vec<char> = props.chars().collect();
    let (n, mut i, mut out) = (chars.len(), 0, Vec::new());
    loop {
        while i < n && chars[i] == ';' {
            i += 1;
        }
        if i >= n {
            return Ok(out);
        }
        let mut key = String::new();
        while i < n && chars[i] != '=' {
            if chars[i] == ';' {
                return Err(format!(
                    "property {} has no `=` (a password holding `;` must be in braces: password={{...}})",
                    out.len() + 1
                ));
            }
            key.push(chars[i]);
            i += 1;
        }
        if i >= n {
            return Err(format!("property {} has no `=`", out.len() + 1));
        }
        i += 1;
        let mut value = String::new();
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                            "the value of property {} opens `{{` that is never closed",
                            out.len() + 1
                        ));
                    }
                    Some('}') if chars.get(i + 1) == Some(&'}') => {
                        value.push('}');
                        i += 2;
                    }
                    Some('}') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            if i < n && chars[i] != ';' {
                return Err(format!(
                    "the braced value of property {} is followed by more text before `;`",
                    out.len() + 1
                ));
            }
        } else {
            while i < n && chars[i] != ';' {
                value.push(chars[i]);
                i += 1;
            }
        }
        out.push(Pair {
            key: key.trim().to_string(),
            value: value.trim().to_string(),
        });
    }
}

/// A key as compared: lowercased, spaces dropped (`User Id`, `Pass Word`).
fn norm_key(k: &str) -> String {
    k.to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A key or option value for a message, only when it looks like one (a word of letters,
/// digits, spaces, `_ - .`, at most 40 characters): anything else may be a mistyped URL with
/// its password (`postgres:/u:pw@h/db` read as `key=value`), and is not repeated.
fn key_shown(k: &str) -> String {
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

/// `host[\instance][,port]` (ADO.NET) or `host[\instance][:port]` (JDBC).
fn set_server(spec: &mut ConnSpec, v: &str, sep: char) -> Result<(), String> {
    let v = v.strip_prefix("tcp:").unwrap_or(v);
    let (hostpart, port) = match v.rsplit_once(sep) {
        Some((h, p)) => (
            h,
            Some(
                p.trim()
                    .parse::<u16>()
                    .map_err(|_| "the port is not a number from 1 to 65535".to_string())?,
            ),
        ),
        None => (v, None),
    };
    let (host, instance) = match hostpart.split_once('\\') {
        Some((h, i)) => (h, Some(i)),
        None => (hostpart, None),
    };
    let host = host.trim();
    spec.host = Some(if host == "." || host.eq_ignore_ascii_case("(local)") {
        "localhost".into()
    } else {
        host.to_string()
    });
    spec.port = port;
    if let Some(i) = instance {
        spec.params.insert("instance".into(), i.to_string());
    }
    Ok(())
}

/// `Server=tcp:host,1433;Database=app;User Id=u;Password=p;Encrypt=true;TrustServerCertificate=false`
fn parse_ado(input: &str) -> Result<ConnSpec, String> {
    let mut spec = mssql_spec();
    let mut after_password = false;
    for Pair { key: k, value: v } in split_ado(input)? {
        let key = norm_key(&k);
        let v = v.as_str();
        let res: Result<(), String> = match key.as_str() {
            "server" | "datasource" | "address" | "addr" | "networkaddress" => {
                set_server(&mut spec, v, ',')
            }
            "database" | "initialcatalog" => {
                spec.database = Some(v.to_string());
                Ok(())
            }
            "userid" | "uid" | "user" | "username" => {
                spec.user = Some(v.to_string());
                Ok(())
            }
            "password" | "pwd" => {
                after_password = true;
                spec.password = Some(Secret::new(v));
                Ok(())
            }
            "encrypt" => set_checked(&mut spec, "encrypt", &v.to_ascii_lowercase()),
            "trustservercertificate" => set_checked(
                &mut spec,
                "trust_server_certificate",
                &v.to_ascii_lowercase(),
            ),
            "hostnameincertificate" => set_checked(&mut spec, "hostnameincertificate", v),
            "trustservercertificateca" | "ca" | "trustcertca" => set_checked(&mut spec, "ca", v),
            "applicationname" | "app" => set_checked(&mut spec, "application_name", v),
            "connecttimeout" | "connectiontimeout" | "timeout" => {
                set_checked(&mut spec, "connect_timeout", v)
            }
            "integratedsecurity" | "trustedconnection"
                if v.eq_ignore_ascii_case("true")
                    || v.eq_ignore_ascii_case("sspi")
                    || v.eq_ignore_ascii_case("yes") =>
            {
                Err("integrated (Windows) authentication is not supported; use a SQL login (User Id and Password)".into())
            }
            _ => Err(format!("unknown ADO.NET keyword `{}`", key_shown(&k))),
        };
        res.map_err(|r| unless_after_password(after_password, r))?;
    }
    if spec.host.as_deref().is_none_or(str::is_empty) {
        return Err("no Server=...; write e.g. Server=tcp:db.example.com,1433;Database=app;User Id=app;Password=...".into());
    }
    Ok(spec)
}

/// Sets an option through the same validation as a URL's.
fn set_checked(spec: &mut ConnSpec, key: &str, value: &str) -> Result<(), String> {
    spec.set_param(key, value)
}

/// `jdbc:sqlserver://host:1433;databaseName=app;user=u;password=p;encrypt=true`
fn parse_jdbc(input: &str) -> Result<ConnSpec, String> {
    let rest = &input["jdbc:sqlserver://".len()..];
    let (server, props) = rest.split_once(';').unwrap_or((rest, ""));
    let mut spec = mssql_spec();
    if server.trim().is_empty() || server.starts_with(':') {
        return Err("no host after jdbc:sqlserver://".into());
    }
    set_server(&mut spec, server, ':')?;
    let mut after_password = false;
    for Pair { key: k, value: v } in split_jdbc(props)? {
        let key = norm_key(&k);
        let v = v.as_str();
        let res: Result<(), String> = match key.as_str() {
            "databasename" | "database" => {
                spec.database = Some(v.to_string());
                Ok(())
            }
            "user" | "username" => {
                spec.user = Some(v.to_string());
                Ok(())
            }
            "password" => {
                after_password = true;
                spec.password = Some(Secret::new(v));
                Ok(())
            }
            "encrypt" => set_checked(&mut spec, "encrypt", &v.to_ascii_lowercase()),
            "trustservercertificate" => set_checked(
                &mut spec,
                "trust_server_certificate",
                &v.to_ascii_lowercase(),
            ),
            "hostnameincertificate" => set_checked(&mut spec, "hostnameincertificate", v),
            "applicationname" => set_checked(&mut spec, "application_name", v),
            "trustservercertificateca" | "ca" => set_checked(&mut spec, "ca", v),
            "logintimeout" => set_checked(&mut spec, "connect_timeout", v),
            "instancename" => set_checked(&mut spec, "instance", v),
            _ => Err(format!("unknown JDBC property `{}`", key_shown(&k))),
        };
        res.map_err(|r| unless_after_password(after_password, r))?;
    }
    Ok(spec)
}

fn mssql_spec() -> ConnSpec {
    ConnSpec {
        engine: Engine::Mssql,
        host: None,
        port: None,
        database: None,
        user: None,
        password: None,
        params: BTreeMap::new(),
        path: None,
    }
}

fn percent_decode(s: &str) -> Option<String> {
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
            pg_startup_options("-c search_path=app --lock-timeout=5s -cwork_mem=4MB").unwrap(),
            vec![
                ("search_path".to_string(), "app".to_string()),
                ("lock_timeout".to_string(), "5s".to_string()),
                ("work_mem".to_string(), "4MB".to_string())
            ]
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
        s.fill_from_pg_env(&env).unwrap();
        // The URL wins where both say.
        assert_eq!(s.host.as_deref(), Some("db.example.com"));
        assert_eq!(s.user.as_deref(), Some("urluser"));
        assert_eq!((s.port, s.database.as_deref()), (Some(5433), Some("envdb")));
        assert!(!s.params.contains_key("host"));
        let mut bare = ConnSpec {
            engine: Engine::Postgres,
            host: None,
            port: None,
            database: None,
            user: None,
            password: None,
            params: BTreeMap::new(),
            path: None,
        };
        bare.fill_from_pg_env(&env).unwrap();
        assert_eq!(bare.params["host"], "/var/run/postgresql");
        assert_eq!(bare.user.as_deref(), Some("envuser"));
        let bad = |k: &str| (k == "PGPORT").then(|| "x".to_string());
        assert!(
            bare.clone().fill_from_pg_env(&bad).is_ok(),
            "the port is already set"
        );
        let mut b = ConnSpec::parse("postgres://h/db").unwrap();
        assert!(b.fill_from_pg_env(&bad).unwrap_err().contains("PGPORT"));
    }
}
