//! SQLite identification: `sqlite_version()` is the whole story.

use crate::engine::Engine;
use crate::identity::{Hints, IdentifyError, ServerIdentity, leading_numbers};

/// The flavors this engine names.
pub const FLAVORS: &[&str] = &["sqlite"];

/// Identifies SQLite from `sqlite_version()` (`3.45.1`), `sqlite3_libversion_number()`
/// (`3045001`), or a shell banner (`SQLite version 3.45.1 2024-01-30 ...`, `sqlite3 --version`).
pub fn identify(v: &str, _hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    let t = v.trim();
    let t = t
        .strip_prefix("SQLite version ")
        .or_else(|| t.strip_prefix("SQLite "))
        .unwrap_or(t)
        .trim_start_matches(['v', 'V']);
    // The library's version number: major * 1000000 + minor * 1000 + patch.
    let numbers = if t.len() >= 7 && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>()
            .map(|n| vec![n / 1_000_000, (n / 1000) % 1000, n % 1000])
            .unwrap_or_default()
    } else {
        leading_numbers(t)
    };
    match numbers.as_slice() {
        [major @ 2..=9, minor, rest @ ..] => Ok(ServerIdentity {
            engine: Engine::Sqlite,
            flavor: "sqlite".into(),
            major: *major,
            minor: *minor,
            patch: Some(rest.first().copied().unwrap_or(0)),
            flavor_version: None,
            product: format!("SQLite {major}"),
            os: None,
            prerelease: None,
        }),
        _ => Err(IdentifyError::Unrecognized {
            engine: Engine::Sqlite,
            text: v.chars().take(200).collect(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{Engine, identify};

    #[test]
    fn versions() {
        let id = identify(Engine::Sqlite, "3.45.1", &[]).unwrap();
        assert_eq!((id.major, id.minor, id.patch), (3, 45, Some(1)));
        assert_eq!(id.version().to_string(), "3.45.1");
        assert!(identify(Engine::Sqlite, "three", &[]).is_err());
    }
}
