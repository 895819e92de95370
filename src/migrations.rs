//! The migration tools whose history tables the migrations check knows, as data in one place:
//! table names, the column signature that tells tools sharing a table name apart, how to read
//! the latest version from the rows, and how versions compare. The collectors only list the
//! candidate tables with their columns and read the columns this table names; recognising the
//! tool and picking the latest version are pure functions here.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// How the rows of a history table give the latest version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latest {
    /// Every row is a current head: all values, sorted, joined by `,` (Alembic branches).
    All(&'static str),
    /// The greatest value of the column.
    Max(&'static str),
    /// The value of the first column on the row where the second is greatest.
    MaxBy(&'static str, &'static str),
    /// goose: rows by `id` descending, a version whose latest row is not applied was rolled back.
    Goose,
}

/// How two versions of a tool compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Runs of digits as numbers, the rest as text: `V1.10` after `V1.9`, `0010_x` after `0009_y`,
    /// 14-digit timestamps in time order.
    Natural,
    /// Plain text order (ISO timestamps, hashes).
    Text,
}

/// A condition a row must meet to count as applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// The column is true (`true`, `t`, `1`).
    True,
    /// The column is NULL.
    Null,
    /// The column is not NULL.
    NotNull,
}

/// One migration tool's history table.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// The name the matrix uses (`[app.migrations] tool`).
    pub name: &'static str,
    /// For people.
    pub title: &'static str,
    /// The table names it uses by default (matched without regard to case).
    pub tables: &'static [&'static str],
    /// Columns the table must have (matched without regard to case).
    pub columns: &'static [&'static str],
    /// When true the table has exactly these columns: how Rails, dbmate, golang-migrate and
    /// Ecto, which all write `schema_migrations`, are told apart.
    pub exact: bool,
    /// When not empty, one of these must hold as well: how Rails (`ar_internal_metadata`
    /// beside it, or Rails 4's `varchar(255)`) is told from dbmate, whose table is the same.
    pub marks: &'static [Mark],
    /// How the latest version is read.
    pub latest: Latest,
    /// Rows that count as applied.
    pub applied: &'static [(&'static str, Cond)],
    /// The latest version is kept per value of this column (Django: per app).
    pub group: Option<&'static str>,
    /// How versions compare.
    pub compare: Compare,
}

const fn tool(name: &'static str, title: &'static str) -> Tool {
    Tool {
        name,
        title,
        tables: &[],
        columns: &[],
        exact: false,
        marks: &[],
        latest: Latest::Max("version"),
        applied: &[],
        group: None,
        compare: Compare::Natural,
    }
}

/// Every tool, most specific signature first where table names collide. Sources: each tool's
/// own table-creating code (Alembic `migration.py`, Django `recorder.py`, Flyway
/// `createMetaDataTable.sql`, Liquibase `StandardChangeLogHistoryService`, Rails
/// `schema_migration.rb`, sqlx `migrate.rs`, EF Core `HistoryRepository`, Diesel
/// `migration_harness`, refinery `traits/mod.rs`, SeaORM `seaql_migrations`, goose
/// `dialect`, golang-migrate `database/*`, dbmate `pkg/driver/*`, Ecto `SchemaMigration`,
/// knex `table-creator.js`, Umzug `SequelizeStorage`, TypeORM `MigrationExecutor`, MikroORM
/// `MigrationStorage`, node-pg-migrate `migration.ts`, Drizzle `migrator`, Kysely `migrator.ts`,
/// Prisma `migration-engine`, Doctrine `TableMetadataStorage`, Laravel
/// `DatabaseMigrationRepository`, Phinx `Adapter::createSchemaTable`, yoyo `backends/base.py`).
pub const TOOLS: &[Tool] = &[
    Tool {
        tables: &["alembic_version"],
        columns: &["version_num"],
        latest: Latest::All("version_num"),
        compare: Compare::Text,
        ..tool("alembic", "Alembic")
    },
    Tool {
        tables: &["django_migrations"],
        columns: &["id", "app", "name", "applied"],
        latest: Latest::Max("name"),
        group: Some("app"),
        ..tool("django", "Django")
    },
    Tool {
        // `schema_version` is the table of Flyway before 5.
        tables: &["flyway_schema_history", "schema_version"],
        columns: &["installed_rank", "version", "script", "success"],
        latest: Latest::Max("version"),
        applied: &[("success", Cond::True), ("version", Cond::NotNull)],
        ..tool("flyway", "Flyway")
    },
    Tool {
        tables: &["databasechangelog"],
        columns: &["id", "author", "filename", "orderexecuted"],
        latest: Latest::MaxBy("id", "orderexecuted"),
        ..tool("liquibase", "Liquibase")
    },
    Tool {
        tables: &["schema_migrations"],
        columns: &["version", "dirty"],
        exact: true,
        latest: Latest::Max("version"),
        ..tool("golang-migrate", "golang-migrate")
    },
    Tool {
        tables: &["schema_migrations"],
        columns: &["version", "inserted_at"],
        exact: true,
        ..tool("ecto", "Ecto")
    },
    Tool {
        tables: &["schema_migrations"],
        columns: &["version"],
        exact: true,
        marks: &[
            Mark::Beside("ar_internal_metadata"),
            Mark::Length("version", 255),
        ],
        ..tool("rails", "Rails (Active Record)")
    },
    Tool {
        // `version varchar(128)` on MySQL and SQLite, `varchar` on PostgreSQL: Rails' layout
        // without Rails' marks.
        tables: &["schema_migrations"],
        columns: &["version"],
        exact: true,
        ..tool("dbmate", "dbmate")
    },
    Tool {
        tables: &["_sqlx_migrations"],
        columns: &["version", "success"],
        applied: &[("success", Cond::True)],
        ..tool("sqlx", "sqlx")
    },
    Tool {
        tables: &["__efmigrationshistory"],
        columns: &["migrationid", "productversion"],
        latest: Latest::Max("migrationid"),
        ..tool("efcore", "Entity Framework Core")
    },
    Tool {
        tables: &["__diesel_schema_migrations"],
        columns: &["version", "run_on"],
        ..tool("diesel", "Diesel")
    },
    Tool {
        tables: &["refinery_schema_history"],
        columns: &["version", "name", "applied_on", "checksum"],
        ..tool("refinery", "refinery")
    },
    Tool {
        tables: &["seaql_migrations"],
        columns: &["version", "applied_at"],
        ..tool("seaorm", "SeaORM")
    },
    Tool {
        tables: &["goose_db_version"],
        columns: &["id", "version_id", "is_applied"],
        latest: Latest::Goose,
        ..tool("goose", "goose")
    },
    Tool {
        tables: &["knex_migrations"],
        columns: &["id", "name", "batch", "migration_time"],
        latest: Latest::Max("name"),
        ..tool("knex", "Knex")
    },
    Tool {
        tables: &["sequelizemeta"],
        columns: &["name"],
        exact: true,
        latest: Latest::Max("name"),
        ..tool("sequelize", "Sequelize")
    },
    Tool {
        tables: &["migrations"],
        columns: &["id", "timestamp", "name"],
        exact: true,
        latest: Latest::MaxBy("name", "timestamp"),
        ..tool("typeorm", "TypeORM")
    },
    Tool {
        tables: &["migrations"],
        columns: &["id", "migration", "batch"],
        exact: true,
        latest: Latest::Max("migration"),
        ..tool("laravel", "Laravel")
    },
    Tool {
        tables: &["mikro_orm_migrations"],
        columns: &["id", "name", "executed_at"],
        latest: Latest::MaxBy("name", "id"),
        ..tool("mikroorm", "MikroORM")
    },
    Tool {
        tables: &["pgmigrations"],
        columns: &["id", "name", "run_on"],
        latest: Latest::MaxBy("name", "id"),
        ..tool("node-pg-migrate", "node-pg-migrate")
    },
    Tool {
        tables: &["__drizzle_migrations"],
        columns: &["id", "hash", "created_at"],
        latest: Latest::Max("created_at"),
        ..tool("drizzle", "Drizzle")
    },
    Tool {
        tables: &["kysely_migration"],
        columns: &["name", "timestamp"],
        latest: Latest::MaxBy("name", "timestamp"),
        ..tool("kysely", "Kysely")
    },
    Tool {
        tables: &["_prisma_migrations"],
        columns: &[
            "id",
            "checksum",
            "finished_at",
            "migration_name",
            "rolled_back_at",
        ],
        latest: Latest::Max("migration_name"),
        applied: &[
            ("finished_at", Cond::NotNull),
            ("rolled_back_at", Cond::Null),
        ],
        ..tool("prisma", "Prisma")
    },
    Tool {
        // `migration_versions` is DoctrineMigrationsBundle before 3.
        tables: &["doctrine_migration_versions", "migration_versions"],
        columns: &["version"],
        ..tool("doctrine", "Doctrine Migrations")
    },
    Tool {
        tables: &["phinxlog"],
        columns: &["version", "migration_name", "start_time"],
        ..tool("phinx", "Phinx")
    },
    Tool {
        tables: &["_yoyo_migration"],
        columns: &["migration_hash", "migration_id", "applied_at_utc"],
        latest: Latest::MaxBy("migration_id", "applied_at_utc"),
        ..tool("yoyo", "yoyo-migrations")
    },
];

/// A sign, besides the columns, that a table is a tool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// This table exists in the same schema.
    Beside(&'static str),
    /// The column is a character type of this length.
    Length(&'static str, i64),
}

/// Tables the collectors list besides the history tables, for [`Mark::Beside`].
const COMPANIONS: &[&str] = &["ar_internal_metadata"];

/// A tool by its matrix name.
pub fn by_name(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

/// The matrix names of every tool, in table order.
pub fn names() -> Vec<&'static str> {
    TOOLS.iter().map(|t| t.name).collect()
}

/// Every table name a tool may use, lower case, sorted and without repeats: what the collectors
/// ask the catalog for.
/// [`table_names`] as a SQL list of string literals (`'alembic_version', ...`): plain lowercase
/// names, so quoting is all they need.
pub fn table_names_sql() -> String {
    let quoted: Vec<String> = table_names().iter().map(|t| format!("'{t}'")).collect();
    quoted.join(", ")
}

pub fn table_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = TOOLS
        .iter()
        .flat_map(|t| t.tables.iter().copied())
        .chain(COMPANIONS.iter().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A column of a candidate table, as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The declared or catalog type, lower case (`character varying`, `varchar(128)`, `bigint`).
    pub data_type: String,
    /// The character length, where the type has one.
    pub max_len: Option<i64>,
}

impl Column {
    /// A column from a catalog row; a length in the type (`varchar(128)`, SQLite) counts too.
    pub fn new(
        name: impl Into<String>,
        data_type: impl Into<String>,
        max_len: Option<i64>,
    ) -> Self {
        let data_type = data_type.into().to_ascii_lowercase();
        let max_len = max_len.or_else(|| {
            let inner = data_type.split_once('(')?.1.split_once(')')?.0;
            inner.trim().parse().ok()
        });
        Column {
            name: name.into(),
            data_type,
            max_len,
        }
    }
}

/// A table whose name a tool uses, with its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The schema, where the engine has them.
    pub schema: Option<String>,
    pub name: String,
    pub columns: Vec<Column>,
}

impl Candidate {
    /// Groups catalog rows `(schema, table, column, type, length)` into tables, in row order.
    pub fn from_rows(
        rows: impl IntoIterator<Item = (Option<String>, String, String, String, Option<i64>)>,
    ) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        for (schema, table, column, ty, len) in rows {
            let col = Column::new(column, ty, len);
            match out.last_mut() {
                Some(c) if c.schema == schema && c.name == table => c.columns.push(col),
                _ => out.push(Candidate {
                    schema,
                    name: table,
                    columns: vec![col],
                }),
            }
        }
        out
    }

    fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The tool whose table this is: its name, its column signature and one of its marks
    /// match; `all` is every candidate listed (for [`Mark::Beside`]).
    pub fn tool(&self, all: &[Candidate]) -> Option<&'static Tool> {
        TOOLS.iter().find(|t| {
            t.tables.iter().any(|n| n.eq_ignore_ascii_case(&self.name))
                && t.columns.iter().all(|c| self.column(c).is_some())
                && (!t.exact || self.columns.len() == t.columns.len())
                && (t.marks.is_empty()
                    || t.marks.iter().any(|m| match m {
                        Mark::Beside(other) => all
                            .iter()
                            .any(|o| o.schema == self.schema && o.name.eq_ignore_ascii_case(other)),
                        Mark::Length(c, len) => {
                            self.column(c).and_then(|c| c.max_len) == Some(*len)
                        }
                    }))
        })
    }

    /// The select list reading `tool`'s columns, each through `read` (the engine's quoting
    /// and cast to text): `CAST("version_num" AS text), ...`.
    pub fn select_list(&self, tool: &Tool, read: impl Fn(&str) -> String) -> String {
        let columns: Vec<String> = self.read_columns(tool).iter().map(|c| read(c)).collect();
        columns.join(", ")
    }

    /// The columns to read for `tool`, as the catalog spells them, in [`Tool::read_columns`]
    /// order.
    pub fn read_columns(&self, tool: &Tool) -> Vec<String> {
        tool.read_columns()
            .iter()
            .map(|c| self.column(c).map_or(c.to_string(), |c| c.name.clone()))
            .collect()
    }

    /// The table's name for people: `schema.table` unless the schema is the default one.
    pub fn display_name(&self, default_schema: &str) -> String {
        match &self.schema {
            Some(s) if s != default_schema => format!("{s}.{}", self.name),
            _ => self.name.clone(),
        }
    }
}

impl Tool {
    /// The columns the latest version is computed from, without repeats, in a fixed order.
    pub fn read_columns(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        let mut add = |c: &'static str| {
            if !v.contains(&c) {
                v.push(c);
            }
        };
        match self.latest {
            Latest::All(c) | Latest::Max(c) => add(c),
            Latest::MaxBy(c, by) => {
                add(c);
                add(by);
            }
            Latest::Goose => {
                add("id");
                add("version_id");
                add("is_applied");
            }
        }
        for (c, _) in self.applied {
            add(c);
        }
        if let Some(g) = self.group {
            add(g);
        }
        v
    }

    /// Compares two versions the way this tool orders them.
    pub fn compare(&self, a: &str, b: &str) -> Ordering {
        match self.compare {
            Compare::Natural => natural(a, b),
            Compare::Text => a.cmp(b),
        }
    }

    /// The latest version and the number of applied rows, from rows of
    /// [`Tool::read_columns`] read as text (NULL as `None`).
    pub fn evaluate(&self, rows: &[Vec<Option<String>>]) -> Evaluated {
        let cols = self.read_columns();
        let at = |row: &Vec<Option<String>>, c: &str| -> Option<String> {
            let i = cols.iter().position(|x| *x == c)?;
            row.get(i).cloned().flatten().map(|s| s.trim().to_string())
        };
        let applied: Vec<&Vec<Option<String>>> = rows
            .iter()
            .filter(|r| {
                self.applied.iter().all(|(c, cond)| {
                    let v = at(r, c);
                    match cond {
                        Cond::True => v.as_deref().is_some_and(truthy),
                        Cond::Null => v.is_none(),
                        Cond::NotNull => v.is_some(),
                    }
                })
            })
            .collect();
        let latest_of = |rows: &[&Vec<Option<String>>]| -> Option<String> {
            match self.latest {
                Latest::All(c) => {
                    let mut heads: Vec<String> = rows.iter().filter_map(|r| at(r, c)).collect();
                    heads.sort_by(|a, b| self.compare(a, b));
                    heads.dedup();
                    (!heads.is_empty()).then(|| heads.join(","))
                }
                Latest::Max(c) => rows
                    .iter()
                    .filter_map(|r| at(r, c))
                    .max_by(|a, b| self.compare(a, b)),
                Latest::MaxBy(c, by) => rows
                    .iter()
                    .filter_map(|r| {
                        Some((padded_fractions(&at(r, by).unwrap_or_default()), at(r, c)?))
                    })
                    .max_by(|a, b| natural(&a.0, &b.0).then_with(|| self.compare(&a.1, &b.1)))
                    .map(|(_, v)| v),
                Latest::Goose => goose(rows.iter().map(|r| {
                    (
                        at(r, "id").unwrap_or_default(),
                        at(r, "version_id").unwrap_or_default(),
                        at(r, "is_applied").as_deref().is_some_and(truthy),
                    )
                })),
            }
        };
        let mut by_group = BTreeMap::new();
        if let Some(g) = self.group {
            let mut groups: BTreeMap<String, Vec<&Vec<Option<String>>>> = BTreeMap::new();
            for r in &applied {
                groups
                    .entry(at(r, g).unwrap_or_default())
                    .or_default()
                    .push(r);
            }
            for (name, rows) in groups {
                if let Some(v) = latest_of(&rows) {
                    by_group.insert(name, v);
                }
            }
        }
        let latest = if self.group.is_some() {
            // Across groups there is no order of versions: the overall line names each group.
            (!by_group.is_empty()).then(|| {
                by_group
                    .iter()
                    .map(|(g, v)| format!("{g}.{v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        } else {
            latest_of(&applied)
        };
        Evaluated {
            latest,
            by_group,
            applied: applied.len() as u64,
        }
    }
}

/// What a history table says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evaluated {
    pub latest: Option<String>,
    /// The latest version per group (Django: per app).
    pub by_group: BTreeMap<String, String>,
    pub applied: u64,
}

/// A boolean as the engines print it once cast to text.
fn truthy(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "y" | "yes" | "on"
    )
}

/// goose's current version: newest row first, a version whose newest row is a rollback is
/// skipped.
fn goose(rows: impl Iterator<Item = (String, String, bool)>) -> Option<String> {
    let mut rows: Vec<(String, String, bool)> = rows.collect();
    rows.sort_by(|a, b| natural(&b.0, &a.0));
    let mut rolled_back: Vec<String> = Vec::new();
    for (_, version, applied) in rows {
        if rolled_back.contains(&version) {
            continue;
        }
        if applied {
            return Some(version);
        }
        rolled_back.push(version);
    }
    None
}

/// Natural order: digit runs compare as numbers (without leading zeros), the rest as text.
pub fn natural(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    if a.is_empty() || b.is_empty() {
        return a.len().cmp(&b.len());
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// A time's fractional seconds padded to nine digits, so digit runs compare as time: PostgreSQL
/// writes `02:30:01.5` for half a second and `02:30:01.123456` for less, and compared as whole
/// numbers 5 would come before 123456.
fn padded_fractions(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 9);
    let mut chars = s.chars().peekable();
    let mut prev_digit = false;
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '.' && prev_digit && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = 0;
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
                n += 1;
            }
            out.extend(std::iter::repeat_n('0', 9usize.saturating_sub(n)));
            prev_digit = true;
            continue;
        }
        prev_digit = c.is_ascii_digit();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cand(name: &str, cols: &[(&str, &str)]) -> Candidate {
        Candidate {
            schema: None,
            name: name.to_string(),
            columns: cols
                .iter()
                .map(|(n, t)| Column::new(*n, *t, None))
                .collect(),
        }
    }

    fn rows(r: &[&[Option<&str>]]) -> Vec<Vec<Option<String>>> {
        r.iter()
            .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
            .collect()
    }

    #[test]
    fn times_with_fractions_of_different_lengths_compare_as_times() {
        assert_eq!(
            padded_fractions("2026-11-30 02:30:01.5"),
            "2026-11-30 02:30:01.500000000"
        );
        assert_eq!(padded_fractions("v1.2 at 3"), "v1.200000000 at 3");
    }

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = Vec::new();
        for t in TOOLS {
            assert!(!seen.contains(&t.name), "{} twice", t.name);
            seen.push(t.name);
            assert!(!t.tables.is_empty() && !t.columns.is_empty(), "{}", t.name);
            for n in t.tables.iter().chain(t.columns) {
                assert_eq!(*n, n.to_ascii_lowercase(), "{}: lower case names", t.name);
            }
            // Every column the latest version is read from is part of the signature.
            for c in t.read_columns() {
                assert!(
                    t.columns.contains(&c),
                    "{}: {c} not in the signature",
                    t.name
                );
            }
        }
        // Tools sharing a table name have signatures that cannot both match one table: the
        // first of two with exact signatures, or with a length, must not swallow the second.
        for (i, a) in TOOLS.iter().enumerate() {
            for b in &TOOLS[i + 1..] {
                if a.tables.iter().any(|t| b.tables.contains(t)) {
                    let sample = Candidate {
                        schema: None,
                        name: b.tables[0].to_string(),
                        columns: b
                            .columns
                            .iter()
                            .map(|c| Column::new(*c, "text", None))
                            .collect(),
                    };
                    assert_ne!(
                        sample.tool(&[]).map(|t| t.name),
                        Some(a.name),
                        "{}'s table is taken for {}",
                        b.name,
                        a.name
                    );
                }
            }
        }
        // The tools SPEC.md names, all here.
        for n in [
            "alembic",
            "django",
            "flyway",
            "liquibase",
            "rails",
            "sqlx",
            "efcore",
            "diesel",
            "refinery",
            "seaorm",
            "goose",
            "golang-migrate",
            "dbmate",
            "ecto",
            "knex",
            "sequelize",
            "typeorm",
            "mikroorm",
            "node-pg-migrate",
            "drizzle",
            "kysely",
            "prisma",
            "doctrine",
            "laravel",
            "phinx",
            "yoyo",
        ] {
            assert!(by_name(n).is_some(), "{n}");
        }
    }

    #[test]
    fn schema_migrations_is_told_apart_by_columns() {
        // Rails 5+ keeps ar_internal_metadata beside its table; Rails 4 had varchar(255).
        let rails = cand("schema_migrations", &[("version", "character varying")]);
        let meta = cand("ar_internal_metadata", &[("key", "character varying")]);
        let all = [rails.clone(), meta];
        assert_eq!(rails.tool(&all).unwrap().name, "rails");
        let rails4 = cand("schema_migrations", &[("version", "varchar(255)")]);
        assert_eq!(rails4.tool(&[]).unwrap().name, "rails");
        // dbmate: the same layout without Rails' marks.
        assert_eq!(rails.tool(&[]).unwrap().name, "dbmate");
        let dbmate = cand("schema_migrations", &[("version", "varchar(128)")]);
        assert_eq!(dbmate.tool(&[]).unwrap().name, "dbmate");
        // ar_internal_metadata is not a history of its own.
        assert!(all[1].tool(&all).is_none());
        let gm = cand(
            "schema_migrations",
            &[("version", "bigint"), ("dirty", "boolean")],
        );
        assert_eq!(gm.tool(&[]).unwrap().name, "golang-migrate");
        let ecto = cand(
            "schema_migrations",
            &[("version", "bigint"), ("inserted_at", "timestamp(0)")],
        );
        assert_eq!(ecto.tool(&[]).unwrap().name, "ecto");
        // A table of that name with other columns is someone else's: not a known history.
        let other = cand(
            "schema_migrations",
            &[("version", "int"), ("applied_by", "text"), ("note", "text")],
        );
        assert!(other.tool(&[]).is_none());
    }

    #[test]
    fn migrations_is_typeorm_or_laravel() {
        let typeorm = cand(
            "migrations",
            &[
                ("id", "integer"),
                ("timestamp", "bigint"),
                ("name", "varchar"),
            ],
        );
        let t = typeorm.tool(&[]).unwrap();
        assert_eq!(t.name, "typeorm");
        let r = rows(&[
            &[Some("CreateUsers1700000000000"), Some("1700000000000")],
            &[Some("AddEmail1710000000000"), Some("1710000000000")],
        ]);
        assert_eq!(
            t.evaluate(&r).latest.as_deref(),
            Some("AddEmail1710000000000")
        );
        let laravel = cand(
            "migrations",
            &[
                ("id", "int"),
                ("migration", "varchar(255)"),
                ("batch", "int"),
            ],
        );
        let l = laravel.tool(&[]).unwrap();
        assert_eq!(l.name, "laravel");
        let r = rows(&[
            &[Some("2014_10_12_000000_create_users_table")],
            &[Some(
                "2019_12_14_000001_create_personal_access_tokens_table",
            )],
            &[Some("2014_10_12_100000_create_password_resets_table")],
        ]);
        assert_eq!(
            l.evaluate(&r).latest.as_deref(),
            Some("2019_12_14_000001_create_personal_access_tokens_table")
        );
    }

    #[test]
    fn alembic_heads_in_a_fixed_order() {
        let t = by_name("alembic").unwrap();
        let a = t.evaluate(&rows(&[&[Some("f00d")], &[Some("ae1027a6acf")]]));
        let b = t.evaluate(&rows(&[&[Some("ae1027a6acf")], &[Some("f00d")]]));
        assert_eq!(a.latest.as_deref(), Some("ae1027a6acf,f00d"));
        assert_eq!(a, b);
        assert_eq!(t.evaluate(&[]).latest, None);
    }

    #[test]
    fn django_latest_per_app() {
        let t = by_name("django").unwrap();
        assert_eq!(t.read_columns(), ["name", "app"]);
        let r = rows(&[
            &[Some("0001_initial"), Some("contenttypes")],
            &[Some("0001_initial"), Some("shop")],
            &[Some("0012_order_total"), Some("shop")],
            &[Some("0002_remove_content_type_name"), Some("contenttypes")],
            &[Some("0009_alter_user_last_name_max_length"), Some("auth")],
        ]);
        let e = t.evaluate(&r);
        assert_eq!(e.by_group["shop"], "0012_order_total");
        assert_eq!(e.by_group["contenttypes"], "0002_remove_content_type_name");
        assert_eq!(e.applied, 5);
        assert_eq!(
            e.latest.as_deref(),
            Some(
                "auth.0009_alter_user_last_name_max_length, contenttypes.0002_remove_content_type_name, shop.0012_order_total"
            )
        );
    }

    #[test]
    fn documented_layouts_give_their_latest_version() {
        // One case a line: tool | rows in read_columns order (`;` between rows, `,` between
        // columns, NULL for a null) | the latest version (`-`: none).
        let cases = r"
flyway          | 1, true ; 1.10, t ; 1.9, 1 ; 2, false ; NULL, true | 1.10
liquibase       | create-users, 1 ; add-email, 2 ; raw, 10 | raw
golang-migrate  | 20240101120000 | 20240101120000
ecto            | 20230101000000 ; 20240301000000 | 20240301000000
rails           | 20240101000000 ; 9 ; 20231231235959 | 20240101000000
sqlx            | 20240101000000, 1 ; 20240201000000, 0 | 20240101000000
efcore          | 20240101120000_Initial ; 20240315093000_AddOrders | 20240315093000_AddOrders
diesel          | 00000000000000 ; 2024-01-01-120000 ; 2023-12-31-235959 | 2024-01-01-120000
refinery        | 1 ; 12 ; 3 | 12
seaorm          | m20220101_000001_create_table ; m20230215_000001_add_index | m20230215_000001_add_index
goose           | 1, 0, true ; 2, 20240101, true ; 3, 20240201, true ; 4, 20240201, false | 20240101
knex            | 20240101120000_create_users.js ; 20240202120000_add_email.js | 20240202120000_add_email.js
sequelize       | 20240101120000-create-user.js ; 20240102120000-create-order.js | 20240102120000-create-order.js
mikroorm        | Migration20240101120000, 1 ; Migration20240301120000, 2 | Migration20240301120000
node-pg-migrate | 1700000000000_init, 1 ; 1710000000000_users, 2 | 1710000000000_users
drizzle         | 1700000000000 ; 1710000000001 | 1710000000001
kysely          | 2024_01_01_init, 2024-01-01T10:00:00.000Z ; 2024_02_01_users, 2024-02-01T10:00:00.000Z | 2024_02_01_users
prisma          | 20240101120000_init, 2024-01-01 12:00:01, NULL ; 20240201120000_users, 2024-02-01 12:00:01, NULL ; 20240301120000_failed, NULL, NULL ; 20240401120000_rolled_back, 2024-04-01 12:00:01, 2024-04-02 09:00:00 | 20240201120000_users
doctrine        | DoctrineMigrations\Version20240101120000 ; DoctrineMigrations\Version20240301120000 | DoctrineMigrations\Version20240301120000
phinx           | 20240101120000 ; 20240301120000 | 20240301120000
yoyo            | 20240101_01_abcde-init, 2024-01-01 10:00:00 ; 20240201_01_fghij-users, 2024-02-01 10:00:00 | 20240201_01_fghij-users
yoyo            | 0001_init, 2026-11-30 02:30:01.123456 ; 0002_users, 2026-11-30 02:30:01.5 | 0002_users
";
        let cell = |c: &str| (c != "NULL").then(|| c.to_string());
        let mut checked = 0;
        for case in cases.lines().filter(|l| !l.trim().is_empty()) {
            let [name, table, want] = case.split(" | ").map(str::trim).collect::<Vec<_>>()[..]
            else {
                panic!("bad case: {case}");
            };
            let r: Vec<Vec<Option<String>>> = table
                .split(" ; ")
                .map(|row| row.split(", ").map(cell).collect())
                .collect();
            let want = (want != "-").then_some(want);
            let t = by_name(name).unwrap();
            assert_eq!(t.evaluate(&r).latest.as_deref(), want, "{name}");
            checked += 1;
        }
        assert_eq!(checked, 22, "every case line was read");
    }

    #[test]
    fn documented_table_layouts_are_recognised() {
        // Column lists as each tool creates its table.
        let cases: &[(&str, &[&str], &str)] = &[
            ("alembic_version", &["version_num"], "alembic"),
            (
                "django_migrations",
                &["id", "app", "name", "applied"],
                "django",
            ),
            (
                "flyway_schema_history",
                &[
                    "installed_rank",
                    "version",
                    "description",
                    "type",
                    "script",
                    "checksum",
                    "installed_by",
                    "installed_on",
                    "execution_time",
                    "success",
                ],
                "flyway",
            ),
            (
                "schema_version",
                &[
                    "version_rank",
                    "installed_rank",
                    "version",
                    "description",
                    "type",
                    "script",
                    "checksum",
                    "installed_by",
                    "installed_on",
                    "execution_time",
                    "success",
                ],
                "flyway",
            ),
            (
                "DATABASECHANGELOG",
                &[
                    "ID",
                    "AUTHOR",
                    "FILENAME",
                    "DATEEXECUTED",
                    "ORDEREXECUTED",
                    "EXECTYPE",
                    "MD5SUM",
                    "DESCRIPTION",
                    "COMMENTS",
                    "TAG",
                    "LIQUIBASE",
                    "CONTEXTS",
                    "LABELS",
                    "DEPLOYMENT_ID",
                ],
                "liquibase",
            ),
            (
                "_sqlx_migrations",
                &[
                    "version",
                    "description",
                    "installed_on",
                    "success",
                    "checksum",
                    "execution_time",
                ],
                "sqlx",
            ),
            (
                "__EFMigrationsHistory",
                &["MigrationId", "ProductVersion"],
                "efcore",
            ),
            (
                "__diesel_schema_migrations",
                &["version", "run_on"],
                "diesel",
            ),
            (
                "refinery_schema_history",
                &["version", "name", "applied_on", "checksum"],
                "refinery",
            ),
            ("seaql_migrations", &["version", "applied_at"], "seaorm"),
            (
                "goose_db_version",
                &["id", "version_id", "is_applied", "tstamp"],
                "goose",
            ),
            (
                "knex_migrations",
                &["id", "name", "batch", "migration_time"],
                "knex",
            ),
            ("SequelizeMeta", &["name"], "sequelize"),
            (
                "mikro_orm_migrations",
                &["id", "name", "executed_at"],
                "mikroorm",
            ),
            ("pgmigrations", &["id", "name", "run_on"], "node-pg-migrate"),
            (
                "__drizzle_migrations",
                &["id", "hash", "created_at"],
                "drizzle",
            ),
            ("kysely_migration", &["name", "timestamp"], "kysely"),
            (
                "_prisma_migrations",
                &[
                    "id",
                    "checksum",
                    "finished_at",
                    "migration_name",
                    "logs",
                    "rolled_back_at",
                    "started_at",
                    "applied_steps_count",
                ],
                "prisma",
            ),
            (
                "doctrine_migration_versions",
                &["version", "executed_at", "execution_time"],
                "doctrine",
            ),
            ("migration_versions", &["version"], "doctrine"),
            (
                "phinxlog",
                &[
                    "version",
                    "migration_name",
                    "start_time",
                    "end_time",
                    "breakpoint",
                ],
                "phinx",
            ),
            (
                "_yoyo_migration",
                &["migration_hash", "migration_id", "applied_at_utc"],
                "yoyo",
            ),
        ];
        for (table, cols, want) in cases {
            let c = Candidate {
                schema: None,
                name: table.to_string(),
                columns: cols.iter().map(|n| Column::new(*n, "text", None)).collect(),
            };
            assert_eq!(c.tool(&[]).map(|t| t.name), Some(*want), "{table}");
            // The columns to read are spelled as the catalog spells them.
            for col in c.read_columns(c.tool(&[]).unwrap()) {
                assert!(cols.contains(&col.as_str()), "{table}: {col}");
            }
        }
        assert!(table_names().contains(&"sequelizemeta"));
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural("1.10", "1.9"), Ordering::Greater);
        assert_eq!(natural("0010_a", "0009_b"), Ordering::Greater);
        assert_eq!(natural("V2", "V10"), Ordering::Less);
        assert_eq!(natural("", "1"), Ordering::Less);
        assert_eq!(natural("007", "7"), Ordering::Less); // equal numbers: the text decides
        assert_eq!(natural("abc", "abc"), Ordering::Equal);
        assert_eq!(
            natural("99999999999999999999999999", "100000000000000000000000000"),
            Ordering::Less
        );
    }

    #[test]
    fn column_types_give_their_length() {
        let c = Column::new("version", "VARCHAR(128)", None);
        assert_eq!(
            (c.data_type.as_str(), c.max_len),
            ("varchar(128)", Some(128))
        );
        assert_eq!(
            Column::new("v", "character varying", Some(128)).max_len,
            Some(128)
        );
        assert_eq!(Column::new("v", "text", None).max_len, None);
        let grouped = Candidate::from_rows(vec![
            (
                Some("public".into()),
                "a".into(),
                "x".into(),
                "int".into(),
                None,
            ),
            (
                Some("public".into()),
                "a".into(),
                "y".into(),
                "int".into(),
                None,
            ),
            (
                Some("other".into()),
                "a".into(),
                "x".into(),
                "int".into(),
                None,
            ),
        ]);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].columns.len(), 2);
        assert_eq!(grouped[1].display_name("public"), "other.a");
    }
}
