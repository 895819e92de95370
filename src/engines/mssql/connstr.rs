//! What a SQL Server connection string may say: `mssql://` and `sqlserver://` URLs, ADO.NET
//! strings (`Server=tcp:host,1433;Database=app;User Id=u;Password=p`) and JDBC URLs
//! (`jdbc:sqlserver://host:1433;databaseName=app`), split the way SqlClient and the JDBC
//! driver do.

use crate::target::{
    ConnSpec, Dialect, EnvField, Form, Opt, OptKind, Secret, key_shown, norm_key,
    unless_after_password,
};

const BOOL: &[&str] = &["true", "false", "yes", "no", "1", "0"];

/// SQL Server's dialect.
pub const DIALECT: Dialect = Dialect {
    engine: crate::engine::Engine::Mssql,
    schemes: &["mssql", "sqlserver"],
    aliases: &["sqlserver"],
    preamble: Some(crate::tlsprobe::Preamble::Tds),
    default_port: Some(1433),
    password_var: Some("MSSQL_PASSWORD"),
    env: &[],
    socket_option: None,
    options: &[
        Opt::new(
            "encrypt",
            OptKind::OneOf(&[
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
        ),
        Opt::new("trust_server_certificate", OptKind::OneOf(BOOL)).or(&["trustservercertificate"]),
        Opt::new("ca", OptKind::Path).or(&["trust_cert_ca"]),
        Opt::new("hostnameincertificate", OptKind::Text),
        Opt::new("instance", OptKind::Text),
        Opt::new("application_name", OptKind::Text).or(&["applicationname"]),
        Opt::new("connect_timeout", OptKind::Seconds).or(&["logintimeout"]),
        Opt::new("database", OptKind::Target(EnvField::Database)).or(&["databasename"]),
        Opt::new("user", OptKind::Target(EnvField::User)),
        Opt::new("password", OptKind::Password),
    ],
    ca_option: Some("ca"),
    forms: &[
        Form {
            recognise: |s| {
                s.get(..17)
                    .is_some_and(|p| p.eq_ignore_ascii_case("jdbc:sqlserver://"))
            },
            called: "a jdbc:sqlserver:// URL",
            parse: parse_jdbc,
        },
        // `Key=Value;...` with no scheme: nothing before the first `=` holds a `:`.
        Form {
            recognise: |s| {
                !s.contains("://") && s.split_once('=').is_some_and(|(k, _)| !k.contains(':'))
            },
            called: "an ADO.NET string",
            parse: parse_ado,
        },
    ],
};

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
fn parse_ado(input: &str, dialect: &'static Dialect) -> Result<ConnSpec, String> {
    let mut spec = ConnSpec::empty(dialect);
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
fn parse_jdbc(input: &str, dialect: &'static Dialect) -> Result<ConnSpec, String> {
    let rest = &input["jdbc:sqlserver://".len()..];
    let (server, props) = rest.split_once(';').unwrap_or((rest, ""));
    let mut spec = ConnSpec::empty(dialect);
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
