//! The SQL Server checks of reaching the server and what it is: the connection and TLS remedies
//! (SQL Server's own certificate causes), the version of evergreen services, and the host OS.

use super::*;

pub(super) fn tls_remedy(cause: &str) -> String {
    let why = match cause {
        "self-signed" => {
            "The server presents a self-signed certificate (SQL Server generates one when none is configured), which no CA vouches for."
        }
        "unknown issuer" => {
            "The server certificate is signed by a CA this machine does not trust (a private or corporate CA)."
        }
        "hostname mismatch" => "The certificate does not name the host in the connection string.",
        "expired" => "The server certificate has expired.",
        "not yet valid" => "The server certificate is not valid yet: check both clocks.",
        "legacy certificate" => {
            "The server presents an old-format (X.509 v1) certificate, as SQL Server's self-generated ones can be."
        }
        _ => "The TLS handshake failed.",
    };
    let fix = match cause {
        "hostname mismatch" => {
            "Connect with the host name the certificate names (see its subject alternative names), or set hostNameInCertificate=NAME to the name it carries."
        }
        "expired" | "not yet valid" => {
            "Renew the certificate on the server (SQL Server Configuration Manager > Protocols > Certificate, then restart the service)."
        }
        _ => {
            "Either (1) install trust in the issuing CA: get the CA certificate (or the self-signed certificate itself) as PEM from the DBA and pass ca=/path/to/ca.pem (ADO.NET/JDBC: the same file via trust_cert_ca) — the connection stays verified; or (2) add trust_server_certificate=true (TrustServerCertificate=True): encrypted, but any certificate is accepted, so a man in the middle would go unnoticed; the tls check will warn. Prefer (1); better still, give the server a certificate from a CA the clients already trust."
        }
    };
    format!("{why} {fix}")
}

pub(super) fn connection(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let v = common::connection(&f.common, MssqlFacts::connection_remedy)?;
    match &f.common.connection.failure {
        Some(fail) if fail.kind == FailureKind::Tls => {
            Ok(v.remedy(tls_remedy(tls_cause(&fail.message))))
        }
        _ => Ok(v),
    }
}

pub(super) fn tls(f: &MssqlFacts, ctx: &Ctx) -> Outcome {
    let v = common::tls(
        &f.common,
        ctx,
        "encrypt=true and ca=/path/to/ca.pem (no trust_server_certificate)",
    )?;
    // With encrypt=false SQL Server still encrypts the login packet: only the data is in clear.
    let t = f.common.tls.value();
    Ok(if t.is_some_and(|t| !t.in_use) {
        Verdict {
            message: "only the login is encrypted (encrypt=false): queries and data cross the network in clear".into(),
            ..v
        }
    } else if t.is_some_and(|t| t.trust == TrustMode::NotVerified) && v.status != Status::Pass {
        v.remedy("Remove trust_server_certificate=true and pass the server's CA certificate with ca=/path/to/ca.pem (ADO.NET: TrustServerCertificateCA=/path/to/ca.pem): the connection stays encrypted and the certificate is verified.")
    } else {
        v
    })
}

pub(super) fn version(f: &MssqlFacts, ctx: &Ctx) -> Outcome {
    let id = f.common.identity.get()?;
    if is_evergreen(&id.flavor) {
        return Ok(Verdict::pass(format!(
            "{} is a managed, always-current service: its ProductVersion ({}) is not a release line; the compatibility level decides behaviour",
            id.product,
            id.version()
        ))
        .observed(format!("{} ({})", id.product, id.version())));
    }
    common::version(&f.common, ctx)
}

pub(super) fn platform(f: &MssqlFacts, _: &Ctx) -> Outcome {
    match f.host.get() {
        Ok(h) => {
            let text = [
                Some(h.platform.clone()),
                h.distribution.clone(),
                h.release.clone(),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            Ok(Verdict::pass(format!("server runs on {text}"))
                .observed(format!("{text} (sys.dm_os_host_info)")))
        }
        Err(why) => {
            let id = f.common.identity.get()?;
            Ok(match &id.os {
                Some(os) => Verdict::pass(format!("server runs on {os}")).observed(format!(
                    "{os} (from @@VERSION; sys.dm_os_host_info: {})",
                    unavailable_text(&why)
                )),
                None => Verdict::skip(format!(
                    "the server does not say its platform: {} has no OS in @@VERSION, and sys.dm_os_host_info is unavailable ({})",
                    id.product,
                    unavailable_text(&why)
                )),
            })
        }
    }
}

pub(super) fn unavailable_text(u: &Unavailable) -> &str {
    match u {
        Unavailable::Error(m) | Unavailable::Denied(m) | Unavailable::Skip(m) => m,
    }
}
