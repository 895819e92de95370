//! SQLite identification: `sqlite_version()` is the whole story.

use crate::engine::Engine;
use crate::identity::{Hints, IdentifyError, ServerIdentity, leading_numbers};

/// The flavors this engine names.
pub const FLAVORS: &[&str] = &["sqlite"];

/// Identifies SQLite from `sqlite_version()` ("3.45.1").
pub fn identify(v: &str, _hints: &Hints) -> Result<ServerIdentity, IdentifyError> {
    match leading_numbers(v.trim()).as_slice() {
        [major, minor, rest @ ..] => Ok(ServerIdentity {
            engine: Engine::Sqlite,
            flavor: "sqlite".into(),
            major: *major,
            minor: *minor,
            patch: Some(rest.first().copied().unwrap_or(0)),
            flavor_version: None,
            product: format!("SQLite {major}"),
            os: None,
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
