//! Reaching SQL Server: the tiberius configuration from the target (encryption, trust, instance, application name), the connection and its failures classified.

use super::*;

/// A driver error as one line.
pub(super) fn error_text(e: &TdsError) -> String {
    match e {
        TdsError::Server(t) => format!("{} (Msg {}, class {})", t.message(), t.code(), t.class()),
        TdsError::Protocol(m) if m.starts_with("bounded answer") => m.to_string(),
        other => other.to_string(),
    }
    .replace('\n', " ")
}

/// Opens TCP and logs in, following one Azure gateway redirect.
pub(crate) async fn connect(config: &Config) -> Result<Conn, TdsError> {
    // tiberius builds its TLS with the process's rustls provider and, when none is installed,
    // with aws-lc-rs, whose first use seeds its random generator from CPU jitter (~55 ms of
    // CPU, more than the rest of a check). ring, which every other connection of ours uses,
    // is installed here, where every SQL Server login passes, unless the program embedding
    // us chose a provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = config.clone();
    for _ in 0..2 {
        // Through net: under the service's guard, to the checked address (a redirect's host
        // is checked like the first).
        let addr = config.get_addr();
        let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), "1433"));
        let tcp = crate::net::connect_tcp(host, port.parse().unwrap_or(1433)).await?;
        tcp.set_nodelay(true)?;
        match Client::connect(config.clone(), tcp.compat_write()).await {
            Err(TdsError::Routing { host, port }) => {
                config.host(&host);
                config.port(port);
            }
            other => return other,
        }
    }
    Err(TdsError::Protocol(
        "the server redirected the login more than once".into(),
    ))
}

/// How the client was told to treat encryption and the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TlsChoice {
    pub encryption: EncryptionLevel,
    pub trust_server_certificate: bool,
    pub ca_file: bool,
}

pub(super) fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" | "mandatory" | "required" => Some(true),
        "false" | "no" | "0" | "off" | "optional" => Some(false),
        _ => None,
    }
}

/// Builds the tiberius configuration field by field from the parsed target (never from the raw
/// string, so our parser and our remedies are the only source of truth).
pub(crate) fn config(spec: &ConnSpec) -> Result<(Config, TlsChoice), ConnectFailure> {
    let bad = |message: String| ConnectFailure {
        kind: FailureKind::Config,
        message,
    };
    let mut c = Config::new();
    c.host(spec.tcp_host());
    c.port(spec.port_or_default());
    if let Some(i) = spec.option("instance") {
        // Without SQL Browser the port decides; the name still goes in the login.
        c.instance_name(i);
    }
    if let Some(d) = &spec.database {
        c.database(d);
    }
    c.application_name(spec.option("application_name").unwrap_or("byod-precheck"));
    c.authentication(AuthMethod::sql_server(
        spec.user.as_deref().unwrap_or(""),
        spec.password.as_ref().map_or("", |p| p.expose()),
    ));
    let encrypt = spec.option("encrypt");
    let encryption = match encrypt {
        None => EncryptionLevel::Required,
        Some(v) if v.eq_ignore_ascii_case("strict") => {
            return Err(bad(
                "encrypt=strict (TDS 8.0) is not supported by this build; use encrypt=true".into(),
            ));
        }
        Some(v) => match truthy(v) {
            Some(true) => EncryptionLevel::Required,
            Some(false) => EncryptionLevel::Off,
            None => {
                return Err(bad(format!(
                    "encrypt=`{v}` is not one of true, false, mandatory, optional"
                )));
            }
        },
    };
    c.encryption(encryption);
    let tsc = spec.option("trust_server_certificate");
    let trust = match tsc {
        None => false,
        Some(v) => truthy(v).ok_or_else(|| {
            bad(format!(
                "trust_server_certificate=`{v}` is not true or false"
            ))
        })?,
    };
    let ca = spec.option("ca");
    if trust && ca.is_some() {
        return Err(bad(
            "trust_server_certificate=true and a CA file exclude each other: keep the CA file (the certificate is then verified)".into(),
        ));
    }
    if trust {
        c.trust_cert();
    }
    if let Some(path) = ca {
        if !std::path::Path::new(path).is_file() {
            return Err(bad(format!("the CA file `{path}` is not a readable file")));
        }
        c.trust_cert_ca(path);
    }
    if let Some(h) = spec.option("hostnameincertificate") {
        c.hostname_in_certificate(h);
    }
    Ok((
        c,
        TlsChoice {
            encryption,
            trust_server_certificate: trust,
            ca_file: ca.is_some(),
        },
    ))
}

/// The client option that set the trust mode, for messages.
pub(super) fn client_setting(t: TlsChoice) -> String {
    let enc = if t.encryption == EncryptionLevel::Off {
        "encrypt=false"
    } else {
        "encrypt=true"
    };
    let trust = if t.trust_server_certificate {
        ", trust_server_certificate=true"
    } else if t.ca_file {
        ", ca=FILE"
    } else {
        ""
    };
    format!("{enc}{trust}")
}

/// What a rejected certificate means, from rustls's words.
pub fn tls_cause(message: &str) -> &'static str {
    if message.contains("BadSignature") || message.contains("SelfSigned") {
        "self-signed"
    } else if message.contains("UnknownIssuer") {
        "unknown issuer"
    } else if message.contains("NotValidForName") || message.contains("not valid for name") {
        "hostname mismatch"
    } else if message.contains("Expired") || message.contains("expired") {
        "expired"
    } else if message.contains("NotValidYet") {
        "not yet valid"
    } else if message.contains("UnsupportedCertVersion") {
        "legacy certificate"
    } else {
        "handshake"
    }
}

/// Classifies a login failure.
pub(super) fn classify(e: &TdsError, spec: &ConnSpec, tls: TlsChoice) -> ConnectFailure {
    let message = spec.scrub(&error_text(e));
    let kind = match e {
        TdsError::Server(t) => match t.code() {
            18456 | 18452 | 18470 | 18487 | 18488 => FailureKind::Authentication,
            4060 => FailureKind::DatabaseMissing,
            916 | 4063 | 40615 | 40532 => FailureKind::Permission,
            _ => FailureKind::ServerError,
        },
        TdsError::Tls(_) => FailureKind::Tls,
        TdsError::Io { kind, .. } if *kind == std::io::ErrorKind::ConnectionRefused => {
            FailureKind::Refused
        }
        TdsError::Io { kind, .. } if *kind == std::io::ErrorKind::TimedOut => FailureKind::Timeout,
        _ if message.contains("certificate")
            || message.contains("TLS")
            || message.contains("corrupt message") =>
        {
            FailureKind::Tls
        }
        _ => FailureKind::ServerError,
    };
    let message = if kind == FailureKind::Tls {
        // tiberius's own text is long and names its API; say the cause in the user's terms.
        let cause = tls_cause(&message);
        let rustls = message
            .split("handshake: ")
            .nth(1)
            .and_then(|s| s.split(". ").next())
            .unwrap_or(&message)
            .trim_end_matches('.');
        format!(
            "the server certificate was not accepted ({cause}): {rustls} ({})",
            client_setting(tls)
        )
    } else if kind == FailureKind::DatabaseMissing {
        format!(
            "database `{}` does not exist or this login cannot open it: {message}",
            spec.database.as_deref().unwrap_or("?")
        )
    } else {
        message
    };
    ConnectFailure { kind, message }
}
