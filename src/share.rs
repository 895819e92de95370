//! What a long-running caller (the service) shares between the checks it runs, for a short
//! while: each server's reach figures (addresses, DNS and TCP times) and its TLS inspection. A
//! server is reached the same way and presents the same certificate to every client, and a
//! connection opened only to be measured or inspected costs the server a process and a
//! handshake: a check that finds fresh figures takes them, and its findings say so and how old
//! they are (as `check --targets` shares them between the databases of one server).
//!
//! Keyed on where the check connects: under the service's guard on the addresses the guard
//! checked (never the name alone, so a name that now resolves elsewhere is measured again),
//! else on the host name; the TLS inspection also on the protocol, the name sent and verified
//! (SNI) and the CA's content. Nothing that depends on credentials is shared: the login, what
//! authentication the server asks of the user and every query run on each check's own
//! connection. Only successes are kept; a check whose login must wait for our inspection to
//! verify the name (`verify-full` through a pinned address) always inspects afresh.

use crate::net::{self, ConnectFailure, ConnectionFacts, Inspect};
use crate::tlsprobe::{self, Preamble, TlsInspection};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Per-server figures shared between checks for `ttl` (see the module documentation).
pub struct ServerShare {
    ttl: Duration,
    reach: Table<ReachKey, Reached>,
    tls: Table<TlsKey, TlsInspection>,
}

/// Servers remembered at most; past it, expired entries are dropped.
const MAX_ENTRIES: usize = 1024;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Place {
    /// The addresses the guard checked and the check is pinned to.
    Pinned(Vec<SocketAddr>),
    /// The host name (no guard: the driver resolves it).
    Name(String),
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct ReachKey {
    place: Place,
    port: u16,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct TlsKey {
    place: Place,
    port: u16,
    protocol: u8,
    /// The name sent as SNI and verified against the certificate.
    name: String,
    /// SHA-256 of the CA file's content (a pasted CA has a new file name each request).
    ca: Option<[u8; 32]>,
}

#[derive(Clone)]
struct Reached {
    addresses: Vec<String>,
    dns_ms: Option<u64>,
    tcp_ms: Option<u64>,
}

/// One measurement, done once for every check waiting on it; `None` when it failed.
type Cell<V> = Arc<tokio::sync::OnceCell<Option<(Instant, V)>>>;

struct Table<K, V> {
    cells: Mutex<HashMap<K, Cell<V>>>,
}

impl<K: Eq + Hash, V> Table<K, V> {
    fn new() -> Self {
        Table {
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// The cell for `key`: the current one while it is being measured or fresh, else a new one.
    fn cell(&self, key: K, ttl: Duration) -> Cell<V> {
        let fresh = |c: &Cell<V>| match c.get() {
            None => true,
            Some(v) => v.as_ref().is_some_and(|(at, _)| at.elapsed() <= ttl),
        };
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        if cells.len() >= MAX_ENTRIES {
            cells.retain(|_, c| fresh(c));
        }
        let c = cells.entry(key).or_default();
        if !fresh(c) {
            *c = Cell::default();
        }
        c.clone()
    }
}

fn age_ms(at: Instant) -> u64 {
    at.elapsed().as_millis() as u64
}

impl ServerShare {
    /// Figures are taken for `ttl` after they were measured, then measured again.
    pub fn new(ttl: Duration) -> ServerShare {
        ServerShare {
            ttl,
            reach: Table::new(),
            tls: Table::new(),
        }
    }

    /// How long figures are shared.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Reaches the server as [`net::reach`] does, unless fresh figures for the same place are
    /// shared: then they are recorded (with `reach_shared` and their age) and no connection is
    /// opened (`None`).
    pub(crate) async fn reach(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
        facts: &mut ConnectionFacts,
    ) -> Result<Option<TcpStream>, ConnectFailure> {
        let Some(place) = place(host, port).await else {
            return net::reach(host, port, timeout, facts).await.map(Some);
        };
        let cell = self.reach.cell(ReachKey { place, port }, self.ttl);
        let mut own = None;
        let shared = cell
            .get_or_init(|| async {
                let r = net::reach(host, port, timeout, facts).await;
                let v = r.is_ok().then(|| {
                    let reached = Reached {
                        addresses: facts.addresses.clone(),
                        dns_ms: facts.dns_ms,
                        tcp_ms: facts.tcp_ms,
                    };
                    (Instant::now(), reached)
                });
                own = Some(r);
                v
            })
            .await;
        match (own, shared) {
            (Some(r), _) => r.map(Some),
            (None, Some((at, r))) => {
                facts.addresses = r.addresses.clone();
                facts.dns_ms = r.dns_ms;
                facts.tcp_ms = r.tcp_ms;
                facts.reach_shared = true;
                facts.reach_age_ms = Some(age_ms(*at));
                Ok(None)
            }
            // The check that measured for everyone failed: this one measures for itself.
            (None, None) => net::reach(host, port, timeout, facts).await.map(Some),
        }
    }

    /// Inspects the server's TLS as [`tlsprobe::inspect`] does, unless a fresh inspection of
    /// the same place, protocol, name and CA is shared: then it is returned with its age, and
    /// `reached` (the connection opened to time the connect) is closed unused. `fresh`: the
    /// caller needs an inspection of its own (the login waits for it to verify the name).
    pub(crate) async fn inspect(
        &self,
        i: Inspect<'_>,
        timeout: Duration,
        fresh: bool,
        connect: tlsprobe::Connect,
    ) -> Result<TlsInspection, String> {
        let Inspect {
            host,
            port,
            preamble,
            ca,
            mut reached,
            shared: _,
        } = i;
        let run = |reached| tlsprobe::inspect(host, port, preamble, ca, timeout, reached, connect);
        let key = if fresh {
            None
        } else {
            tls_key(host, port, preamble, ca).await
        };
        let Some(key) = key else {
            return run(reached).await;
        };
        let cell = self.tls.cell(key, self.ttl);
        let mut own = None;
        let shared = cell
            .get_or_init(|| async {
                let r = run(reached.take()).await;
                let v = r.as_ref().ok().map(|i| (Instant::now(), i.clone()));
                own = Some(r);
                v
            })
            .await;
        match (own, shared) {
            (Some(r), _) => r,
            (None, Some((at, i))) => {
                drop(reached);
                let mut i = i.clone();
                i.shared_age_ms = Some(age_ms(*at));
                Ok(i)
            }
            (None, None) => run(reached).await,
        }
    }
}

/// Where a check of `host:port` connects: the pinned addresses under a guard, else the name.
/// `None`: the guard refuses the host (the check then fails on its own, unshared).
async fn place(host: &str, port: u16) -> Option<Place> {
    match net::pinned_addresses(host, port).await {
        Some(Ok(mut a)) => {
            a.sort();
            Some(Place::Pinned(a))
        }
        Some(Err(_)) => None,
        None => Some(Place::Name(host.to_ascii_lowercase())),
    }
}

async fn tls_key(
    host: &str,
    port: u16,
    preamble: Preamble,
    ca: Option<&std::path::Path>,
) -> Option<TlsKey> {
    use sha2::Digest;
    let ca = match ca {
        // A CA that cannot be read is not shared: the inspection reports it.
        Some(p) => Some(sha2::Sha256::digest(std::fs::read(p).ok()?).into()),
        None => None,
    };
    Some(TlsKey {
        place: place(host, port).await?,
        port,
        protocol: match preamble {
            Preamble::Postgres => 0,
            Preamble::Mysql => 1,
            Preamble::Tds => 2,
        },
        name: host.to_ascii_lowercase(),
        ca,
    })
}

impl net::Sharing for ServerShare {
    fn reach<'a>(
        &'a self,
        host: &'a str,
        port: u16,
        timeout: Duration,
        facts: &'a mut ConnectionFacts,
    ) -> Pin<Box<dyn Future<Output = Result<Option<TcpStream>, ConnectFailure>> + Send + 'a>> {
        Box::pin(ServerShare::reach(self, host, port, timeout, facts))
    }

    fn inspect<'a>(
        &'a self,
        inspect: Inspect<'a>,
        timeout: Duration,
        fresh: bool,
        connect: tlsprobe::Connect,
    ) -> Pin<Box<dyn Future<Output = Result<TlsInspection, String>> + Send + 'a>> {
        Box::pin(ServerShare::inspect(self, inspect, timeout, fresh, connect))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_inspection_is_shared_only_for_the_same_name_protocol_and_ca_content() {
        let dir = std::env::temp_dir().join(format!("byod-share-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b, c) = (dir.join("a.pem"), dir.join("b.pem"), dir.join("c.pem"));
        std::fs::write(&a, "CA one").unwrap();
        std::fs::write(&b, "CA one").unwrap();
        std::fs::write(&c, "CA two").unwrap();
        let key = |host: &'static str, p: Preamble, ca: Option<std::path::PathBuf>| async move {
            tls_key(host, 5432, p, ca.as_deref()).await
        };
        let pg = Preamble::Postgres;
        let base = key("db.example.com", pg, Some(a.clone())).await.unwrap();
        // A pasted CA is a new file each time: the same content is the same key.
        assert!(base == key("DB.example.com", pg, Some(b)).await.unwrap());
        assert!(base != key("db.example.com", pg, Some(c)).await.unwrap());
        assert!(base != key("db.example.com", pg, None).await.unwrap());
        assert!(base != key("other.example.com", pg, Some(a.clone())).await.unwrap());
        assert!(
            base != key("db.example.com", Preamble::Mysql, Some(a))
                .await
                .unwrap()
        );
        // A CA that cannot be read is never shared.
        assert!(
            key("db.example.com", pg, Some(dir.join("missing.pem")))
                .await
                .is_none()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_or_stale_measurement_is_measured_again() {
        let t: Table<u8, u8> = Table::new();
        let ttl = Duration::from_secs(60);
        let c = t.cell(1, ttl);
        // In flight: the same cell for every caller.
        assert!(Arc::ptr_eq(&c, &t.cell(1, ttl)));
        c.set(Some((Instant::now(), 7))).unwrap();
        assert!(Arc::ptr_eq(&c, &t.cell(1, ttl)));
        // Stale: a new cell.
        let old = t.cell(3, ttl);
        let then = Instant::now()
            .checked_sub(Duration::from_secs(120))
            .unwrap();
        old.set(Some((then, 7))).unwrap();
        assert!(!Arc::ptr_eq(&old, &t.cell(3, ttl)));
        let failed = t.cell(2, ttl);
        failed.set(None).unwrap();
        assert!(!Arc::ptr_eq(&failed, &t.cell(2, ttl)));
    }
}
