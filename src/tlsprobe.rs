//! The TLS layer of the connection diagnosis. Drivers hide the server certificate, so this
//! opens a connection of its own, speaks the protocol's TLS preamble (PostgreSQL's SSLRequest,
//! MySQL's SSL request packet), and completes a handshake that records the certificate and
//! judges it against the trust the user configured — without sending any credential.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod roots;

/// What the server's TLS looks like.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsInspection {
    /// The server version a MySQL greeting announced (a gateway may announce its own, apart
    /// from `VERSION()`), read before TLS; printable characters only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_greeting: Option<String>,
    /// Whether the server offers TLS at all.
    pub offered: bool,
    pub protocol: Option<String>,
    pub cipher: Option<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// DNS names and IP addresses the certificate is valid for.
    pub names: Vec<String>,
    pub not_after: Option<String>,
    pub expires_in_days: Option<i64>,
    pub self_signed: bool,
    /// Verification against the configured CA (or the system's roots): `None` when it passed,
    /// else why not (`untrusted`, `self-signed`, `hostname-mismatch`, `expired`, ...).
    pub verification_error: Option<String>,
    /// Shared by an earlier check of the same server in a service: how old the inspection was,
    /// in milliseconds (see `net::Sharing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_age_ms: Option<u64>,
}

/// Which protocol's preamble to speak before TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preamble {
    Postgres,
    Mysql,
    /// SQL Server: a TDS PRELOGIN exchange, then the TLS handshake inside PRELOGIN packets.
    Tds,
}

/// Connects (or uses `reached`, a fresh connection to the same server), negotiates TLS the way
/// the protocol allows, and records what the server presents.
pub async fn inspect(
    host: &str,
    port: u16,
    preamble: Preamble,
    ca_file: Option<&Path>,
    timeout: Duration,
    reached: Option<TcpStream>,
    connect: Connect,
) -> Result<TlsInspection, String> {
    tokio::time::timeout(
        timeout,
        inspect_inner(host, port, preamble, ca_file, reached, connect),
    )
    .await
    .map_err(|_| format!("no TLS answer within {} s", timeout.as_secs_f32()))?
}

/// [`inspect`], done once per server (host, port, protocol, CA file) for the whole process: a
/// fleet run checks many databases of the same server, which presents the same certificate to
/// each. Only a successful inspection is shared; concurrent callers wait for the first.
pub async fn inspect_shared(
    host: &str,
    port: u16,
    preamble: Preamble,
    ca_file: Option<&Path>,
    timeout: Duration,
    reached: Option<TcpStream>,
    connect: Connect,
) -> Result<TlsInspection, String> {
    type Key = (String, u16, bool, Option<std::path::PathBuf>);
    type Cell = Arc<tokio::sync::OnceCell<TlsInspection>>;
    static SHARED: std::sync::OnceLock<Mutex<std::collections::BTreeMap<Key, Cell>>> =
        std::sync::OnceLock::new();
    let key = (
        host.to_ascii_lowercase(),
        port,
        preamble == Preamble::Postgres,
        ca_file.map(Path::to_path_buf),
    );
    let cell = SHARED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone();
    let mut reached = reached;
    let r = cell
        .get_or_try_init(|| {
            inspect(
                host,
                port,
                preamble,
                ca_file,
                timeout,
                reached.take(),
                connect,
            )
        })
        .await
        .cloned();
    // When the inspection was shared, the connection opened to time the connect is not needed.
    drop(reached);
    r
}

/// How an inspection opens its TCP connection when none was handed over: the caller's resolver
/// and guard decide where it may go (`net::connect_tcp`).
pub type Connect = fn(
    String,
    u16,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = std::io::Result<TcpStream>> + Send>,
>;

async fn inspect_inner(
    host: &str,
    port: u16,
    preamble: Preamble,
    ca_file: Option<&Path>,
    reached: Option<TcpStream>,
    connect: Connect,
) -> Result<TlsInspection, String> {
    let mut tcp = match reached {
        Some(t) => t,
        None => connect(host.to_string(), port)
            .await
            .map_err(|e| e.to_string())?,
    };
    // Small writes in a row (preamble, handshake records): Nagle would hold them ~40 ms.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let offered = match preamble {
        Preamble::Tds => {
            if !tds_prelogin(&mut tcp).await? {
                return Ok(TlsInspection::default());
            }
            return handshake(TdsWrap::new(tcp), host, ca_file).await;
        }
        Preamble::Postgres => {
            // SSLRequest: length 8, code 80877103; the server answers one byte, S or N.
            tcp.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
                .await
                .map_err(|e| e.to_string())?;
            let mut b = [0u8; 1];
            tcp.read_exact(&mut b).await.map_err(|e| e.to_string())?;
            b[0] == b'S'
        }
        Preamble::Mysql => {
            let (offered, greeting) = mysql_ssl_request(&mut tcp).await?;
            let greeting = Some(greeting).filter(|g| !g.is_empty());
            if !offered {
                return Ok(TlsInspection {
                    server_greeting: greeting,
                    ..Default::default()
                });
            }
            let mut inspection = handshake(tcp, host, ca_file).await?;
            inspection.server_greeting = greeting;
            return Ok(inspection);
        }
    };
    if !offered {
        close_gracefully(tcp).await;
        return Ok(TlsInspection::default());
    }
    handshake(tcp, host, ca_file).await
}

/// A TLS session over `io` that accepts any certificate: for the pre-login look at what a
/// server asks before the password is sent (nothing secret goes over it).
pub(crate) async fn tls_connect_unverified<IO>(
    io: IO,
    host: &str,
) -> Result<tokio_rustls::client::TlsStream<IO>, String>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let recorder = Arc::new(Recorder::default());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, io)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))
}

/// Ends the connection and waits briefly for the server to close its side, reading what it
/// still sends. A server that admits one client at a time (PGlite) still counts this one until
/// then, and would refuse the login that follows. Over TLS, `shutdown` sends close_notify first:
/// dropped with the session tickets a server sends after the handshake still unread, the socket
/// is reset, and PostgreSQL logs "could not receive data from client: Connection reset by peer"
/// for every check. A server that does not close is not waited for long.
pub(crate) async fn close_gracefully<S>(mut stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let _ = tokio::time::timeout(Duration::from_millis(250), async {
        let _ = stream.shutdown().await;
        let mut buf = [0u8; 512];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// Completes a TLS handshake over `io`, recording the certificate, then judges the chain the
/// server sent against the trust the user configured. The judging reads the CA store (the
/// system's: ~150 certificates, once per process) on the blocking pool after the connection
/// is closed, so it neither holds the server nor stalls the driver's login beside it.
async fn handshake<IO>(io: IO, host: &str, ca_file: Option<&Path>) -> Result<TlsInspection, String>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if ca_file.is_none() {
        // The server offers TLS: read the system's roots on the other core while it answers
        // the handshake.
        drop(tokio::task::spawn_blocking(system_roots));
    }
    let recorder = Arc::new(Recorder::default());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = connector
        .connect(name.clone(), io)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))?;
    let (_, conn) = stream.get_ref();
    let mut out = TlsInspection {
        server_greeting: None,
        offered: true,
        protocol: conn
            .protocol_version()
            .map(|v| format!("{v:?}").replace("TLSv1_", "TLSv1.")),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite())),
        ..Default::default()
    };
    let seen = recorder.seen.lock().ok().and_then(|mut s| s.take());
    if let Some(chain) = &seen {
        describe(&chain.end_entity, &mut out);
    }
    let ca = ca_file.map(Path::to_path_buf);
    let verifying = async move {
        let Some(chain) = seen else {
            return Ok(None);
        };
        tokio::task::spawn_blocking(move || chain.verify(name, ca.as_deref()))
            .await
            .map_err(|e| format!("verifying the certificate: {e}"))?
            .map(Some)
    };
    let (verdict, ()) = tokio::join!(verifying, close_gracefully(stream));
    let Some(verdict) = verdict? else {
        return Ok(out);
    };
    // webpki names a self-signed certificate in several ways (BadSignature, UnknownIssuer,
    // CaUsedAsEndEntity): say it the one way people know.
    out.verification_error = match verdict {
        Some(_) if out.self_signed => {
            Some("self-signed: no CA this machine trusts vouches for it".into())
        }
        other => other,
    };
    Ok(out)
}

/// SQL Server: send PRELOGIN asking for encryption and read whether the server offers it.
async fn tds_prelogin(tcp: &mut TcpStream) -> Result<bool, String> {
    // Options: VERSION (6 bytes), ENCRYPTION (1: ON), INSTOPT (1: empty), THREADID (4), MARS (1).
    let options: [(u8, &[u8]); 5] = [
        (0x00, &[16, 0, 0, 0, 0, 0]),
        (0x01, &[0x01]),
        (0x02, &[0x00]),
        (0x03, &[0, 0, 0, 0]),
        (0x04, &[0x00]),
    ];
    let table_len = options.len() * 5 + 1;
    let mut table = Vec::new();
    let mut data = Vec::new();
    for (token, value) in options {
        let offset = (table_len + data.len()) as u16;
        table.push(token);
        table.extend_from_slice(&offset.to_be_bytes());
        table.extend_from_slice(&(value.len() as u16).to_be_bytes());
        data.extend_from_slice(value);
    }
    table.push(0xff);
    let payload = [table, data].concat();
    let mut packet = vec![0x12, 0x01];
    packet.extend_from_slice(&((payload.len() + 8) as u16).to_be_bytes());
    packet.extend_from_slice(&[0, 0, 1, 0]);
    packet.extend_from_slice(&payload);
    tcp.write_all(&packet).await.map_err(|e| e.to_string())?;
    let mut header = [0u8; 8];
    tcp.read_exact(&mut header)
        .await
        .map_err(|e| e.to_string())?;
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if header[0] != 0x04 || !(9..=4096).contains(&len) {
        return Err("the server did not answer PRELOGIN like SQL Server".into());
    }
    let mut body = vec![0u8; len - 8];
    tcp.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    let mut i = 0;
    while i + 5 <= body.len() && body[i] != 0xff {
        let (token, offset) = (
            body[i],
            usize::from(u16::from_be_bytes([body[i + 1], body[i + 2]])),
        );
        if token == 0x01 {
            // 0 OFF (the login is still encrypted), 1 ON, 2 NOT_SUP, 3 REQ
            return Ok(body.get(offset).is_some_and(|&e| e != 0x02));
        }
        i += 5;
    }
    Err("the PRELOGIN answer has no encryption option".into())
}

/// During the TDS handshake, TLS records travel inside PRELOGIN packets: this adapter wraps
/// what rustls writes and unwraps what the server sends.
struct TdsWrap {
    inner: TcpStream,
    out: Vec<u8>,
    header: [u8; 8],
    header_read: usize,
    remaining: usize,
}

impl TdsWrap {
    fn new(inner: TcpStream) -> Self {
        TdsWrap {
            inner,
            out: Vec::new(),
            header: [0; 8],
            header_read: 0,
            remaining: 0,
        }
    }
}

impl tokio::io::AsyncRead for TdsWrap {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        while this.remaining == 0 {
            while this.header_read < 8 {
                let mut hb = tokio::io::ReadBuf::new(&mut this.header[this.header_read..]);
                match std::pin::Pin::new(&mut this.inner).poll_read(cx, &mut hb) {
                    Poll::Ready(Ok(())) if hb.filled().is_empty() => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(())) => this.header_read += hb.filled().len(),
                    other => return other,
                }
            }
            let len = usize::from(u16::from_be_bytes([this.header[2], this.header[3]]));
            this.remaining = len.saturating_sub(8);
            this.header_read = 0;
        }
        let max = this.remaining.min(buf.remaining());
        let mut limited = tokio::io::ReadBuf::new(buf.initialize_unfilled_to(max));
        match std::pin::Pin::new(&mut this.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let n = limited.filled().len();
                this.remaining -= n;
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl tokio::io::AsyncWrite for TdsWrap {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.get_mut().out.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        if !this.out.is_empty() && this.out.first() != Some(&0x12) {
            let mut framed = vec![0x12, 0x01];
            framed.extend_from_slice(&((this.out.len() + 8) as u16).to_be_bytes());
            framed.extend_from_slice(&[0, 0, 1, 0]);
            framed.append(&mut this.out);
            this.out = framed;
        }
        while !this.out.is_empty() {
            match std::pin::Pin::new(&mut this.inner).poll_write(cx, &this.out) {
                Poll::Ready(Ok(n)) => drop(this.out.drain(..n)),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        std::pin::Pin::new(&mut this.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// MySQL: read the server greeting; if it offers SSL, send the SSL request packet. Returns
/// whether SSL was offered and the version the greeting announced.
async fn mysql_ssl_request(tcp: &mut TcpStream) -> Result<(bool, String), String> {
    let mut header = [0u8; 4];
    tcp.read_exact(&mut header)
        .await
        .map_err(|e| e.to_string())?;
    let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    if len > 1 << 16 {
        return Err("the greeting is not a MySQL handshake".into());
    }
    let mut payload = vec![0u8; len];
    tcp.read_exact(&mut payload)
        .await
        .map_err(|e| e.to_string())?;
    if payload.first() == Some(&0xff) {
        return Err(format!(
            "the server refused the connection: {}",
            String::from_utf8_lossy(payload.get(3..).unwrap_or_default())
        ));
    }
    // protocol version, NUL-terminated server version, thread id, 8 bytes of scramble, filler,
    // then the lower capability flags.
    let version_end = payload
        .iter()
        .skip(1)
        .position(|&b| b == 0)
        .ok_or("bad greeting")?
        + 1;
    // Hostile text: printable ASCII only, bounded.
    let greeting: String = String::from_utf8_lossy(payload.get(1..version_end).unwrap_or_default())
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(120)
        .collect();
    let caps_at = version_end + 1 + 4 + 8 + 1;
    let caps = payload.get(caps_at..caps_at + 2).ok_or("short greeting")?;
    const CLIENT_SSL: u16 = 0x0800;
    if u16::from_le_bytes([caps[0], caps[1]]) & CLIENT_SSL == 0 {
        return Ok((false, greeting));
    }
    // SSLRequest: capability flags (PROTOCOL_41 | SSL | SECURE_CONNECTION), max packet, charset
    // utf8mb4, 23 bytes of filler; sequence id 1.
    let flags: u32 = 0x0200 | 0x0800 | 0x8000;
    let mut p = vec![32, 0, 0, 1];
    p.extend_from_slice(&flags.to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0u8; 23]);
    tcp.write_all(&p).await.map_err(|e| e.to_string())?;
    Ok((true, greeting))
}

fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            for cert in rustls_pemfile_certs(&pem) {
                store
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        None => store = system_roots().clone(),
    }
    Ok(store)
}

/// The system's trusted CAs, read once per process: a fleet run inspects many servers.
fn system_roots() -> &'static RootCertStore {
    static SYSTEM: std::sync::OnceLock<RootCertStore> = std::sync::OnceLock::new();
    SYSTEM.get_or_init(|| {
        let mut s = RootCertStore::empty();
        for cert in roots::system() {
            let _ = s.add(cert);
        }
        s
    })
}

fn rustls_pemfile_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem).flatten().collect()
}

/// A verifier that accepts the handshake (we send no secret on this connection) and records
/// the chain the server sent, judged afterwards ([`Chain::verify`]).
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Option<Chain>>,
}

/// The certificates a server sent, as the handshake saw them.
#[derive(Debug)]
struct Chain {
    end_entity: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
    ocsp: Vec<u8>,
    now: UnixTime,
}

impl Chain {
    /// What real verification says of this chain for `name` against the CA file, or the
    /// system's roots: `None` when it passes.
    fn verify(
        &self,
        name: ServerName<'static>,
        ca_file: Option<&Path>,
    ) -> Result<Option<String>, String> {
        let roots = roots(ca_file)?;
        if roots.is_empty() {
            return Ok(Some(
                "untrusted: no CA certificates to verify against".to_string(),
            ));
        }
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .map_err(|e| e.to_string())?;
        Ok(verifier
            .verify_server_cert(
                &self.end_entity,
                &self.intermediates,
                &name,
                &self.ocsp,
                self.now,
            )
            .err()
            .map(|e| classify(&e)))
    }
}

fn classify(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "untrusted: issued by a CA this machine does not trust".into(),
            C::BadSignature => "self-signed or signed by an unknown key".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "hostname-mismatch: the certificate is not valid for this host name".into()
            }
            C::Expired | C::ExpiredContext { .. } => "expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "not valid yet".into(),
            C::Revoked => "revoked".into(),
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut s) = self.seen.lock() {
            *s = Some(Chain {
                end_entity: end_entity.clone().into_owned(),
                intermediates: intermediates
                    .iter()
                    .map(|c| c.clone().into_owned())
                    .collect(),
                ocsp: ocsp.to_vec(),
                now,
            });
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn describe(der: &[u8], out: &mut TlsInspection) {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return;
    };
    out.subject = Some(cert.subject().to_string());
    out.issuer = Some(cert.issuer().to_string());
    out.self_signed = cert.subject() == cert.issuer();
    let not_after = cert.validity().not_after.timestamp();
    out.not_after = time::OffsetDateTime::from_unix_timestamp(not_after)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    out.expires_in_days = Some((not_after - now).div_euclid(86_400));
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => {
                    out.names.push((*d).to_string())
                }
                x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                    4 => out
                        .names
                        .push(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string()),
                    16 => {
                        let mut b = [0u8; 16];
                        b.copy_from_slice(ip);
                        out.names.push(std::net::Ipv6Addr::from(b).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_that_does_not_parse_is_ignored_not_a_panic() {
        // Reading real certificates is proven by the live test
        // `safety::the_tls_layer_is_read_the_way_each_protocol_allows` (PostgreSQL, MySQL, TDS).
        let mut out = TlsInspection::default();
        describe(b"not a certificate", &mut out);
        assert_eq!(out, TlsInspection::default());
    }
}
