//! PostgreSQL settings as a new session gets them, read through their unit (5s is 5000 ms), and where each is set (pg_settings.source, pg_db_role_setting).

use super::*;

/// Every setting as a new session gets it (`reset_val`: our transaction's own `SET LOCAL`
/// limits do not show there), with its unit and whether the server sets it: postgresql.conf,
/// ALTER SYSTEM, the command line or the environment, or (source `session`: our own SET LOCAL
/// shows as this transaction's) a value a new session gets that differs from the built-in one.
/// Judged by the server, so ~350 rows come back with four columns, not five.
pub(super) const SETTINGS: &str = "SELECT name, reset_val, unit, \
    coalesce(source IN ('configuration file', 'command line', 'environment variable') \
    OR (source = 'session' AND reset_val IS DISTINCT FROM boot_val), false) FROM pg_settings";

/// name, reset_val, unit, set by the server.
pub(super) type SettingRow = (String, Option<String>, Option<String>, bool);

/// The settings `ALTER ROLE ... SET` and `ALTER DATABASE ... SET` give our role and database:
/// role ('' for all), database ('' for all), `name=value`.
pub(super) const ROLE_SETTINGS: &str = "SELECT coalesce(r.rolname::text, ''), coalesce(d.datname::text, ''), c.cfg \
    FROM pg_db_role_setting s CROSS JOIN LATERAL unnest(s.setconfig) AS c(cfg) \
    LEFT JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase \
    WHERE (s.setrole = 0 OR r.rolname = current_user) AND (s.setdatabase = 0 OR d.datname = current_database())";

/// The settings our driver (sqlx) sets for its own session when it logs in, by their
/// pg_settings name, with the value a server gives when nothing sets them (`None`: it depends
/// on the database, or on the version).
pub(super) const DRIVER_SET: &[(&str, Option<&str>)] = &[
    ("TimeZone", Some("GMT")),
    ("DateStyle", Some("ISO, MDY")),
    ("client_encoding", None),
    ("extra_float_digits", None),
];

/// Whether our driver sets this setting for its own session (see [`DRIVER_SET`]).
pub fn set_by_our_driver(name: &str) -> bool {
    DRIVER_SET.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// What postgresql.conf and ALTER SYSTEM give [`DRIVER_SET`] (superusers only; PostgreSQL
/// 9.5+), in the order the server applies them (the last one wins).
pub(super) const DRIVER_SET_IN_FILES: &str = "SELECT name, setting FROM pg_file_settings \
    WHERE lower(name) IN ('timezone', 'datestyle', 'client_encoding', 'extra_float_digits') \
    AND applied ORDER BY seqno";

/// Puts in `settings` the values of [`DRIVER_SET`] other clients get, read where they are set:
/// ALTER ROLE/DATABASE ... SET, else the configuration files when a superuser could read them
/// (`files`, else why they were not), else, for TimeZone only, the server's log_timezone
/// (initdb and the managed services set both alike). A value that cannot be told is removed
/// (a rule on it then says so). Returns the time zone and where it was read.
pub(super) fn new_session_values(
    settings: &mut BTreeMap<String, String>,
    role_settings: &[(String, String, String)],
    files: Result<&[(String, String)], &str>,
) -> Option<(String, String)> {
    let mut zone = None;
    for (name, built_in) in DRIVER_SET {
        let lower = name.to_ascii_lowercase();
        let found = if let Some((v, level)) = role_level_value(name, role_settings) {
            Some((v, format!("set for the {level}")))
        } else if let Ok(files) = files {
            match files
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some((_, v)) => Some((v.clone(), "postgresql.conf or ALTER SYSTEM".to_string())),
                None => built_in.map(|v| {
                    (
                        v.to_string(),
                        format!("the built-in default: no configuration file sets {lower}"),
                    )
                }),
            }
        } else if *name == "TimeZone" {
            let why = files.err().unwrap_or_default();
            settings
                .get("log_timezone")
                .map(|z| (z.clone(), format!("log_timezone: {why}")))
        } else {
            None
        };
        match found {
            Some((v, from)) => {
                if *name == "TimeZone" {
                    zone = Some((v.clone(), from));
                }
                settings.insert(name.to_string(), v);
            }
            None => {
                settings.remove(*name);
            }
        }
    }
    zone
}

/// The level a row of [`ROLE_SETTINGS`] sets a value at, in the words of
/// `PgFacts::setting_levels`, with its precedence: the most specific wins, and every level
/// beats the server's files.
fn level_of(role: &str, db: &str) -> (u8, &'static str) {
    match (role.is_empty(), db.is_empty()) {
        (false, false) => (3, "role in database"),
        (false, true) => (2, "role"),
        (true, false) => (1, "database"),
        (true, true) => (0, "all roles"),
    }
}

/// The value `ALTER ROLE/DATABASE ... SET` gives a new session of our role in our database
/// (rows of [`ROLE_SETTINGS`]), the most specific one, and its level ([`level_of`]).
pub(super) fn role_level_value(
    name: &str,
    role_settings: &[(String, String, String)],
) -> Option<(String, &'static str)> {
    role_settings
        .iter()
        .filter_map(|(role, db, cfg)| {
            let (n, v) = cfg.split_once('=')?;
            n.eq_ignore_ascii_case(name)
                .then(|| (level_of(role, db), v.to_string()))
        })
        .max_by_key(|((rank, _), _)| *rank)
        .map(|((_, level), v)| (v, level))
}

/// Whether to read [`DRIVER_SET_IN_FILES`], or why not (the time zone is then read as the
/// server's log_timezone, and says why).
pub(super) fn read_files(
    judged: bool,
    version_num: u32,
    superuser: bool,
    role_settings: &[(String, String, String)],
) -> Result<(), &'static str> {
    if !superuser {
        Err("only a superuser may read the server's own timezone setting")
    } else if !judged {
        Err("the matrix judges no time zone, so the configuration files were not read")
    } else if version_num < 90500 {
        Err("PostgreSQL before 9.5 has no pg_file_settings")
    } else if DRIVER_SET
        .iter()
        .all(|(name, _)| role_level_value(name, role_settings).is_some())
    {
        Err("every one is set per role or database")
    } else {
        Ok(())
    }
}

/// What PostgreSQL's units are worth in ours: time in milliseconds, memory in kilobytes (the
/// units most settings already use, so `statement_timeout = 5s` reads 5000 and
/// `shared_buffers` 16384 × 8kB reads 131072).
pub(super) const UNITS: &[(&str, f64)] = &[
    ("us", 0.001),
    ("ms", 1.0),
    ("s", 1000.0),
    ("min", 60_000.0),
    ("h", 3_600_000.0),
    ("d", 86_400_000.0),
    ("B", 1.0 / 1024.0),
    ("kB", 1.0),
    ("8kB", 8.0),
    ("16kB", 16.0),
    ("32kB", 32.0),
    ("64kB", 64.0),
    ("MB", 1024.0),
    ("16MB", 16.0 * 1024.0),
    ("GB", 1024.0 * 1024.0),
    ("TB", 1024.0 * 1024.0 * 1024.0),
];

/// A setting's value in our units (see [`UNITS`]); values without a unit, or not numbers
/// (`-1`, `on`), as they are.
#[cfg(test)]
pub(super) fn normalize_value(value: &str, unit: Option<&str>) -> String {
    normalized(value.to_string(), unit)
}

/// [`normalize_value`] on an owned value (given back when it stays as it is).
fn normalized(value: String, unit: Option<&str>) -> String {
    let Some(factor) = unit.and_then(|u| UNITS.iter().find(|(n, _)| *n == u).map(|(_, f)| *f))
    else {
        return value;
    };
    match value.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && factor != 1.0 => {
            let v = n * factor;
            if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else {
                format!("{v}")
            }
        }
        _ => value,
    }
}

/// The settings in our units, and the level each non-default one is set at: `role in
/// database`, `role`, `database`, `all roles` (ALTER ROLE ALL; from pg_db_role_setting, the
/// most specific first) or `server` (postgresql.conf, ALTER SYSTEM, the command line).
pub(super) fn normalize_settings(
    rows: Vec<SettingRow>,
    role_settings: &[(String, String, String)],
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    // The most specific level of each name set per role or database.
    let mut ranked: BTreeMap<String, (u8, &'static str)> = BTreeMap::new();
    for (role, db, cfg) in role_settings {
        if let Some((name, _)) = cfg.split_once('=') {
            let this = level_of(role, db);
            let at = ranked.entry(name.to_ascii_lowercase()).or_insert(this);
            if this.0 > at.0 {
                *at = this;
            }
        }
    }
    let mut levels: BTreeMap<String, String> = ranked
        .into_iter()
        .map(|(name, (_, level))| (name, level.to_string()))
        .collect();
    // Collected, then built at once (the server sends them sorted by name).
    let values = rows
        .into_iter()
        .map(|(name, reset, unit, server_level)| {
            if server_level && !levels.contains_key(&name) {
                levels.insert(name.clone(), "server".into());
            }
            let value = normalized(reset.unwrap_or_default(), unit.as_deref());
            (name, value)
        })
        .collect();
    (values, levels)
}
