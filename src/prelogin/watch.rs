//! A loopback relay between the driver and the server that watches the login and cuts it before
//! a cleartext password could go out unencrypted. The pre-login look ([`super`]) runs
//! on a connection of its own, so a server can answer it one way (MD5, a native-password
//! greeting) and the driver's own connection another (AuthenticationCleartextPassword,
//! `mysql_clear_password`); neither driver offers a hook between "the server asked" and "the
//! password was sent". The relay reads the server's login messages before the driver sees them:
//! a cleartext request on an unencrypted connection is never forwarded, so the driver never
//! answers it. Once TLS starts, or the login ends, it only copies bytes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest login message read (an authentication request or a greeting is a few bytes).
const MAX_LOGIN_MESSAGE: usize = 64 * 1024;

/// Which protocol's login the relay watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Postgres,
    Mysql,
}

/// A running relay: the driver connects to [`Relay::addr`]; each connection it opens is relayed
/// to the server and watched. Stopped when dropped.
pub struct Relay {
    pub addr: SocketAddr,
    refused: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Why a login was cut, if one was: the connection failure to report.
    pub fn refused(&self) -> Option<String> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a relay to `host:port` on 127.0.0.1 (a port the system picks), on the current runtime.
pub async fn start(protocol: Protocol, host: &str, port: u16) -> std::io::Result<Relay> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let refused = Arc::new(Mutex::new(None));
    let (host, seen) = (host.to_string(), refused.clone());
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (host, seen) = (host.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect((host.as_str(), port)).await else {
                    return;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                if let Err(why) = relay(protocol, client, server).await
                    && let Ok(mut r) = seen.lock()
                {
                    r.get_or_insert(why);
                }
            });
        }
    });
    Ok(Relay {
        addr,
        refused,
        task,
    })
}

/// What a cut login says.
fn cleartext_refused(how: &str) -> String {
    format!(
        "the server asked for the password in clear text ({how}) on an unencrypted connection during the login, so it was not sent (the connection was cut); use TLS (sslmode=require / ssl-mode=required), or for PostgreSQL add require_auth=password to send it in clear anyway"
    )
}

/// Relays one connection: watches the login, then copies. `Err` only when the login was cut.
async fn relay(protocol: Protocol, client: TcpStream, server: TcpStream) -> Result<(), String> {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let start = match protocol {
        Protocol::Postgres => start_pg(&mut cr, &mut cw, &mut sr, &mut sw).await,
        Protocol::Mysql => start_mysql(&mut cr, &mut cw, &mut sr, &mut sw).await?,
    };
    if start == Watch::Closed {
        return Ok(());
    }
    // The client's bytes are copied as they come for the whole connection; the server's are
    // watched until the login ends (or TLS began), then copied.
    let up = async {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        let _ = sw.shutdown().await;
    };
    let down = async {
        let watched = match (start, protocol) {
            (Watch::Copy, _) => Watch::Copy,
            (_, Protocol::Postgres) => watch_pg(&mut sr, &mut cw).await?,
            (_, Protocol::Mysql) => watch_mysql(&mut sr, &mut cw).await?,
        };
        if watched == Watch::Copy {
            let _ = tokio::io::copy(&mut sr, &mut cw).await;
        }
        let _ = cw.shutdown().await;
        Ok::<(), String>(())
    };
    tokio::pin!(up, down);
    tokio::select! {
        r = &mut down => {
            // Cut: returning drops the client's side too. Otherwise the client finishes.
            r?;
            up.await;
            Ok(())
        }
        () = &mut up => down.await,
    }
}

/// Where the watch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// TLS began or the login ended: copy the rest.
    Copy,
    /// The server's login messages are still to be watched.
    Login,
    /// A side closed or sent what is not the protocol: the driver reports it.
    Closed,
}

/// Reads a PostgreSQL message (type byte, then length) into `buf`; `None` when closed or too big.
async fn pg_message<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Option<u8> {
    let mut head = [0u8; 5];
    r.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if !(4..=MAX_LOGIN_MESSAGE).contains(&len) {
        return None;
    }
    buf.clear();
    buf.extend_from_slice(&head);
    buf.resize(len + 1, 0);
    r.read_exact(&mut buf[5..]).await.ok()?;
    Some(head[0])
}

/// PostgreSQL's start: the client's first message (no type byte) is forwarded; an SSLRequest's
/// answer too, and `S` means TLS (copy from then on).
async fn start_pg<CR, CW, SR, SW>(cr: &mut CR, cw: &mut CW, sr: &mut SR, sw: &mut SW) -> Watch
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    SR: AsyncRead + Unpin,
    SW: AsyncWrite + Unpin,
{
    let first = async {
        let mut len = [0u8; 4];
        cr.read_exact(&mut len).await.ok()?;
        let n = u32::from_be_bytes(len) as usize;
        if !(8..=MAX_LOGIN_MESSAGE).contains(&n) {
            return None;
        }
        let mut body = vec![0u8; n];
        body[..4].copy_from_slice(&len);
        cr.read_exact(&mut body[4..]).await.ok()?;
        Some(body)
    };
    let Some(msg) = first.await else {
        return Watch::Closed;
    };
    if sw.write_all(&msg).await.is_err() {
        return Watch::Closed;
    }
    const SSL_REQUEST: [u8; 4] = [0x04, 0xd2, 0x16, 0x2f];
    const GSSENC_REQUEST: [u8; 4] = [0x04, 0xd2, 0x16, 0x30];
    if msg.len() == 8 && (msg[4..] == SSL_REQUEST || msg[4..] == GSSENC_REQUEST) {
        let mut b = [0u8; 1];
        if sr.read_exact(&mut b).await.is_err() || cw.write_all(&b).await.is_err() {
            return Watch::Closed;
        }
        if b[0] != b'N' {
            // Encrypted from here (or not PostgreSQL): the driver handles the rest.
            return Watch::Copy;
        }
        // Declined: the StartupMessage follows, unencrypted.
    }
    Watch::Login
}

/// PostgreSQL's server messages up to AuthenticationOk or an error; an
/// AuthenticationCleartextPassword is not forwarded.
async fn watch_pg<SR, CW>(sr: &mut SR, cw: &mut CW) -> Result<Watch, String>
where
    SR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    loop {
        let Some(kind) = pg_message(sr, &mut buf).await else {
            return Ok(Watch::Closed);
        };
        let code = (kind == b'R' && buf.len() >= 9)
            .then(|| u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]));
        if code == Some(3) {
            return Err(cleartext_refused("AuthenticationCleartextPassword"));
        }
        if cw.write_all(&buf).await.is_err() {
            return Ok(Watch::Closed);
        }
        // AuthenticationOk or an error: the login is over.
        if code == Some(0) || kind == b'E' {
            return Ok(Watch::Copy);
        }
    }
}

/// Reads a MySQL packet (3-byte length, sequence) into `buf`; `None` when closed or too big.
async fn my_packet<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Option<()> {
    let mut head = [0u8; 4];
    r.read_exact(&mut head).await.ok()?;
    let len = usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16;
    if len > MAX_LOGIN_MESSAGE {
        return None;
    }
    buf.clear();
    buf.extend_from_slice(&head);
    buf.resize(len + 4, 0);
    r.read_exact(&mut buf[4..]).await.ok()?;
    Some(())
}

/// MySQL's start: the greeting, then the client's first packet. An SSL request means TLS (copy
/// from then on); a HandshakeResponse answering a `mysql_clear_password` greeting would carry
/// the password in clear, and is not forwarded.
async fn start_mysql<CR, CW, SR, SW>(
    cr: &mut CR,
    cw: &mut CW,
    sr: &mut SR,
    sw: &mut SW,
) -> Result<Watch, String>
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    SR: AsyncRead + Unpin,
    SW: AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    if my_packet(sr, &mut buf).await.is_none() {
        return Ok(Watch::Closed);
    }
    let greeting = super::parse_greeting(&buf[4..]);
    if cw.write_all(&buf).await.is_err() || my_packet(cr, &mut buf).await.is_none() {
        return Ok(Watch::Closed);
    }
    const CLIENT_SSL: u32 = 0x0800;
    let caps = buf
        .get(4..8)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    // An SSL request is the response's first 32 bytes alone, with CLIENT_SSL set.
    let tls = buf.len() == 4 + 32 && caps & CLIENT_SSL != 0;
    if !tls && greeting.plugin.as_deref() == Some("mysql_clear_password") {
        return Err(cleartext_refused(
            "mysql_clear_password, named in the greeting",
        ));
    }
    if sw.write_all(&buf).await.is_err() {
        return Ok(Watch::Closed);
    }
    Ok(if tls { Watch::Copy } else { Watch::Login })
}

/// MySQL's server packets up to OK or ERR; an AuthSwitchRequest to `mysql_clear_password` is
/// not forwarded.
async fn watch_mysql<SR, CW>(sr: &mut SR, cw: &mut CW) -> Result<Watch, String>
where
    SR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    loop {
        if my_packet(sr, &mut buf).await.is_none() {
            return Ok(Watch::Closed);
        }
        let first = buf.get(4).copied();
        if first == Some(0xfe) {
            let name = buf[5..].split(|&b| b == 0).next().unwrap_or_default();
            if name == b"mysql_clear_password" {
                return Err(cleartext_refused(
                    "an AuthSwitchRequest to mysql_clear_password",
                ));
            }
        }
        if cw.write_all(&buf).await.is_err() {
            return Ok(Watch::Closed);
        }
        if matches!(first, Some(0x00 | 0xff)) {
            return Ok(Watch::Copy);
        }
    }
}
