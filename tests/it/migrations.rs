//! Migration histories written by the real tools (installed from PyPI, npm and Debian by
//! scripts/migration-tools.sh) on PostgreSQL, MariaDB and SQLite: the migrations check names
//! each tool and its latest version, tells dbmate's `schema_migrations` from Rails', keeps
//! Django's latest per app, orders Alembic's heads, and calls a database with tables and no
//! history an unknown history.

use crate::support::{
    PgScratch, check_json, finding, matrix_file, psql, require, root, script_url, unique,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder the tools are installed in (once per test run).
fn tools() -> Option<PathBuf> {
    static DIR: OnceLock<Result<String, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| script_url("migration-tools.sh", &["up"]));
    require(
        "the migration tools (scripts/migration-tools.sh up)",
        dir.clone(),
    )
    .map(PathBuf::from)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Runs one tool over a fresh copy of its fixture (tests/fixtures/migration-tools/NAME).
struct Tools {
    dir: PathBuf,
    work: tempfile::TempDir,
}

impl Tools {
    fn new() -> Option<Tools> {
        Some(Tools {
            dir: tools()?,
            work: tempfile::tempdir().unwrap(),
        })
    }

    fn node(&self, bin: &str) -> String {
        self.dir
            .join("node/node_modules/.bin")
            .join(bin)
            .display()
            .to_string()
    }

    fn python(&self, bin: &str) -> String {
        self.dir.join("venv/bin").join(bin).display().to_string()
    }

    fn run(&self, fixture: &str, program: &str, args: &[&str], env: &[(&str, &str)]) {
        let dir = self.work.path().join(fixture);
        if !dir.exists() {
            copy_dir(
                &root().join("tests/fixtures/migration-tools").join(fixture),
                &dir,
            );
        }
        let out = Command::new(program)
            .args(args)
            .current_dir(&dir)
            .env("NODE_PATH", self.dir.join("node/node_modules"))
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("{fixture}: cannot run {program}: {e}"));
        assert!(
            out.status.success(),
            "{fixture}: {program} {args:?} failed\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The migrations finding of a check of `url` under `matrix` (TOML, may be empty).
fn migrations(url: &str, matrix: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_file(dir.path(), &format!("schema_version = 1\n{matrix}"));
    let (_, r, stdout, _) = check_json(&[url, "--matrix", m.to_str().unwrap()]);
    let id = format!("{}.migrations", r["target"]["engine"].as_str().unwrap());
    let f = finding(&r, &id).clone();
    assert!(f["observed"].is_string(), "{stdout}");
    f
}

fn assert_found(f: &serde_json::Value, expected: &[&str]) {
    let observed = f["observed"].as_str().unwrap();
    for e in expected {
        assert!(observed.contains(e), "expected `{e}` in: {observed}");
    }
}

const DJANGO_SHOP: &str =
    "[app.migrations]\ntool = \"django\"\napp = \"shop\"\nversion = \"0002_order_total\"\n";

/// Django's matrix rule names the app: the shop app is up to date even though a contrib app
/// (auth) migrated after it; another version of it fails.
fn assert_django_per_app(url: &str) {
    let f = migrations(url, DJANGO_SHOP);
    assert_eq!(f["status"], "pass", "{f}");
    let behind = migrations(
        url,
        &DJANGO_SHOP.replace("0002_order_total", "0003_order_paid"),
    );
    assert_eq!(behind["status"], "fail", "{behind}");
    assert!(
        behind["message"].as_str().unwrap().contains("behind"),
        "{behind}"
    );
}

#[test]
fn real_tools_on_postgresql() {
    let Some(t) = Tools::new() else { return };
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let url = s.url("postgres");
    let env_url = [("DB_URL", url.as_str()), ("DATABASE_URL", url.as_str())];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        env_url
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .collect()
    };
    let sa = format!("postgresql+psycopg2://postgres@127.0.0.1:5432/{}", s.db);
    t.run(
        "alembic",
        &t.python("alembic"),
        &["-c", "alembic.ini", "upgrade", "heads"],
        &[("DB_URL", &sa)],
    );
    t.run(
        "django",
        &t.python("python"),
        &["migrate.py"],
        &[
            ("DJANGO_SETTINGS_MODULE", "settings"),
            ("DB_ENGINE", "postgresql"),
            ("DB_NAME", &s.db),
            ("DB_USER", "postgres"),
            ("DB_HOST", "127.0.0.1"),
            ("DB_PORT", "5432"),
        ],
    );
    t.run(
        "yoyo",
        &t.python("yoyo"),
        &[
            "apply",
            "--batch",
            "--no-config-file",
            "--database",
            &url,
            "migrations",
        ],
        &[],
    );
    t.run(
        "knex",
        &t.node("knex"),
        &["migrate:latest", "--knexfile", "knexfile.js"],
        &with(&[("DB_CLIENT", "pg")]),
    );
    t.run(
        "sequelize",
        &t.node("sequelize-cli"),
        &[
            "db:migrate",
            "--url",
            &url,
            "--migrations-path",
            "migrations",
        ],
        &[],
    );
    t.run(
        "typeorm",
        &t.node("typeorm"),
        &["migration:run", "-d", "datasource.js"],
        &with(&[("DB_TYPE", "postgres")]),
    );
    t.run(
        "node-pg-migrate",
        &t.node("node-pg-migrate"),
        &["up", "-m", "migrations"],
        &with(&[]),
    );
    let dbmate_url = format!("{url}?sslmode=disable");
    t.run(
        "dbmate",
        &t.node("dbmate"),
        &[
            "--url",
            &dbmate_url,
            "--migrations-dir",
            "migrations",
            "--no-dump-schema",
            "up",
        ],
        &[],
    );
    t.run(
        "drizzle",
        &t.node("drizzle-kit"),
        &["migrate", "--config", "drizzle.config.js"],
        &with(&[("DB_DIALECT", "postgresql")]),
    );
    t.run(
        "kysely",
        "node",
        &["migrate.js"],
        &with(&[("DB_DIALECT", "postgres")]),
    );
    t.run(
        "mikroorm",
        "node",
        &["migrate.js"],
        &with(&[("DB_DRIVER", "postgresql")]),
    );

    let f = migrations(&url, "");
    assert_eq!(f["status"], "pass", "{f}");
    assert_found(
        &f,
        &[
            "alembic (alembic_version) at 0badc0de0003,f00dfeed0002",
            "shop.0002_order_total",
            "yoyo (_yoyo_migration) at 0002_users",
            "knex (knex_migrations) at 20240202120000_create_order.js",
            "sequelize (SequelizeMeta) at 20240202120000-create-order.js",
            "typeorm (migrations) at CreateOrder1710000000000",
            "node-pg-migrate (pgmigrations) at 1710000000000_create-order",
            "dbmate (schema_migrations) at 20240202120000",
            "drizzle (drizzle.__drizzle_migrations) at 1710000000000",
            "kysely (kysely_migration) at 2024_02_01_create_order",
            "mikroorm (mikro_orm_migrations) at Migration20240202120000",
        ],
    );
    assert!(!f["observed"].as_str().unwrap().contains("rails"), "{f}");
    assert_django_per_app(&url);
    // The matrix names any tool of the table, and its version.
    let knex = migrations(
        &url,
        "[app.migrations]\ntool = \"knex\"\nversion = \"20240202120000_create_order.js\"\n",
    );
    assert_eq!(knex["status"], "pass", "{knex}");
    let ahead = migrations(
        &url,
        "[app.migrations]\ntool = \"dbmate\"\nversion = \"20240101120000\"\n",
    );
    assert_eq!(ahead["status"], "fail", "{ahead}");
    assert!(
        ahead["message"].as_str().unwrap().contains("past"),
        "{ahead}"
    );
}

/// A scratch MariaDB database, dropped when the guard goes.
struct Maria(String);

impl Maria {
    fn new() -> Result<Maria, String> {
        let db = unique("precheck_mig");
        maria_sql(&format!("CREATE DATABASE `{db}`"))?;
        Ok(Maria(db))
    }
}

impl Drop for Maria {
    fn drop(&mut self) {
        let _ = maria_sql(&format!("DROP DATABASE IF EXISTS `{}`", self.0));
    }
}

fn maria_sql(sql: &str) -> Result<(), String> {
    let out = Command::new("mysql")
        .args(["-h127.0.0.1", "-P3306", "-uroot", "-e", sql])
        .output()
        .map_err(|e| e.to_string())?;
    out.status
        .success()
        .then_some(())
        .ok_or_else(|| String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn real_tools_on_mariadb() {
    let Some(t) = Tools::new() else { return };
    let Some(m) = require("local MariaDB", Maria::new()) else {
        return;
    };
    // Not while another test has changed a global setting (sql_mode, read_only).
    let _g = crate::mysql::read_globals();
    let url = format!("mysql://root@127.0.0.1:3306/{}", m.0);
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        [("DB_URL", url.as_str())]
            .into_iter()
            .chain(extra.iter().copied())
            .collect()
    };
    let sa = format!("mysql+pymysql://root@127.0.0.1:3306/{}", m.0);
    t.run(
        "alembic",
        &t.python("alembic"),
        &["-c", "alembic.ini", "upgrade", "heads"],
        &[("DB_URL", &sa)],
    );
    t.run(
        "django",
        &t.python("python"),
        &["migrate.py"],
        &[
            ("DJANGO_SETTINGS_MODULE", "settings"),
            ("DB_ENGINE", "mysql"),
            ("DB_NAME", &m.0),
            ("DB_USER", "root"),
            ("DB_HOST", "127.0.0.1"),
            ("DB_PORT", "3306"),
        ],
    );
    t.run(
        "yoyo",
        &t.python("yoyo"),
        &[
            "apply",
            "--batch",
            "--no-config-file",
            "--database",
            &url,
            "migrations",
        ],
        &[],
    );
    t.run(
        "knex",
        &t.node("knex"),
        &["migrate:latest", "--knexfile", "knexfile.js"],
        &with(&[("DB_CLIENT", "mysql2")]),
    );
    t.run(
        "sequelize",
        &t.node("sequelize-cli"),
        &[
            "db:migrate",
            "--url",
            &url,
            "--migrations-path",
            "migrations",
        ],
        &[],
    );
    t.run(
        "typeorm",
        &t.node("typeorm"),
        &["migration:run", "-d", "datasource.js"],
        &with(&[("DB_TYPE", "mariadb")]),
    );
    t.run(
        "dbmate",
        &t.node("dbmate"),
        &[
            "--url",
            &url,
            "--migrations-dir",
            "migrations",
            "--no-dump-schema",
            "up",
        ],
        &[],
    );
    t.run(
        "drizzle",
        &t.node("drizzle-kit"),
        &["migrate", "--config", "drizzle.config.js"],
        &with(&[("DB_DIALECT", "mysql")]),
    );
    t.run(
        "kysely",
        "node",
        &["migrate.js"],
        &with(&[("DB_DIALECT", "mysql")]),
    );
    t.run(
        "mikroorm",
        "node",
        &["migrate.js"],
        &with(&[("DB_DRIVER", "mysql")]),
    );

    let f = migrations(&url, "");
    assert_eq!(f["status"], "pass", "{f}");
    assert_found(
        &f,
        &[
            "alembic (alembic_version) at 0badc0de0003,f00dfeed0002",
            "shop.0002_order_total",
            "yoyo (_yoyo_migration) at 0002_users",
            "knex (knex_migrations) at 20240202120000_create_order.js",
            "sequelize (SequelizeMeta) at 20240202120000-create-order.js",
            "typeorm (migrations) at CreateOrder1710000000000",
            "dbmate (schema_migrations) at 20240202120000",
            "drizzle (__drizzle_migrations) at 1710000000000",
            "kysely (kysely_migration) at 2024_02_01_create_order",
            "mikroorm (mikro_orm_migrations) at Migration20240202120000",
        ],
    );
    assert!(!f["observed"].as_str().unwrap().contains("rails"), "{f}");
    assert_django_per_app(&url);
}

#[test]
fn real_tools_on_sqlite() {
    let Some(t) = Tools::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let path = db.display().to_string();
    let sa = format!("sqlite:///{path}");
    t.run(
        "alembic",
        &t.python("alembic"),
        &["-c", "alembic.ini", "upgrade", "heads"],
        &[("DB_URL", &sa)],
    );
    t.run(
        "django",
        &t.python("python"),
        &["migrate.py"],
        &[
            ("DJANGO_SETTINGS_MODULE", "settings"),
            ("DB_ENGINE", "sqlite3"),
            ("DB_NAME", &path),
        ],
    );
    t.run(
        "yoyo",
        &t.python("yoyo"),
        &[
            "apply",
            "--batch",
            "--no-config-file",
            "--database",
            &sa,
            "migrations",
        ],
        &[],
    );
    let dbmate_url = format!("sqlite:{path}");
    t.run(
        "dbmate",
        &t.node("dbmate"),
        &[
            "--url",
            &dbmate_url,
            "--migrations-dir",
            "migrations",
            "--no-dump-schema",
            "up",
        ],
        &[],
    );
    let libsql = format!("file:{path}");
    t.run(
        "drizzle",
        &t.node("drizzle-kit"),
        &["migrate", "--config", "drizzle.config.js"],
        &[("DB_DIALECT", "sqlite"), ("DB_URL", &libsql)],
    );
    let url = format!("sqlite://{path}");
    let f = migrations(&url, "");
    assert_eq!(f["status"], "pass", "{f}");
    assert_found(
        &f,
        &[
            "alembic (alembic_version) at 0badc0de0003,f00dfeed0002",
            "shop.0002_order_total",
            "yoyo (_yoyo_migration) at 0002_users",
            "dbmate (schema_migrations) at 20240202120000",
            "drizzle (__drizzle_migrations) at 1710000000000",
        ],
    );
    assert_django_per_app(&url);
}

/// Rails and dbmate write the same `schema_migrations (version)`: Rails' Active Record (Debian's
/// ruby-activerecord) leaves `ar_internal_metadata` beside it, and is named Rails on each engine.
#[test]
fn real_rails_is_told_from_dbmate() {
    let Some(t) = Tools::new() else { return };
    let expected = "rails (schema_migrations) at 20240202120000";
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let pg = s.url("postgres");
    t.run("rails", "ruby", &["migrate.rb"], &[("DB_URL", &pg)]);
    assert_found(&migrations(&pg, ""), &[expected]);
    let Some(m) = require("local MariaDB", Maria::new()) else {
        return;
    };
    let _g = crate::mysql::read_globals();
    let my = format!("mysql://root@127.0.0.1:3306/{}", m.0);
    let mysql2 = format!("mysql2://root@127.0.0.1:3306/{}", m.0);
    t.run("rails", "ruby", &["migrate.rb"], &[("DB_URL", &mysql2)]);
    assert_found(&migrations(&my, ""), &[expected]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rails.db").display().to_string();
    t.run(
        "rails",
        "ruby",
        &["migrate.rb"],
        &[("DB_URL", &format!("sqlite3:{path}"))],
    );
    let f = migrations(
        &format!("sqlite://{path}"),
        "[app.migrations]\ntool = \"rails\"\nversion = \"20240202120000\"\n",
    );
    assert_eq!(f["status"], "pass", "{f}");
    assert_found(&f, &[expected]);
}

#[test]
fn tables_without_a_known_history_are_an_unknown_history_not_a_fresh_database() {
    let Some(s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let url = s.url("postgres");
    let empty = migrations(&url, "");
    assert_eq!(empty["status"], "pass", "{empty}");
    assert!(
        empty["message"]
            .as_str()
            .unwrap()
            .contains("empty database"),
        "{empty}"
    );
    // A table named like a tool's but not laid out like one is no history either.
    psql(
        &crate::support::local_pg(&s.db),
        "CREATE TABLE customer (id int); CREATE TABLE schema_migrations (version int, applied_by text, note text)",
    )
    .unwrap();
    let f = migrations(&url, "");
    assert_eq!(f["status"], "warn", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown history: 2 user tables"),
        "{f}"
    );
    assert!(!f["message"].as_str().unwrap().contains("fresh"), "{f}");
    // With a rule, the missing history of our tool is that same unknown history.
    let ruled = migrations(&url, "[app.migrations]\ntool = \"flyway\"\n");
    assert_eq!(ruled["status"], "warn", "{ruled}");
    assert!(
        ruled["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown history"),
        "{ruled}"
    );
}

#[test]
fn a_history_our_user_may_not_read_names_its_grants_and_is_never_read_into_an_error() {
    let Some(mut s) = require("local PostgreSQL", PgScratch::new("")) else {
        return;
    };
    let Some(log) = require("the PostgreSQL server log", crate::safety::server_log()) else {
        return;
    };
    let role = s.role("").unwrap();
    s.sql(
        "CREATE SCHEMA app; \
         CREATE TABLE app.alembic_version (version_num varchar(32) PRIMARY KEY); \
         INSERT INTO app.alembic_version VALUES ('abc123'); \
         CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255), name varchar(255), applied timestamptz); \
         INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', now())",
    )
    .unwrap();
    let url = s.url(&role);
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let f = migrations(&url, "");
    assert_eq!(f["status"], "error", "{f}");
    assert_found(
        &f,
        &[
            "alembic (app.alembic_version, not readable by our user)",
            "django (django_migrations, not readable by our user)",
        ],
    );
    let grants = f["remedy"].as_str().unwrap().to_string();
    assert_eq!(
        grants,
        format!(
            "GRANT USAGE ON SCHEMA app TO {role}; GRANT SELECT ON app.alembic_version TO {role}; \
             GRANT SELECT ON public.django_migrations TO {role};"
        )
    );
    // Only the catalog was asked: the server logged no permission error for us.
    let ours = logged_since(&log, before, &format!("{role}@{}", s.db));
    assert!(
        !ours.iter().any(|l| l.contains("permission denied")),
        "{ours:#?}"
    );
    // A matrix naming the readable history judges it; the other one does not matter.
    s.sql(&format!("GRANT SELECT ON django_migrations TO {role}"))
        .unwrap();
    let django = migrations(
        &url,
        "[app.migrations]\ntool = \"django\"\napp = \"shop\"\nversion = \"0001_initial\"\n",
    );
    assert_eq!(django["status"], "pass", "{django}");
    // The remedy, run as it is printed, is the whole fix (a column grant is enough too).
    s.sql(&grants).unwrap();
    let f = migrations(&url, "");
    assert_eq!(f["status"], "pass", "{f}");
    assert_found(
        &f,
        &[
            "alembic (app.alembic_version) at abc123",
            "django (django_migrations) at shop.0001_initial",
        ],
    );
    s.sql(&format!(
        "REVOKE SELECT ON app.alembic_version FROM {role}; GRANT SELECT (version_num) ON app.alembic_version TO {role}"
    ))
    .unwrap();
    assert_eq!(migrations(&url, "")["status"], "pass");
    // A server that will not answer the privilege functions (here: refused to us; some servers
    // speaking PostgreSQL's protocol lack them) loses only that answer: the tables are read.
    s.sql("REVOKE EXECUTE ON FUNCTION has_column_privilege(oid, smallint, text) FROM PUBLIC")
        .unwrap();
    let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let f = migrations(&url, "");
    assert_eq!(f["status"], "pass", "{f}");
    assert_found(&f, &["alembic (app.alembic_version) at abc123"]);
    // The control for the log read above: this refusal is logged as ours, so a permission
    // error of ours would have been seen there.
    let ours = logged_since(&log, before, &format!("{role}@{}", s.db));
    assert!(
        ours.iter()
            .any(|l| l.contains("permission denied for function has_column_privilege")),
        "{ours:#?}"
    );
}

/// The server log's lines since byte `from` that carry `who` (`role@database`).
fn logged_since(log: &Path, from: u64, who: &str) -> Vec<String> {
    std::thread::sleep(std::time::Duration::from_millis(300));
    let text = std::fs::read(log).unwrap();
    String::from_utf8_lossy(&text[from as usize..])
        .lines()
        .filter(|l| l.contains(who))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_matrix_names_only_known_tools_and_apps_where_they_apply() {
    let dir = tempfile::tempdir().unwrap();
    // (matrix after `schema_version = 1`, message, line:column)
    for (text, needle, at) in [
        (
            "[app.migrations]\ntool = \"liquibas\"\n",
            "unknown tool `liquibas`",
            ":3:8:",
        ),
        (
            "[app.migrations]\ntool = \"knex\"\napp = \"shop\"\n",
            "`app` is for tools with a history per app",
            ":4:7:",
        ),
        (
            "[app.migrations]\ntool = \"django\"\nversion = \"0002_x\"\n",
            "name the app with `app",
            ":4:1:",
        ),
    ] {
        let m = matrix_file(dir.path(), &format!("schema_version = 1\n{text}"));
        let out = crate::support::bin()
            .args(["matrix", "validate", m.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{text}: {stderr}");
        assert!(stderr.contains(at), "{text}: {at} in {stderr}");
    }
}
