//! What a SQL Server connection string may say: `mssql://` and `sqlserver://` URLs, ADO.NET
//! strings (`Server=tcp:host,1433;Database=app;User Id=u;Password=p`) and JDBC URLs
//! (`jdbc:sqlserver://host:1433;databaseName=app`), split the way SqlClient and the JDBC
//! driver do.

use crate::target::{
    ConnSpec, Dialect, EnvField, Form, Opt, OptKind, key_shown, norm_key, unless_after_password,
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

/// A string form's keywords (compared as [`norm_key`] gives them) and the dialect option each
/// sets, validated as a URL's option is.
type Keywords = &'static [(&'static [&'static str], &'static str)];

/// SqlClient's keywords.
const ADO: Keywords = &[
    (&["database", "initialcatalog"], "database"),
    (&["userid", "uid", "user", "username"], "user"),
    (&["password", "pwd"], "password"),
    (&["encrypt"], "encrypt"),
    (&["trustservercertificate"], "trust_server_certificate"),
    (&["hostnameincertificate"], "hostnameincertificate"),
    (&["trustservercertificateca", "ca", "trustcertca"], "ca"),
    (&["applicationname", "app"], "application_name"),
    (
        &["connecttimeout", "connectiontimeout", "timeout"],
        "connect_timeout",
    ),
];

/// The JDBC driver's properties.
const JDBC: Keywords = &[
    (&["databasename", "database"], "database"),
    (&["user", "username"], "user"),
    (&["password"], "password"),
    (&["encrypt"], "encrypt"),
    (&["trustservercertificate"], "trust_server_certificate"),
    (&["hostnameincertificate"], "hostnameincertificate"),
    (&["applicationname"], "application_name"),
    (&["trustservercertificateca", "ca"], "ca"),
    (&["logintimeout"], "connect_timeout"),
    (&["instancename"], "instance"),
];

/// Sets each pair through its keyword's option; `own` takes the form's own keywords (the
/// server, integrated security), `None` for one it does not know. A problem after the password
/// is not repeated in words (it may be part of the password).
fn apply(
    spec: &mut ConnSpec,
    pairs: Vec<Pair>,
    keywords: Keywords,
    called: &str,
    own: impl Fn(&mut ConnSpec, &str, &str) -> Option<Result<(), String>>,
) -> Result<(), String> {
    let mut after_password = false;
    for Pair { key: k, value: v } in pairs {
        let key = norm_key(&k);
        let res = match keywords
            .iter()
            .find(|(names, _)| names.contains(&key.as_str()))
        {
            Some((_, option)) => {
                after_password |= *option == "password";
                spec.set_param(option, &v)
            }
            None => own(spec, &key, &v)
                .unwrap_or_else(|| Err(format!("unknown {called} `{}`", key_shown(&k)))),
        };
        res.map_err(|r| unless_after_password(after_password, r))?;
    }
    Ok(())
}

/// `Server=tcp:host,1433;Database=app;User Id=u;Password=p;Encrypt=true;TrustServerCertificate=false`
fn parse_ado(input: &str, dialect: &'static Dialect) -> Result<ConnSpec, String> {
    let mut spec = ConnSpec::empty(dialect);
    apply(
        &mut spec,
        split_ado(input)?,
        ADO,
        "ADO.NET keyword",
        |spec, key, v| {
            match key {
            "server" | "datasource" | "address" | "addr" | "networkaddress" => {
                Some(set_server(spec, v, ','))
            }
            "integratedsecurity" | "trustedconnection"
                if ["true", "sspi", "yes"].iter().any(|t| v.eq_ignore_ascii_case(t)) =>
            {
                Some(Err("integrated (Windows) authentication is not supported; use a SQL login (User Id and Password)".into()))
            }
            _ => None,
        }
        },
    )?;
    if spec.host.as_deref().is_none_or(str::is_empty) {
        return Err("no Server=...; write e.g. Server=tcp:db.example.com,1433;Database=app;User Id=app;Password=...".into());
    }
    Ok(spec)
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
    apply(
        &mut spec,
        split_jdbc(props)?,
        JDBC,
        "JDBC property",
        |_, _, _| None,
    )?;
    Ok(spec)
}
