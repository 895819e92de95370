//! The service's SSRF guard: where a request may make the service connect. A host is resolved
//! once (through an injectable [`Resolver`], so tests can play DNS rebinding), every address it
//! resolved to is judged, and the check then connects to exactly those addresses (see
//! [`crate::net::guarded`]). Loopback, private, link-local, CGNAT, unique-local, IPv4-embedding
//! IPv6 and cloud-metadata addresses are refused unless `--allow-target` names them.

use crate::net::{ConnectFailure, ConnectGuard, FailureKind};
use ipnet::IpNet;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// A boxed future, as the object-safe traits here return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Name resolution, injectable: the system's in the service, a scripted one in tests.
pub trait Resolver: Send + Sync + 'static {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>>;
}

/// The system resolver (getaddrinfo through tokio).
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Host names of cloud metadata services: refused by name, whatever they resolve to.
const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];

/// Addresses of cloud metadata services (AWS, GCP, Azure, OpenStack: 169.254.169.254; AWS
/// IPv6: fd00:ec2::254; Oracle: 192.0.0.192; Alibaba: 100.100.100.200). Only an
/// `--allow-target` naming the address itself (a /32 or /128) lets one through.
const METADATA_ADDRS: &[IpAddr] = &[
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 0, 192)),
    IpAddr::V4(Ipv4Addr::new(100, 100, 100, 200)),
];

/// Ranges refused by default, with what they are. Knowledge as data: one table.
const REFUSED: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this network (0.0.0.0/8)"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private (10.0.0.0/8)"),
    ("172.16.0.0/12", "private (172.16.0.0/12)"),
    ("192.168.0.0/16", "private (192.168.0.0/16)"),
    ("169.254.0.0/16", "link-local"),
    ("100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"),
    ("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
    ("198.18.0.0/15", "benchmarking (198.18.0.0/15)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped IPv6"),
    ("::/96", "IPv4-compatible IPv6"),
    ("64:ff9b::/96", "NAT64 (embeds an IPv4 address)"),
    ("64:ff9b:1::/48", "local NAT64 (embeds an IPv4 address)"),
    ("2002::/16", "6to4 (embeds an IPv4 address)"),
    ("2001::/32", "Teredo (embeds an IPv4 address)"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
];

/// What `--allow-target` lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    /// An address range (`10.0.0.0/8`, `127.0.0.1`, `::1`).
    Net(IpNet),
    /// A host name the operator trusts, whatever it resolves to.
    Host(String),
    /// SQLite files: anywhere (`sqlite`) or under a folder (`sqlite:/srv/dbs`).
    Sqlite(Option<PathBuf>),
}

/// The service's connection policy: the `--allow-target` entries.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allow: Vec<Allow>,
}

impl Policy {
    /// Parses `--allow-target` values: a CIDR, an address, `sqlite`, `sqlite:DIR`, or a host name.
    pub fn parse(items: &[String]) -> Result<Policy, String> {
        let mut allow = Vec::new();
        for raw in items {
            let item = raw.trim();
            if item.is_empty() {
                return Err("--allow-target cannot be empty".into());
            }
            let lower = item.to_ascii_lowercase();
            if lower == "sqlite" {
                allow.push(Allow::Sqlite(None));
            } else if let Some(dir) = item.strip_prefix("sqlite:") {
                let dir = Path::new(dir).canonicalize().map_err(|e| {
                    format!("--allow-target {item}: the folder cannot be opened: {e}")
                })?;
                allow.push(Allow::Sqlite(Some(dir)));
            } else if let Ok(net) = item.parse::<IpNet>() {
                allow.push(Allow::Net(net.trunc()));
            } else if let Ok(ip) = item.trim_matches(['[', ']']).parse::<IpAddr>() {
                allow.push(Allow::Net(IpNet::from(ip)));
            } else if lower.contains('/') || lower.contains(':') {
                return Err(format!(
                    "--allow-target `{item}` is neither a CIDR, an address, `sqlite`, `sqlite:DIR` nor a host name"
                ));
            } else {
                allow.push(Allow::Host(lower.trim_end_matches('.').to_string()));
            }
        }
        Ok(Policy { allow })
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.allow
            .iter()
            .any(|a| matches!(a, Allow::Host(h) if h == host))
    }

    /// Why `ip` is refused, or `None` when it may be reached.
    pub fn refuses(&self, ip: IpAddr) -> Option<String> {
        let metadata = METADATA_ADDRS.contains(&ip);
        let allowed = self.allow.iter().any(|a| match a {
            // A metadata address passes only when named exactly.
            Allow::Net(n) if metadata => n.prefix_len() == n.max_prefix_len() && n.addr() == ip,
            Allow::Net(n) => n.contains(&ip),
            _ => false,
        });
        if allowed {
            return None;
        }
        if metadata {
            return Some(format!("{ip} is a cloud metadata service"));
        }
        REFUSED.iter().find_map(|(net, what)| {
            let net: IpNet = net.parse().ok()?;
            net.contains(&ip).then(|| format!("{ip} is {what}"))
        })
    }

    /// Whether a SQLite file may be opened: `Err` says why not. `:memory:` touches no file but
    /// is still a SQLite target: allowed with any `sqlite` entry.
    pub fn sqlite(&self, path: &str) -> Result<(), String> {
        let dirs: Vec<&Option<PathBuf>> = self
            .allow
            .iter()
            .filter_map(|a| match a {
                Allow::Sqlite(d) => Some(d),
                _ => None,
            })
            .collect();
        if dirs.is_empty() {
            return Err("SQLite targets are files on the service's own machine; the service refuses them unless started with --allow-target sqlite or sqlite:DIR".into());
        }
        if path == ":memory:" || dirs.iter().any(|d| d.is_none()) {
            return Ok(());
        }
        let real = Path::new(path).canonicalize().map_err(|_| {
            "the SQLite file is not under a folder --allow-target names".to_string()
        })?;
        if dirs
            .iter()
            .any(|d| d.as_ref().is_some_and(|d| real.starts_with(d)))
        {
            Ok(())
        } else {
            Err("the SQLite file is not under a folder --allow-target names".into())
        }
    }
}

/// The guard of one check: the policy, the resolver, and the refusal it made, if any (so the
/// service answers 403 rather than a report).
pub struct TargetGuard {
    policy: Arc<Policy>,
    resolver: Arc<dyn Resolver>,
    refused: Mutex<Option<String>>,
    /// Each host's answer, decided once: the service's own check before the run and every
    /// step of the run get the same addresses (one resolution, no rebinding window).
    decided: Mutex<Decided>,
}

type Decided = std::collections::BTreeMap<(String, u16), Result<Vec<SocketAddr>, ConnectFailure>>;

impl TargetGuard {
    pub fn new(policy: Arc<Policy>, resolver: Arc<dyn Resolver>) -> TargetGuard {
        TargetGuard {
            policy,
            resolver,
            refused: Mutex::new(None),
            decided: Mutex::default(),
        }
    }

    /// Why the guard refused a host of this check, if it did.
    pub fn refused(&self) -> Option<String> {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn decide(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let name = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        if let Ok(ip) = name.parse::<IpAddr>() {
            return match self.policy.refuses(ip) {
                Some(why) => Err(why),
                None => Ok(vec![SocketAddr::new(ip, port)]),
            };
        }
        if METADATA_NAMES.contains(&name.as_str()) && !self.policy.host_allowed(&name) {
            return Err(format!("`{name}` is a cloud metadata service"));
        }
        let addrs = match self.resolver.lookup(&name, port).await {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => return Err(format!("DNS:the host name `{name}` resolves to no address")),
            Err(e) => return Err(format!("DNS:the host name `{name}` does not resolve: {e}")),
        };
        if self.policy.host_allowed(&name) {
            return Ok(addrs);
        }
        // Every address must pass: a name that resolves to one public and one private address
        // could otherwise be steered to the private one.
        for a in &addrs {
            if let Some(why) = self.policy.refuses(a.ip()) {
                return Err(format!("`{name}` resolves to {why}"));
            }
        }
        Ok(addrs)
    }
}

impl ConnectGuard for TargetGuard {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<Vec<SocketAddr>, ConnectFailure>> {
        Box::pin(async move {
            let key = (host.to_ascii_lowercase(), port);
            if let Some(d) = self
                .decided
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
            {
                return d.clone();
            }
            let d = self.decide(host, port).await.map_err(|why| {
                if let Some(dns) = why.strip_prefix("DNS:") {
                    return ConnectFailure {
                        kind: FailureKind::Dns,
                        message: dns.to_string(),
                    };
                }
                let message = format!("the service may not connect there: {why}");
                *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(message.clone());
                ConnectFailure {
                    kind: FailureKind::Permission,
                    message,
                }
            });
            self.decided
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, d.clone());
            d
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn refused(policy: &Policy, ip: &str) -> bool {
        policy.refuses(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn refuses_internal_ranges_and_metadata_by_default() {
        let p = Policy::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "fd00:ec2::254",
            "fd12::1",
            "fe80::1",
            "64:ff9b::a00:1",
            "192.0.0.192",
        ] {
            assert!(refused(&p, ip), "{ip} should be refused");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "1.1.1.1"] {
            assert!(!refused(&p, ip), "{ip} should pass");
        }
    }

    #[test]
    fn allow_target_opens_a_range_but_metadata_only_when_named_exactly() {
        let p = Policy::parse(&["127.0.0.0/8".into(), "169.254.0.0/16".into()]).unwrap();
        assert!(!refused(&p, "127.0.0.1"));
        assert!(!refused(&p, "169.254.1.1"));
        assert!(refused(&p, "169.254.169.254"));
        assert!(refused(&p, "10.0.0.1"));
        let p = Policy::parse(&["169.254.169.254".into()]).unwrap();
        assert!(!refused(&p, "169.254.169.254"));
    }

    #[test]
    fn policy_parse_rejects_nonsense_and_reads_sqlite() {
        assert!(Policy::parse(&["10.0.0.0/99".into()]).is_err());
        assert!(Policy::parse(&["".into()]).is_err());
        let p = Policy::parse(&["sqlite".into(), "db.example.com.".into()]).unwrap();
        assert_eq!(
            p.allow,
            vec![Allow::Sqlite(None), Allow::Host("db.example.com".into())]
        );
        assert!(p.sqlite("/etc/passwd").is_ok());
        assert!(Policy::default().sqlite(":memory:").is_err());
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let p = Policy::parse(&[format!("sqlite:{}", dir.display())]).unwrap();
        assert!(p.sqlite("/etc/passwd").is_err());
    }
}
