//! What a server will ask for before the driver sends it the password. The drivers give no hook
//! between "the server asked for a cleartext password" and "the password was sent", so a short
//! exchange of our own comes first: PostgreSQL's StartupMessage (over TLS when the server offers
//! it) up to the first authentication request, MySQL's greeting (which names the
//! authentication plugin). Nothing secret is sent on it; it is closed at once.
//!
//! The policy is libpq's `require_auth`: by default any method is accepted except a cleartext
//! password on an unencrypted connection; `require_auth=LIST` (or `!LIST`) narrows it.

pub mod watch;

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the exchange says when the server accepted TCP and then said nothing in time.
const NO_ANSWER: &str = "no answer";

/// The failure a silent server gets: the same words as the driver's login timeout.
fn no_answer(timeout: Duration) -> crate::net::ConnectFailure {
    crate::net::ConnectFailure {
        kind: crate::net::FailureKind::Timeout,
        message: format!(
            "the server accepted TCP but did not complete the login within {} s",
            timeout.as_secs_f32()
        ),
    }
}

/// The largest message read during the exchange: an authentication request is a few bytes.
const MAX_MESSAGE: usize = 64 * 1024;

/// How a PostgreSQL server asked the client to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgAuth {
    /// AuthenticationOk at once: trust.
    None,
    /// AuthenticationCleartextPassword.
    Cleartext,
    /// AuthenticationMD5Password.
    Md5,
    /// AuthenticationSASL (SCRAM).
    Sasl,
    Gss,
    Sspi,
    /// Another request code (Kerberos V5, which servers no longer send, or unknown).
    Other(u32),
}

impl PgAuth {
    /// The name `require_auth` uses.
    pub fn name(&self) -> &'static str {
        match self {
            PgAuth::None => "none",
            PgAuth::Cleartext => "password",
            PgAuth::Md5 => "md5",
            PgAuth::Sasl => "scram-sha-256",
            PgAuth::Gss => "gss",
            PgAuth::Sspi => "sspi",
            PgAuth::Other(_) => "other",
        }
    }
}

/// What the pre-login exchange saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgPreLogin {
    /// The exchange ran over TLS (the driver's session will too, under the same sslmode).
    pub encrypted: bool,
    /// The authentication request; `None` when the server answered with an error instead
    /// (the driver's own login then reports it).
    pub auth: Option<PgAuth>,
}

/// Whether the password may be sent to a server that asked this way. `Err` says why not.
pub fn pg_policy(require_auth: Option<&str>, seen: &PgPreLogin) -> Result<(), String> {
    let Some(auth) = &seen.auth else {
        return Ok(());
    };
    match require_auth {
        None => {
            if *auth == PgAuth::Cleartext && !seen.encrypted {
                return Err(
                    "the server asked for the password in clear text on an unencrypted \
                    connection, so it was not sent; use sslmode=require (the server must offer \
                    TLS), or add require_auth=password to send it in clear anyway"
                        .into(),
                );
            }
            Ok(())
        }
        Some(list) => {
            let items: Vec<&str> = list.split(',').map(str::trim).collect();
            let name = auth.name();
            let allowed = if items.iter().all(|i| i.starts_with('!')) {
                !items.iter().any(|i| i.trim_start_matches('!') == name)
            } else {
                items.contains(&name)
            };
            if allowed {
                Ok(())
            } else {
                Err(format!(
                    "the server asked for authentication method `{name}`, which require_auth={} does not allow; the password was not sent",
                    crate::text::inert(list)
                ))
            }
        }
    }
}

/// A risk worth naming in the report even when the login goes ahead.
pub fn pg_risk(seen: &PgPreLogin) -> Option<String> {
    (seen.auth == Some(PgAuth::Md5) && !seen.encrypted).then(|| {
        "the server authenticates with md5 on an unencrypted connection: whoever sees the \
         traffic can replay or crack the hash; use scram-sha-256 and TLS"
            .to_string()
    })
}

/// Opens a connection of our own and reads what the server asks for first. `try_tls`: send
/// SSLRequest first (sslmode prefer), as the driver will.
pub async fn pg_auth_request(
    host: &str,
    port: u16,
    user: &str,
    database: Option<&str>,
    try_tls: bool,
    timeout: Duration,
) -> Result<PgPreLogin, String> {
    let work = async {
        let mut tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        if try_tls {
            tcp.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
                .await
                .map_err(|e| e.to_string())?;
            let mut b = [0u8; 1];
            tcp.read_exact(&mut b).await.map_err(|e| e.to_string())?;
            if b[0] == b'S' {
                let mut tls = crate::tlsprobe::tls_connect_unverified(tcp, host).await?;
                let auth = pg_startup(&mut tls, user, database).await?;
                pg_leave(tls, &auth).await;
                return Ok(PgPreLogin {
                    encrypted: true,
                    auth,
                });
            }
        }
        let auth = pg_startup(&mut tcp, user, database).await?;
        pg_leave(tcp, &auth).await;
        Ok(PgPreLogin {
            encrypted: false,
            auth,
        })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| NO_ANSWER.to_string())?
}

/// Leaves the look without a trace in the server's log: a session the server already let in
/// (trust) gets Terminate; one waiting for a password sees us go, which PostgreSQL does not
/// log. Either way the connection is closed gracefully, its unread answers read (dropped
/// unread, the socket is reset and the server logs "Connection reset by peer").
async fn pg_leave<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, auth: &Option<PgAuth>) {
    if *auth == Some(PgAuth::None) {
        let _ = io.write_all(&[b'X', 0, 0, 0, 4]).await;
    }
    crate::tlsprobe::close_gracefully(io).await;
}

/// The StartupMessage, then the first authentication request (notices skipped).
async fn pg_startup<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    user: &str,
    database: Option<&str>,
) -> Result<Option<PgAuth>, String> {
    let mut body = Vec::new();
    body.extend_from_slice(&196_608u32.to_be_bytes());
    for (k, v) in [
        ("user", Some(user)),
        ("database", database),
        ("application_name", Some("byod-precheck")),
    ] {
        if let Some(v) = v {
            body.extend_from_slice(k.as_bytes());
            body.push(0);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
    }
    body.push(0);
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    io.write_all(&msg).await.map_err(|e| e.to_string())?;
    for _ in 0..8 {
        let mut head = [0u8; 5];
        io.read_exact(&mut head).await.map_err(|e| e.to_string())?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if !(4..=MAX_MESSAGE).contains(&len) {
            return Err(format!(
                "the server's first message is {len} bytes long: not PostgreSQL"
            ));
        }
        let mut payload = vec![0u8; len - 4];
        io.read_exact(&mut payload)
            .await
            .map_err(|e| e.to_string())?;
        match head[0] {
            b'R' => {
                let code = payload
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .ok_or("a short authentication request")?;
                return Ok(Some(match code {
                    0 => PgAuth::None,
                    3 => PgAuth::Cleartext,
                    5 => PgAuth::Md5,
                    7 => PgAuth::Gss,
                    9 => PgAuth::Sspi,
                    10 => PgAuth::Sasl,
                    n => PgAuth::Other(n),
                }));
            }
            b'E' => return Ok(None),
            b'N' => continue,
            other => {
                return Err(format!(
                    "the server answered the startup with message type {other:#04x}: not PostgreSQL"
                ));
            }
        }
    }
    Err("the server sent only notices".into())
}

/// What a MySQL server's greeting says about how the password would travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyGreeting {
    /// The authentication plugin the greeting names.
    pub plugin: Option<String>,
    /// The server offers TLS.
    pub tls: bool,
}

/// Reads a MySQL greeting on a connection of our own (nothing is sent) and closes it.
pub async fn mysql_greeting(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<MyGreeting, String> {
    let work = async {
        let mut tcp = TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let mut header = [0u8; 4];
        tcp.read_exact(&mut header)
            .await
            .map_err(|e| e.to_string())?;
        let len =
            usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
        if len > MAX_MESSAGE {
            return Err(format!("the greeting is {len} bytes long: not MySQL"));
        }
        let mut p = vec![0u8; len];
        tcp.read_exact(&mut p).await.map_err(|e| e.to_string())?;
        Ok(parse_greeting(&p))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| NO_ANSWER.to_string())?
}

/// Parses a HandshakeV10 payload: the TLS capability and the plugin name; what is missing or
/// malformed is `None`/`false`.
pub fn parse_greeting(p: &[u8]) -> MyGreeting {
    let mut g = MyGreeting {
        plugin: None,
        tls: false,
    };
    if p.first() != Some(&10) {
        return g;
    }
    let Some(version_end) = p.iter().skip(1).position(|&b| b == 0).map(|i| i + 1) else {
        return g;
    };
    // thread id (4), scramble part 1 (8), filler (1), capabilities low (2), charset (1),
    // status (2), capabilities high (2), scramble length (1), reserved (10), scramble part 2.
    let at = version_end + 1 + 4 + 8 + 1;
    let Some(low) = p.get(at..at + 2) else {
        return g;
    };
    let Some(high) = p.get(at + 5..at + 7) else {
        g.tls = u16::from_le_bytes([low[0], low[1]]) & 0x0800 != 0;
        return g;
    };
    let caps = u32::from(u16::from_le_bytes([low[0], low[1]]))
        | u32::from(u16::from_le_bytes([high[0], high[1]])) << 16;
    g.tls = caps & 0x0800 != 0;
    let scramble_len = p.get(at + 7).copied().unwrap_or(0) as usize;
    const PLUGIN_AUTH: u32 = 0x0008_0000;
    if caps & PLUGIN_AUTH != 0 {
        let part2 = scramble_len.saturating_sub(8).max(13);
        let start = at + 8 + 10 + part2;
        if let Some(rest) = p.get(start..) {
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            g.plugin = Some(String::from_utf8_lossy(&rest[..end]).into_owned());
        }
    }
    g
}

/// Whether the password may go to a MySQL server that greeted this way under `ssl_mode`.
pub fn mysql_policy(ssl_mode: &str, g: &MyGreeting) -> Result<(), String> {
    let encrypted = g.tls && !ssl_mode.eq_ignore_ascii_case("disabled");
    if g.plugin.as_deref() == Some("mysql_clear_password") && !encrypted {
        return Err(
            "the server asks for the password in clear text (mysql_clear_password) on \
                    an unencrypted connection, so it was not sent; enable TLS on the server \
                    and use ssl-mode=required"
                .into(),
        );
    }
    Ok(())
}

/// What the pre-login look decided for the driver's own login.
#[derive(Default)]
pub struct Gate {
    /// The way is weak but allowed (recorded in the connection facts).
    pub risk: Option<String>,
    /// The server offered TLS to the look, where TLS is only preferred: the driver must then
    /// require it, so a server that declines it on the driver's connection cannot get the
    /// password in clear (TLS in between keeps the server name the driver verifies and sends).
    pub require_tls: bool,
    /// TLS is optional and the server did not offer it: the driver connects through this
    /// relay, which cuts the login if the server asks for a cleartext password after all
    /// ([`watch`]). Kept for as long as the driver may open connections.
    pub relay: Option<watch::Relay>,
}

impl Gate {
    /// The driver's connect options as the gate decided: through the relay (`relay_to` its
    /// loopback address and port), or with TLS required (`require_tls`), or as they are.
    pub fn route<O>(
        &self,
        options: O,
        relay_to: impl FnOnce(O, &str, u16) -> O,
        require_tls: impl FnOnce(O) -> O,
    ) -> O {
        match (&self.relay, self.require_tls) {
            (Some(r), _) => relay_to(options, &r.addr.ip().to_string(), r.addr.port()),
            (None, true) => require_tls(options),
            (None, false) => options,
        }
    }
}

impl crate::net::Gated for Gate {
    fn risk(&self) -> Option<String> {
        self.risk.clone()
    }
    /// Why a login the relay cut failed, to report instead of the driver's "connection closed".
    fn refused(&self) -> Option<crate::net::ConnectFailure> {
        let message = self.relay.as_ref()?.refused()?;
        Some(crate::net::ConnectFailure {
            kind: crate::net::FailureKind::Authentication,
            message,
        })
    }
}

/// The engine's pre-login look, then its policy: `Err` when the password must not be sent;
/// otherwise how the driver's login goes ([`Gate`]). Only where a password is given and the
/// connection is TCP (a local socket never leaves the machine). A pre-login that cannot
/// complete lets the driver's login go ahead, through the relay where TLS is optional: it meets
/// the same problem and reports it in its own words.
pub async fn gate(
    spec: &crate::target::ConnSpec,
    tcp: bool,
    timeout: Duration,
) -> Result<Gate, crate::net::ConnectFailure> {
    use crate::tlsprobe::Preamble;
    use watch::Protocol;
    if spec.password.is_none() || !tcp {
        return Ok(Gate::default());
    }
    let refused = |message: String| crate::net::ConnectFailure {
        kind: crate::net::FailureKind::Authentication,
        message,
    };
    let (host, port) = (spec.tcp_host(), spec.port_or_default());
    // The look saw TLS offered (`Some(true)`), not offered (`Some(false)`), or did not finish.
    let (risk, offered, protocol) = match spec.dialect.preamble {
        Some(Preamble::Postgres) => {
            let sslmode = spec.option("sslmode").unwrap_or("prefer");
            // require and stricter: the driver refuses a server without TLS by itself.
            let require_auth = spec.option("require_auth");
            let tls_required = matches!(sslmode, "require" | "verify-ca" | "verify-full");
            if tls_required && require_auth.is_none() {
                return Ok(Gate::default());
            }
            let user = spec.user.as_deref().unwrap_or("postgres");
            let seen = pg_auth_request(
                &host,
                port,
                user,
                spec.database.as_deref(),
                !matches!(sslmode, "disable" | "allow"),
                timeout,
            )
            .await;
            let (risk, offered) = match seen {
                Ok(seen) => {
                    pg_policy(require_auth, &seen).map_err(refused)?;
                    (pg_risk(&seen), Some(seen.encrypted))
                }
                // The driver would wait as long again for the same silence.
                Err(e) if e.starts_with(NO_ANSWER) => return Err(no_answer(timeout)),
                Err(_) => (None, None),
            };
            // Watched only where TLS is optional and the user did not allow a cleartext
            // password without it.
            let cleartext = PgPreLogin {
                encrypted: false,
                auth: Some(PgAuth::Cleartext),
            };
            if tls_required || pg_policy(require_auth, &cleartext).is_ok() {
                return Ok(Gate {
                    risk,
                    ..Gate::default()
                });
            }
            let offered = offered.filter(|_| sslmode == "prefer");
            (risk, offered, Protocol::Postgres)
        }
        Some(Preamble::Mysql) => {
            let mode = spec
                .option("ssl-mode")
                .unwrap_or("preferred")
                .to_ascii_lowercase()
                .replace('-', "_");
            let offered = match mysql_greeting(&host, port, timeout).await {
                Ok(g) => {
                    mysql_policy(&mode, &g).map_err(refused)?;
                    Some(g.tls)
                }
                Err(e) if e.starts_with(NO_ANSWER) => return Err(no_answer(timeout)),
                Err(_) => None,
            };
            if !matches!(mode.as_str(), "disabled" | "preferred") {
                return Ok(Gate::default());
            }
            (
                None,
                offered.filter(|_| mode == "preferred"),
                Protocol::Mysql,
            )
        }
        // SQL Server's login is inside TLS (TDS encrypts at least the login packet).
        Some(Preamble::Tds) | None => return Ok(Gate::default()),
    };
    if offered == Some(true) {
        return Ok(Gate {
            risk,
            require_tls: true,
            relay: None,
        });
    }
    // Without a relay the driver would meet a cleartext request unwatched: no login then.
    let relay =
        watch::start(protocol, &host, port)
            .await
            .map_err(|e| crate::net::ConnectFailure {
                kind: crate::net::FailureKind::Config,
                message: format!("cannot start the login watch on loopback: {e}"),
            })?;
    Ok(Gate {
        risk,
        require_tls: false,
        relay: Some(relay),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn seen(auth: PgAuth, encrypted: bool) -> PgPreLogin {
        PgPreLogin {
            encrypted,
            auth: Some(auth),
        }
    }

    #[test]
    fn cleartext_needs_tls_or_consent_and_require_auth_narrows() {
        assert!(pg_policy(None, &seen(PgAuth::Cleartext, false)).is_err());
        assert!(pg_policy(None, &seen(PgAuth::Cleartext, true)).is_ok());
        assert!(pg_policy(None, &seen(PgAuth::Md5, false)).is_ok());
        assert!(pg_risk(&seen(PgAuth::Md5, false)).is_some());
        assert!(pg_risk(&seen(PgAuth::Md5, true)).is_none());
        assert!(pg_policy(Some("password"), &seen(PgAuth::Cleartext, false)).is_ok());
        assert!(pg_policy(Some("scram-sha-256"), &seen(PgAuth::Md5, true)).is_err());
        assert!(pg_policy(Some("!md5,!password"), &seen(PgAuth::Sasl, false)).is_ok());
        assert!(pg_policy(Some("!md5,!password"), &seen(PgAuth::Md5, true)).is_err());
        assert!(
            crate::engines::postgres::connstr::validate_require_auth("scram-sha-256,md5").is_ok()
        );
        assert!(crate::engines::postgres::connstr::validate_require_auth("md5,!password").is_err());
        assert!(crate::engines::postgres::connstr::validate_require_auth("kerberos").is_err());
    }

    #[test]
    fn the_greeting_names_the_plugin_and_tls() {
        // MariaDB 10.11's greeting shape: version, thread id, scramble, caps with SSL and
        // PLUGIN_AUTH, then the plugin name.
        let mut p = vec![10];
        p.extend_from_slice(b"10.11.6-MariaDB\0");
        p.extend_from_slice(&[1, 0, 0, 0]);
        p.extend_from_slice(b"abcdefgh");
        p.push(0);
        p.extend_from_slice(&(0xffffu16).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[2, 0]);
        p.extend_from_slice(&(0x00ffu16 | 0x0008).to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0");
        p.extend_from_slice(b"mysql_clear_password\0");
        let g = parse_greeting(&p);
        assert_eq!(g.plugin.as_deref(), Some("mysql_clear_password"));
        assert!(g.tls);
        assert!(mysql_policy("preferred", &g).is_ok());
        assert!(mysql_policy("disabled", &g).is_err());
        assert_eq!(
            parse_greeting(b"\xff"),
            MyGreeting {
                plugin: None,
                tls: false
            }
        );
    }
}
