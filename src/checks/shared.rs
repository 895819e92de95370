//! The checks every engine shares, each declared once ([`shared`]), and how an engine's registry
//! is assembled from them and its own checks ([`registry`]). What differs between engines — the
//! remedy wording, identifier quoting, the engine's own title, doc and query text, or a whole
//! function where its logic differs — comes from the engine's [`SharedChecks`], never from a copy of
//! the check.
//!
//! A check shared by every engine is one entry in [`shared`] (and its logic beside the other
//! shared logic in `src/checks/`): every engine's registry includes it, in that order, with no
//! line in the engines' folders.

use super::{CommonFacts, connection, end_of_life, settings, time_zone, writability};
use crate::engine::Engine;
use crate::matrix::SettingRule;
use crate::net::FailureKind;
use crate::registry::{Category, Check, Ctx, Outcome};
use crate::report::TargetInfo;

/// What an engine supplies to the shared checks. Implemented by the engine's facts type.
pub trait SharedChecks: Sized + 'static {
    /// The engine, whose name prefixes the shared checks' ids (`postgres.version`).
    const ENGINE: Engine;
    /// Whether a server process answers (TLS, end of life, flavor, connection slots, time zone,
    /// clock, uptime). SQLite is a library reading a file: the server-only checks do not apply.
    const SERVER: bool = true;
    /// The connection option that gives an encrypted, verified connection (`engine.tls`).
    const TLS_SECURE_OPTION: &'static str = "";
    /// How to make room for more connections (`engine.max-connections`).
    const RAISE_CONNECTIONS: &'static str = "";
    /// What would show a setting the user cannot see (`engine.settings`).
    const HIDDEN_SETTING_HINT: &'static str;

    /// The facts every engine collects.
    fn common(&self) -> &CommonFacts;
    /// The fix for a connection that failed this way (`engine.connection`).
    fn connection_remedy(kind: FailureKind, target: &TargetInfo) -> String;
    /// The flavor whose end-of-life dates apply to a detected flavor, `None` when no vendor
    /// data applies (`engine.eol`).
    fn eol_flavor(flavor: &str) -> Option<&'static str> {
        let _ = flavor;
        None
    }
    /// The statement that sets a setting to what a rule asks (`engine.settings`).
    fn setting_remedy(&self, name: &str, rule: &SettingRule) -> String;
    /// How to set the server's time zone, with `{zone}` for the zone asked (`engine.time-zone`).
    fn time_zone_remedy(&self) -> String {
        String::new()
    }
    /// How to make the database accept writes (`engine.writability`).
    fn writability_remedy(&self) -> String;
    /// An identifier quoted for the engine's SQL (a leftover scratch object's name in the
    /// `DROP` support is told to run): the SQL standard's double quotes unless the engine
    /// quotes otherwise.
    fn quote_ident(name: &str) -> String {
        crate::quote::pg_ident(name)
    }
    /// The engine's own words for shared checks (and its own function where its logic differs).
    fn words() -> &'static [Words<Self>] {
        &[]
    }
}

/// A check every engine shares: its name (the id after `engine.`), its default wording and its
/// logic over what a [`SharedChecks`] supplies.
pub struct Shared<F: 'static> {
    /// The id after the engine's name: `version` gives `postgres.version`.
    pub name: &'static str,
    pub category: Category,
    pub title: &'static str,
    /// Why it matters and how to fix it, for engines that do not word it themselves.
    pub doc: &'static str,
    pub asks: &'static str,
    /// Only engines with a server process ([`SharedChecks::SERVER`]).
    pub server_only: bool,
    pub run: fn(&F, &Ctx) -> Outcome,
}

/// An engine's own wording of a shared check; `None` keeps the shared one.
pub struct Words<F: 'static> {
    /// The shared check's name.
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub doc: &'static str,
    pub asks: &'static str,
    pub category: Option<Category>,
    /// The engine's own function, where its logic adds to the shared one.
    pub run: Option<fn(&F, &Ctx) -> Outcome>,
}

impl<F> Words<F> {
    /// The engine's doc and query text for the shared check `name`.
    pub const fn new(name: &'static str, doc: &'static str, asks: &'static str) -> Self {
        Words {
            name,
            title: None,
            doc,
            asks,
            category: None,
            run: None,
        }
    }
    /// The engine's own title.
    pub const fn title(mut self, title: &'static str) -> Self {
        self.title = Some(title);
        self
    }
    /// The engine's own category.
    pub const fn category(mut self, category: Category) -> Self {
        self.category = Some(category);
        self
    }
    /// The engine's own function.
    pub const fn run(mut self, run: fn(&F, &Ctx) -> Outcome) -> Self {
        self.run = Some(run);
        self
    }
}

/// An engine's own checks that follow the shared check `after` in the report.
pub struct Place<F: 'static> {
    pub after: &'static str,
    pub checks: &'static [Check<F>],
}

const MIGRATIONS_DOC: &str = "Finds the history tables of the migration tools byod-precheck knows (Alembic, Django, Flyway, Liquibase, Rails, sqlx, EF Core, Diesel, refinery, SeaORM, goose, golang-migrate, dbmate, Ecto, knex, Sequelize, TypeORM, MikroORM, node-pg-migrate, Drizzle, Kysely, Prisma, Doctrine, Laravel, Phinx, yoyo), told apart by table name and columns, and reads each one's latest version (Django: per app). User tables with no known history warn as an unknown history. With [app.migrations], a missing history warns and another version fails.";

/// The checks every engine shares, in report order.
pub fn shared<F: SharedChecks>() -> Vec<Shared<F>> {
    vec![
        Shared {
            name: "connection",
            category: Category::Connection,
            title: "Server reached and login accepted",
            doc: "Reaches the server and logs in; a failure is classified (dns, refused, timeout, tls, authentication, database-missing, permission) with the fix for that step. Every other check needs this one.",
            asks: "DNS lookup; TCP connect; login",
            server_only: false,
            run: |f, _| connection(f.common(), F::connection_remedy),
        },
        Shared {
            name: "tls",
            category: Category::Security,
            title: "Connection encrypted and certificate verified",
            doc: "Encryption in use, protocol and cipher, and how the certificate was trusted. Unencrypted warns (fails with [app] require_tls); a certificate trusted without verification warns.",
            asks: "our own TLS handshake",
            server_only: true,
            run: |f, ctx| super::tls(f.common(), ctx, F::TLS_SECURE_OPTION),
        },
        Shared {
            name: "version",
            category: Category::Version,
            title: "Version supported by the matrix",
            doc: "The version against the matrix's versions (outside fails), recommended (outside warns) and tested_up_to (newer warns 'not yet tested').",
            asks: "the server's version",
            server_only: false,
            run: |f, ctx| super::version(f.common(), ctx),
        },
        Shared {
            name: "eol",
            category: Category::Version,
            title: "Release still supported by its vendor",
            doc: "Looks the release up in the shipped end-of-life data (checks/eol.json; its date is in the report). Past the date fails: no more security fixes. Within [app] eol_warn_days warns.",
            asks: "(no query: uses the version)",
            server_only: true,
            run: |f, ctx| end_of_life(f.common(), ctx, F::eol_flavor),
        },
        Shared {
            name: "flavor",
            category: Category::Flavor,
            title: "Flavor accepted",
            doc: "Names the product (the engine itself, a managed service or a compatible engine). A flavor outside the matrix's list fails.",
            asks: "the server's version strings",
            server_only: true,
            run: |f, ctx| super::flavor(f.common(), ctx),
        },
        Shared {
            name: "max-connections",
            category: Category::Settings,
            title: "Free connections for our pool",
            doc: "The server's connection limit against the connections in use and our [app] pool_size. Fewer usable slots than the pool fails; fewer free right now warns.",
            asks: "the connection limit and the sessions open",
            server_only: true,
            run: |f, ctx| super::connection_headroom(f.common(), ctx, F::RAISE_CONNECTIONS),
        },
        Shared {
            name: "settings",
            category: Category::Settings,
            title: "Settings the matrix names",
            doc: "Every rule of the engine's matrix settings table (min, max, equals, one_of, contains, excludes) against the server's settings.",
            asks: "the server's settings",
            server_only: false,
            run: |f, ctx| {
                settings(f.common(), ctx, F::HIDDEN_SETTING_HINT, |n, r| {
                    f.setting_remedy(n, r)
                })
            },
        },
        Shared {
            name: "time-zone",
            category: Category::Settings,
            title: "Server time zone",
            doc: "The server's time zone against [app] time_zone when set: timestamps shift when it differs.",
            asks: "the server's time zone",
            server_only: true,
            run: |f, ctx| time_zone(f.common(), ctx, &f.time_zone_remedy()),
        },
        Shared {
            name: "writability",
            category: Category::Writability,
            title: "Database accepts writes",
            doc: "A read-only database or replica makes every write fail. Fails when [app] needs_write is true.",
            asks: "whether the database is read-only",
            server_only: false,
            run: |f, ctx| writability(f.common(), ctx, &f.writability_remedy()),
        },
        Shared {
            name: "capabilities",
            category: Category::Capabilities,
            title: "SQL features the product relies on",
            doc: "Derived from the version and flavor. The matrix's capabilities list must all be present.",
            asks: "(derived from the version and flavor)",
            server_only: false,
            run: |f, ctx| super::capabilities(f.common(), ctx),
        },
        Shared {
            name: "write-probe",
            category: Category::Capabilities,
            title: "Scratch table created, exercised and rolled back (--probe-write)",
            doc: "Only with --probe-write: creates a uniquely named scratch table, exercises it, removes it and looks for leftovers; a leftover fails with the DROP to run.",
            asks: "CREATE TABLE byod_precheck_probe_...; ...; then a look for leftovers",
            server_only: false,
            run: |f, ctx| super::write_probe(f.common(), ctx, F::quote_ident),
        },
        Shared {
            name: "workload",
            category: Category::Capabilities,
            title: "The product's own SQL runs here (workload, --probe-write)",
            doc: "Only with --probe-write and a matrix that names [app.workload] dir: runs the product's SQL files for this engine in an area that is rolled back or dropped afterwards, and names each failing statement's file:line with the server's own error.",
            asks: "(each statement of the workload, rolled back)",
            server_only: false,
            run: |f, ctx| crate::workload::check(&f.common().workload, ctx),
        },
        Shared {
            name: "database-size",
            category: Category::Resources,
            title: "Database size",
            doc: "The size of the target database, for capacity planning.",
            asks: "the database's size",
            server_only: false,
            run: |f, _| super::database_size(f.common(), None),
        },
        Shared {
            name: "clock-skew",
            category: Category::Resources,
            title: "Server clock agrees with this machine",
            doc: "The server's clock against this machine's clock at the middle of the round trip. More than [app] max_clock_skew_seconds warns: tokens, caches and audit times go wrong.",
            asks: "the server's clock",
            server_only: true,
            run: |f, ctx| super::clock_skew(f.common(), ctx),
        },
        Shared {
            name: "uptime",
            category: Category::Resources,
            title: "Server uptime",
            doc: "How long the server has run. Under ten minutes warns: the server may be restarting in a loop.",
            asks: "the server's start time",
            server_only: true,
            run: |f, _| super::uptime(f.common()),
        },
        Shared {
            name: "migrations",
            category: Category::Migrations,
            title: "Migration history",
            doc: MIGRATIONS_DOC,
            asks: "the database's tables; then the latest row of each history table found",
            server_only: false,
            run: |f, ctx| super::migrations(f.common(), ctx),
        },
    ]
}

impl<F> Shared<F> {
    fn applies_to<D: SharedChecks>(&self) -> bool {
        D::SERVER || !self.server_only
    }
}

/// An engine's registry: the shared checks that apply to it, in [`shared`]'s order, each
/// followed by the engine's own checks placed after it. Built once per process (the ids of
/// shared checks are made once and live as long as the program).
pub fn registry<F: SharedChecks>(own: &'static [Place<F>]) -> Vec<Check<F>> {
    let mut out = Vec::new();
    for s in shared::<F>() {
        if !s.applies_to::<F>() {
            continue;
        }
        let words = F::words().iter().find(|w| w.name == s.name);
        out.push(Check {
            id: Box::leak(format!("{}.{}", F::ENGINE.name(), s.name).into_boxed_str()),
            category: words.and_then(|w| w.category).unwrap_or(s.category),
            title: words.and_then(|w| w.title).unwrap_or(s.title),
            doc: words.map_or(s.doc, |w| w.doc),
            asks: words.map_or(s.asks, |w| w.asks),
            run: words.and_then(|w| w.run).unwrap_or(s.run),
        });
        for place in own.iter().filter(|p| p.after == s.name) {
            out.extend(place.checks.iter().map(Check::clone));
        }
    }
    out
}

/// What is wrong with an engine's placement and wording: a [`Place`] or [`Words`] naming no
/// shared check that applies to the engine (its checks would be lost, its words ignored).
pub fn misplaced<F: SharedChecks>(own: &'static [Place<F>]) -> Vec<&'static str> {
    let names: Vec<&str> = shared::<F>()
        .into_iter()
        .filter(|s| s.applies_to::<F>())
        .map(|s| s.name)
        .collect();
    own.iter()
        .map(|p| p.after)
        .chain(F::words().iter().map(|w| w.name))
        .filter(|n| !names.contains(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{mssql, mysql, postgres, sqlite};

    #[test]
    fn shared_names_are_unique_and_kebab_case() {
        let names: Vec<&str> = shared::<postgres::facts::PgFacts>()
            .iter()
            .map(|s| s.name)
            .collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[..i].contains(n), "{n} twice");
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
        }
    }

    #[test]
    fn every_placement_and_wording_names_a_shared_check_of_its_engine() {
        assert_eq!(misplaced(postgres::checks::OWN), Vec::<&str>::new());
        assert_eq!(misplaced(mysql::checks::OWN), Vec::<&str>::new());
        assert_eq!(misplaced(mssql::checks::OWN), Vec::<&str>::new());
        assert_eq!(misplaced(sqlite::checks::OWN), Vec::<&str>::new());
    }

    #[test]
    fn a_registry_holds_every_own_check_and_every_shared_check_that_applies() {
        fn count<F: SharedChecks>(own: &'static [Place<F>]) -> usize {
            shared::<F>().iter().filter(|s| s.applies_to::<F>()).count()
                + own.iter().map(|p| p.checks.len()).sum::<usize>()
        }
        assert_eq!(postgres::checks::CHECKS.len(), count(postgres::checks::OWN));
        assert_eq!(mysql::checks::CHECKS.len(), count(mysql::checks::OWN));
        assert_eq!(mssql::checks::CHECKS.len(), count(mssql::checks::OWN));
        assert_eq!(sqlite::checks::CHECKS.len(), count(sqlite::checks::OWN));
        // SQLite has no server: only the shared checks that need none.
        assert!(
            !sqlite::checks::CHECKS
                .iter()
                .any(|c| c.id == "sqlite.tls" || c.id == "sqlite.uptime")
        );
    }
}
