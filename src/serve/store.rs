//! Recent reports, kept in memory so the page and support can fetch one by id: bounded in count
//! and in age, the oldest dropped first. A report holds no secret (the report types carry none,
//! and the service scrubs the password from every string before storing).

use crate::report::Report;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The store's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub max_reports: usize,
    pub max_age: Duration,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_reports: 256,
            max_age: Duration::from_secs(3600),
        }
    }
}

/// The recent reports.
pub struct Store {
    bounds: Bounds,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: BTreeMap<String, (Instant, Arc<Report>)>,
    order: VecDeque<String>,
}

impl Store {
    pub fn new(bounds: Bounds) -> Store {
        Store {
            bounds,
            inner: Mutex::default(),
        }
    }

    /// Keeps a report under `id`, dropping the oldest beyond the bounds.
    pub fn put(&self, id: String, report: Arc<Report>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.by_id.insert(id.clone(), (Instant::now(), report));
        g.order.push_back(id);
        self.evict(&mut g);
    }

    /// A report still kept.
    pub fn get(&self, id: &str) -> Option<Arc<Report>> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        self.evict(&mut g);
        g.by_id.get(id).map(|(_, r)| r.clone())
    }

    /// How many reports are kept.
    pub fn len(&self) -> usize {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        self.evict(&mut g);
        g.by_id.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn evict(&self, g: &mut Inner) {
        let now = Instant::now();
        while let Some(oldest) = g.order.front().cloned() {
            let expired = g
                .by_id
                .get(&oldest)
                .is_none_or(|(at, _)| now.duration_since(*at) > self.bounds.max_age);
            if g.order.len() > self.bounds.max_reports || expired {
                g.order.pop_front();
                g.by_id.remove(&oldest);
            } else {
                break;
            }
        }
    }
}

/// A new report id: 128 random bits in hex (ids are capabilities: whoever has one can read the
/// report, so they are not guessable).
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: still unique, from the clock and a counter.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        return format!("{t:x}{n:x}");
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn report() -> Arc<Report> {
        let r: Report =
            serde_json::from_str(include_str!("../../reports/examples/sqlite.json")).unwrap();
        Arc::new(r)
    }

    #[test]
    fn bounded_in_count_and_age() {
        let s = Store::new(Bounds {
            max_reports: 2,
            max_age: Duration::from_secs(3600),
        });
        for id in ["a", "b", "c"] {
            s.put(id.into(), report());
        }
        assert!(s.get("a").is_none());
        assert!(s.get("b").is_some() && s.get("c").is_some());
        let s = Store::new(Bounds {
            max_reports: 10,
            max_age: Duration::from_millis(0),
        });
        s.put("x".into(), report());
        std::thread::sleep(Duration::from_millis(5));
        assert!(s.get("x").is_none());
        assert!(s.is_empty());
    }

    #[test]
    fn ids_are_long_and_distinct() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
