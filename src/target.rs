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

/// A connection string that cannot be used. Messages never contain the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid connection string `{shown}`: {reason}")]
pub struct TargetError {
    /// The input with its password masked.
    pub shown: String,
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
        // The reason may quote part of the input: whatever could be the password is masked.
        let err = |reason: String| TargetError {
            shown: mask_candidates(input, &redact_input(input)),
            reason: mask_candidates(input, &redact_input(&reason)),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err("empty; pass a URL or set DATABASE_URL".into()));
        }
        if trimmed.len() > 8192 {
            return Err(err(format!(
                "{} bytes is too long for a connection string",
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
            other => {
                return Err(err(format!(
                    "unknown scheme `{other}`; use postgres://, mysql://, mariadb://, mssql://, sqlserver:// or sqlite://"
                )));
            }
        };
        let url = url::Url::parse(trimmed).map_err(|e| err(e.to_string()))?;
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
        for (k, v) in url.query_pairs() {
            spec.set_param(&k, &v).map_err(err)?;
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
                "unknown option `{key}` for {} (known: {})",
                self.engine,
                known_params(self.engine).join(", ")
            ));
        }
        if let Some(allowed) = allowed_values(self.engine, &key)
            && !allowed.iter().any(|a| a.eq_ignore_ascii_case(value))
        {
            return Err(format!(
                "option `{key}` cannot be `{value}` (use one of: {})",
                allowed.join(", ")
            ));
        }
        if key.contains("timeout") && value.parse::<f64>().map_or(true, |v| v.is_nan() || v < 0.0) {
            return Err(format!(
                "option `{key}` must be a number of seconds, not `{value}`"
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
                        .map_err(|_| format!("port `{value}` is not a number from 1 to 65535"))?,
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

    /// Replaces every occurrence of the password in a driver's message (belt and braces: the
    /// drivers are given the password separately, never inside a URL).
    pub fn scrub(&self, text: &str) -> String {
        match &self.password {
            Some(p) if p.expose().len() >= 3 => text.replace(p.expose(), "***"),
            _ => text.to_string(),
        }
    }
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

/// `Server=tcp:host,1433;Database=app;User Id=u;Password=p;Encrypt=true;TrustServerCertificate=false`
fn parse_ado(input: &str) -> Result<ConnSpec, String> {
    let mut spec = mssql_spec();
    for part in input.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("`{}` is not key=value", redact_pair(part)));
        };
        let key = k.trim().to_ascii_lowercase().replace(' ', "");
        let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
        match key.as_str() {
            "server" | "datasource" | "address" | "addr" | "networkaddress" => {
                let v = v.strip_prefix("tcp:").unwrap_or(v);
                let (hostpart, port) = match v.rsplit_once(',') {
                    Some((h, p)) => (
                        h,
                        Some(
                            p.trim()
                                .parse::<u16>()
                                .map_err(|_| format!("port `{p}` is not a number"))?,
                        ),
                    ),
                    None => (v, None),
                };
                let (host, instance) = match hostpart.split_once('\\') {
                    Some((h, i)) => (h, Some(i)),
                    None => (hostpart, None),
                };
                spec.host = Some(if host == "." || host.eq_ignore_ascii_case("(local)") {
                    "localhost".into()
                } else {
                    host.to_string()
                });
                spec.port = port;
                if let Some(i) = instance {
                    spec.params.insert("instance".into(), i.to_string());
                }
            }
            "database" | "initialcatalog" => spec.database = Some(v.to_string()),
            "userid" | "uid" | "user" | "username" => spec.user = Some(v.to_string()),
            "password" | "pwd" => spec.password = Some(Secret::new(v)),
            "encrypt" => drop(spec.params.insert("encrypt".into(), v.to_ascii_lowercase())),
            "trustservercertificate" => drop(
                spec.params
                    .insert("trust_server_certificate".into(), v.to_ascii_lowercase()),
            ),
            "hostnameincertificate" => drop(
                spec.params
                    .insert("hostnameincertificate".into(), v.to_string()),
            ),
            "trustservercertificateca" | "ca" | "trustcertca" => {
                drop(spec.params.insert("ca".into(), v.to_string()))
            }
            "applicationname" | "app" => {
                drop(spec.params.insert("application_name".into(), v.to_string()))
            }
            "connecttimeout" | "connectiontimeout" | "timeout" => {
                drop(spec.params.insert("connect_timeout".into(), v.to_string()))
            }
            "integratedsecurity" | "trustedconnection"
                if v.eq_ignore_ascii_case("true")
                    || v.eq_ignore_ascii_case("sspi")
                    || v.eq_ignore_ascii_case("yes") =>
            {
                return Err("integrated (Windows) authentication is not supported; use a SQL login (User Id and Password)".into());
            }
            _ => return Err(format!("unknown ADO.NET keyword `{}`", k.trim())),
        }
    }
    if spec.host.as_deref().is_none_or(str::is_empty) {
        return Err("no Server=...; write e.g. Server=tcp:db.example.com,1433;Database=app;User Id=app;Password=...".into());
    }
    Ok(spec)
}

/// `jdbc:sqlserver://host:1433;databaseName=app;user=u;password=p;encrypt=true`
fn parse_jdbc(input: &str) -> Result<ConnSpec, String> {
    let rest = &input["jdbc:sqlserver://".len()..];
    let mut parts = rest.split(';');
    let server = parts.next().unwrap_or_default();
    let mut spec = mssql_spec();
    let (hostpart, port) = match server.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("port `{p}` is not a number"))?,
            ),
        ),
        None => (server, None),
    };
    let (host, instance) = match hostpart.split_once('\\') {
        Some((h, i)) => (h, Some(i)),
        None => (hostpart, None),
    };
    if host.is_empty() {
        return Err("no host after jdbc:sqlserver://".into());
    }
    spec.host = Some(host.to_string());
    spec.port = port;
    if let Some(i) = instance {
        spec.params.insert("instance".into(), i.to_string());
    }
    for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!("`{}` is not key=value", redact_pair(part)));
        };
        let key = k.trim().to_ascii_lowercase();
        match key.as_str() {
            "databasename" | "database" => spec.database = Some(v.to_string()),
            "user" | "username" => spec.user = Some(v.to_string()),
            "password" => spec.password = Some(Secret::new(v)),
            "encrypt" => drop(spec.params.insert("encrypt".into(), v.to_ascii_lowercase())),
            "trustservercertificate" => drop(
                spec.params
                    .insert("trust_server_certificate".into(), v.to_ascii_lowercase()),
            ),
            "hostnameincertificate" => drop(
                spec.params
                    .insert("hostnameincertificate".into(), v.to_string()),
            ),
            "applicationname" => drop(spec.params.insert("application_name".into(), v.to_string())),
            "trustservercertificateca" | "ca" => {
                drop(spec.params.insert("ca".into(), v.to_string()))
            }
            "logintimeout" => drop(spec.params.insert("connect_timeout".into(), v.to_string())),
            "instancename" => drop(spec.params.insert("instance".into(), v.to_string())),
            _ => return Err(format!("unknown JDBC property `{}`", k.trim())),
        }
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

fn redact_pair(part: &str) -> String {
    let k = part
        .split('=')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
        .replace(' ', "");
    if k == "password" || k == "pwd" {
        "Password=***".into()
    } else {
        part.chars().take(80).collect()
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

/// Replaces in `text` every string of `input` that could be a password: the user-info
/// password of a URL form and every `Password=`/`Pwd=` value.
fn mask_candidates(input: &str, text: &str) -> String {
    let mut candidates = Vec::new();
    for (at, _) in input.match_indices('@') {
        let start = input[..at].find("://").map_or(0, |i| i + 3);
        let userinfo = &input[start..at];
        candidates.extend(
            userinfo
                .match_indices(':')
                .map(|(i, _)| userinfo[i + 1..].to_string()),
        );
    }
    let lower = input.to_ascii_lowercase();
    for key in ["password=", "pwd="] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let v = &input[from + i + key.len()..];
            candidates.push(v[..v.find([';', '&']).unwrap_or(v.len())].to_string());
            from += i + key.len();
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let mut out = text.to_string();
    for c in candidates.iter().filter(|c| c.len() >= 3) {
        out = out.replace(c.as_str(), "***");
        if let Some(decoded) = percent_decode(c).filter(|d| d.len() >= 3) {
            out = out.replace(&decoded, "***");
        }
    }
    out
}

/// Masks the password of any connection string, even one that does not parse, so it can be
/// shown in an error. URL forms: the part between the first `:` of the user info and the last
/// `@` before the path. Key=value forms: every `Password=` / `Pwd=` value.
pub fn redact_input(input: &str) -> String {
    let input: String = input
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    // URL forms: everything between the first ':' of the user info and the last '@' (a
    // password may itself contain ':', '/' or '@'); also without "://", as typos go.
    let mut out = input.clone();
    if let Some(at) = input.rfind('@') {
        let start = input[..at].find("://").map_or(0, |i| i + 3);
        if let Some(colon) = input[start..at].find(':') {
            out = format!("{}***{}", &input[..start + colon + 1], &input[at..]);
        }
    }
    // key=value forms (ADO.NET, JDBC properties, URL query `password=`)
    let mut result = String::new();
    let mut rest = out.as_str();
    loop {
        let lower = rest.to_ascii_lowercase();
        let hit = ["password=", "pwd="]
            .iter()
            .filter_map(|k| lower.find(k).map(|i| (i, k.len())))
            .min();
        match hit {
            Some((i, len)) => {
                result.push_str(&rest[..i + len]);
                result.push_str("***");
                let tail = &rest[i + len..];
                let end = tail.find([';', '&']).unwrap_or(tail.len());
                rest = &tail[end..];
            }
            None => {
                result.push_str(rest);
                break;
            }
        }
    }
    result
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
    fn unknown_scheme_and_option_are_named() {
        assert!(
            ConnSpec::parse("oracle://h/db")
                .unwrap_err()
                .to_string()
                .contains("unknown scheme `oracle`")
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
