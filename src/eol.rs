//! Vendor end-of-life dates, shipped as data (`checks/eol.json`) with the date they were
//! recorded; the report carries that date so a reader knows how fresh the verdict is.

use crate::engine::Engine;
use serde::Deserialize;
use time::Date;

const SOURCE: &str = include_str!("../checks/eol.json");

/// The end-of-life table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EolData {
    /// When the dates were recorded.
    pub data_date: String,
    pub about: String,
    pub releases: Vec<Release>,
}

/// One major version's lifecycle.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub engine: Engine,
    pub flavor: String,
    /// "15", "9.6", "8.0", "10.11", SQL Server "16" or "10.50".
    pub major: String,
    pub eol_date: String,
    #[serde(default)]
    pub release_date: Option<String>,
    #[serde(default)]
    pub product_name: Option<String>,
    #[serde(default)]
    pub lts: Option<serde_json::Value>,
    #[serde(default)]
    pub note: Option<String>,
    pub source: String,
}

impl Release {
    /// The end-of-life date.
    pub fn eol(&self) -> Option<Date> {
        parse_date(&self.eol_date)
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

impl EolData {
    /// The shipped table, read once per process (a fleet judges many targets with it). A test
    /// loads it, so a failure here is a build defect.
    pub fn shipped() -> &'static EolData {
        static SHIPPED: std::sync::OnceLock<EolData> = std::sync::OnceLock::new();
        SHIPPED.get_or_init(|| {
            serde_json::from_str(SOURCE).unwrap_or_else(|e| panic!("checks/eol.json: {e}"))
        })
    }

    /// The release line of an engine and flavor, by its major key ("15", "10.11", "16").
    pub fn find(&self, engine: Engine, flavor: &str, major: &str) -> Option<&Release> {
        self.releases
            .iter()
            .find(|r| r.engine == engine && r.flavor == flavor && r.major == major)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shipped_data_loads_and_every_date_parses() {
        let d = EolData::shipped();
        assert!(parse_date(&d.data_date).is_some());
        assert!(d.releases.len() > 50);
        for r in &d.releases {
            assert!(r.eol().is_some(), "{} {} {}", r.engine, r.flavor, r.major);
            assert!(
                r.source.starts_with("http"),
                "{} {} has no source",
                r.flavor,
                r.major
            );
        }
        assert_eq!(
            d.find(Engine::Postgres, "postgresql", "12")
                .unwrap()
                .eol_date,
            "2024-11-21"
        );
        assert!(d.find(Engine::Mssql, "sqlserver", "16").is_some());
        assert!(d.find(Engine::Mysql, "mariadb", "10.11").is_some());
    }
}
