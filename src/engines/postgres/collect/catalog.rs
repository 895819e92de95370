//! PostgreSQL catalog answers turned into facts: privileges, extensions, the TLS of our session, migration histories and capabilities.

use super::*;

/// The privileges our product needs, in one statement: on the database, on the schema it
/// will use (`{schema}`: the matrix's, as a literal, or NULL for the current one), and on the
/// tables and sequences already there.
pub(super) const PRIVILEGES: &str = "WITH s AS (SELECT coalesce({schema}, current_schema(), 'public')::text AS name), \
              n AS (SELECT oid FROM pg_namespace WHERE nspname = (SELECT name FROM s)) \
         SELECT s.name, EXISTS (SELECT 1 FROM n), \
           has_database_privilege(current_database(), 'CONNECT'), \
           has_database_privilege(current_database(), 'CREATE'), \
           has_database_privilege(current_database(), 'TEMP'), \
           (SELECT has_schema_privilege(n.oid, 'USAGE') FROM n), \
           (SELECT has_schema_privilege(n.oid, 'CREATE') FROM n), \
           (SELECT count(*) FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM n) AND c.relkind IN ('r', 'p')), \
           ARRAY(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM n) AND c.relkind IN ('r', 'p') \
                 AND NOT CASE WHEN c.relkind IN ('r', 'p') THEN has_table_privilege(c.oid, 'SELECT') \
                      AND has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE') \
                      AND has_table_privilege(c.oid, 'DELETE') AND has_table_privilege(c.oid, 'REFERENCES') END \
                 ORDER BY 1 LIMIT 20), \
           ARRAY(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM n) AND c.relkind = 'S' \
                 AND NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE') END ORDER BY 1 LIMIT 20) \
         FROM s";

pub(super) fn privileges_from(r: PrivRow) -> Privileges {
    Privileges {
        schema: r.0,
        schema_exists: r.1,
        database_connect: r.2,
        database_create: r.3,
        database_temp: r.4,
        schema_usage: r.5.unwrap_or(false),
        schema_create: r.6.unwrap_or(false),
        tables: r.7.max(0) as u64,
        tables_lacking: r.8,
        sequences_lacking: r.9,
    }
}

/// The installed extensions (pg_extension, cheap), read with the catalog batch when the matrix
/// requires none.
pub(super) const INSTALLED_EXTENSIONS: &str = "SELECT x.extname::text, NULL::text, x.extversion::text, NULL::bool, NULL::bool FROM pg_extension x";

/// name, default_version, installed_version, superuser, trusted
pub(super) type ExtensionRow = (
    String,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<bool>,
);

/// When the matrix requires extensions: what the server offers for those, and the installed
/// ones. pg_available_extensions parses every control file on disk, so it is read only then.
pub(super) fn available_extensions(version_num: u32, required: &[String]) -> Stmt {
    // `trusted` exists from PostgreSQL 13 on: older servers get the list without it.
    let trusted = if version_num >= 130_000 {
        "v.trusted"
    } else {
        "NULL::bool"
    };
    let names = pg_text_array(required);
    Stmt::new(
        "pg_available_extensions",
        format!(
            "SELECT e.name::text, e.default_version, e.installed_version, v.superuser, {trusted} \
             FROM pg_available_extensions e LEFT JOIN pg_available_extension_versions v \
               ON v.name = e.name AND v.version = e.default_version WHERE e.name = ANY({names}) \
             UNION ALL {INSTALLED_EXTENSIONS} WHERE NOT x.extname = ANY({names}) ORDER BY 1"
        ),
    )
}

pub(super) fn extensions_from(rows: Vec<ExtensionRow>) -> Vec<Extension> {
    rows.into_iter()
        .map(
            |(name, default_version, installed_version, superuser, trusted)| Extension {
                name,
                default_version,
                installed_version,
                superuser,
                trusted,
            },
        )
        .collect()
}

/// TLS as our own connection uses it: what the driver does with this sslmode against what
/// the server (or the pooler we reach) offered in our own handshake. pg_stat_ssl describes
/// the server's client, which is the pooler when one is in front: extra information only.
pub(super) fn tls_facts(
    conn: &crate::net::ConnectionFacts,
    sslmode: &str,
    socket: bool,
    server_leg: Option<SslRow>,
) -> TlsFacts {
    let offered = conn.tls.as_ref().map(|i| i.offered);
    let leg_in_use = server_leg.as_ref().map(|r| r.0);
    let in_use = if socket {
        // The driver does not negotiate TLS over a local socket.
        false
    } else {
        match sslmode {
            "disable" | "allow" => false,
            // The login succeeded, and these modes refuse a plaintext connection.
            "require" | "verify-ca" | "verify-full" => true,
            // prefer: encrypted exactly when the server offered it to us; without our own
            // inspection, what the server saw is the best left.
            _ => offered.or(leg_in_use).unwrap_or(false),
        }
    };
    let server_leg = server_leg.map(|(ssl, version, cipher, _)| {
        if ssl {
            format!(
                "the server's client connection uses {} {}",
                version.unwrap_or_else(|| "TLS".into()),
                cipher.unwrap_or_default()
            )
            .trim_end()
            .to_string()
        } else {
            "the server's client connection is not encrypted".to_string()
        }
    });
    TlsFacts {
        in_use,
        protocol: None,
        cipher: None,
        bits: None,
        trust: match (in_use, sslmode) {
            (false, _) => TrustMode::None,
            (true, "verify-full") => TrustMode::Verified,
            (true, "verify-ca") => TrustMode::CaOnly,
            _ => TrustMode::NotVerified,
        },
        cert_expires_in_days: None,
        client_setting: format!("sslmode={sslmode}"),
        server_leg: server_leg.filter(|_| leg_in_use != Some(in_use)),
    }
}

/// User tables outside the system schemas, less those an extension owns (PostGIS's
/// `spatial_ref_sys`, TimescaleDB's catalog).
pub(super) const USER_TABLES: &str = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
       AND n.nspname NOT LIKE 'pg\\_%' \
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                       AND d.objid = c.oid AND d.deptype = 'e')";

/// The tables, in any schema, whose name a migration tool uses (see [`crate::migrations`]),
/// with their columns: the tool is told by name and columns (read with the catalog batch).
pub(super) fn migration_tables_sql() -> String {
    migration_columns_sql(
        "format_type(a.atttypid, a.atttypmod)",
        "ORDER BY 1, 2, a.attnum",
    )
}

/// Those tables' columns our user may not read, and whether it lacks USAGE on the schema: a
/// table it may not read is reported with its grant rather than read into a permission error
/// in the server's log. A statement of its own: a server without these functions (some that
/// speak PostgreSQL's protocol) loses only this answer, and the tables are read as before.
pub(super) fn migration_privileges_sql() -> String {
    migration_columns_sql(
        "has_schema_privilege(n.oid, 'USAGE')",
        "AND NOT (has_schema_privilege(n.oid, 'USAGE') \
           AND has_column_privilege(c.oid, a.attnum, 'SELECT'))",
    )
}

/// The schema, table and column of every candidate history table's columns, then `fourth`,
/// then `tail` after the filter.
fn migration_columns_sql(fourth: &str, tail: &str) -> String {
    format!(
        "SELECT n.nspname::text, c.relname::text, a.attname::text, {fourth} \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         WHERE lower(c.relname) = ANY({}) AND c.relkind IN ('r', 'p') \
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') {tail}",
        pg_text_array(&crate::migrations::table_names())
    )
}

/// A row of [`migration_tables_sql`]: schema, table, column, type.
pub(super) type MigrationColumn = (String, String, String, String);

/// A row of [`migration_privileges_sql`]: schema, table, a column our user may not read,
/// whether it has USAGE on the schema.
pub(super) type Unreadable = (String, String, String, bool);

/// A history table found, and the statement reading it: they go in the second batch, where a
/// lock on one times out alone (the batch carries on after it). A table our user may not read
/// has no statement, only the grant that would let it.
pub(super) struct HistoryRead {
    pub(super) tool: &'static crate::migrations::Tool,
    pub(super) shown: String,
    pub(super) columns: usize,
    pub(super) read: Result<String, String>,
}

/// The history tables among the catalog's candidates, told apart by the tool table
/// (`crate::migrations`), each with the statement that reads it, or, when `user` may not read
/// it (`unreadable`, see [`migration_privileges_sql`]), the grants it lacks.
pub(super) fn history_reads(
    found: &[MigrationColumn],
    unreadable: &[Unreadable],
    user: &str,
) -> Vec<HistoryRead> {
    use crate::migrations::Candidate;
    let candidates = Candidate::from_rows(
        found
            .iter()
            .map(|(s, t, c, ty)| (Some(s.clone()), t.clone(), c.clone(), ty.clone(), None)),
    );
    // The names come from the catalog and are quoted here.
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    candidates
        .iter()
        .filter_map(|cand| {
            let tool = cand.tool(&candidates)?;
            let columns = cand.read_columns(tool);
            let schema = cand.schema.as_deref().unwrap_or_default();
            let denied = || {
                unreadable
                    .iter()
                    .filter(|r| r.0 == schema && r.1 == cand.name)
            };
            let usage = denied().all(|r| r.3);
            let select = !columns.iter().any(|c| denied().any(|r| &r.2 == c));
            let table = format!("{}.{}", quote(schema), quote(&cand.name));
            let read = if usage && select {
                Ok(format!(
                    "SELECT {} FROM {table}",
                    columns
                        .iter()
                        .map(|c| format!("CAST({} AS text)", quote(c)))
                        .collect::<Vec<_>>()
                        .join(", "),
                ))
            } else {
                let to = crate::quote::pg_ident(user);
                let mut grant = Vec::new();
                if !usage {
                    grant.push(format!(
                        "GRANT USAGE ON SCHEMA {} TO {to};",
                        crate::quote::pg_ident(schema)
                    ));
                }
                if !select {
                    grant.push(format!(
                        "GRANT SELECT ON {}.{} TO {to};",
                        crate::quote::pg_ident(schema),
                        crate::quote::pg_ident(&cand.name)
                    ));
                }
                Err(grant.join(" "))
            };
            Some(HistoryRead {
                tool,
                shown: cand.display_name("public"),
                columns: columns.len(),
                read,
            })
        })
        .collect()
}

/// Reads the history tables' answers, in [`history_reads`]' order. A history table we cannot
/// read (a lock, a grant the catalog did not show missing) makes the check an error.
pub(super) fn migration_history(
    history: Vec<HistoryRead>,
    answers: &mut Answers<sqlx::postgres::PgRow>,
    ms: u64,
) -> Probe<Vec<MigrationHistory>> {
    let mut out = Vec::new();
    for h in history {
        if let Err(grant) = h.read {
            out.push(MigrationHistory::unreadable(h.tool, h.shown, grant));
            continue;
        }
        let rows = match answers.next("history table").texts(h.columns) {
            Probe::Ok { value, .. } => value,
            other => return other.map(|_| Vec::new()),
        };
        out.push(MigrationHistory::read(h.tool, h.shown, &rows));
    }
    Probe::ok(out, ms)
}

/// What the app's SQL may rely on, from the version and flavor (confirmed for real by
/// `--probe-write`).
pub(super) fn capabilities(
    id: &crate::identity::ServerIdentity,
    db: Option<&Database>,
) -> BTreeMap<String, Capability> {
    let v = (id.major, id.minor);
    let pg = |since: (u64, u64), what: &str| {
        Capability::from_version(
            v >= since,
            format!("{what}: PostgreSQL {}.{}+", since.0, since.1),
        )
    };
    let mut m = BTreeMap::new();
    let crdb = id.flavor == "cockroachdb";
    let redshift = id.flavor == "redshift";
    m.insert(
        "json".into(),
        if redshift {
            Capability::from_version(false, "Redshift has no json/jsonb type")
        } else {
            pg((9, 4), "jsonb")
        },
    );
    m.insert("cte".into(), pg((8, 4), "WITH queries"));
    m.insert("window-functions".into(), pg((8, 4), "window functions"));
    m.insert(
        "check-constraints".into(),
        Capability::from_version(!redshift, "CHECK constraints are enforced"),
    );
    m.insert(
        "transactional-ddl".into(),
        Capability::from_version(
            !redshift && !crdb,
            if crdb {
                "CockroachDB runs schema changes asynchronously"
            } else {
                "DDL inside transactions rolls back"
            },
        ),
    );
    m.insert(
        "drop-cascade".into(),
        Capability::from_version(true, "DROP ... CASCADE"),
    );
    m.insert(
        "returning".into(),
        pg((8, 2), "INSERT/UPDATE/DELETE ... RETURNING"),
    );
    m.insert(
        "upsert".into(),
        if redshift {
            Capability::from_version(false, "Redshift has no ON CONFLICT")
        } else {
            pg((9, 5), "INSERT ... ON CONFLICT")
        },
    );
    m.insert(
        "sequences".into(),
        Capability::from_version(true, "CREATE SEQUENCE"),
    );
    m.insert(
        "varchar-without-length".into(),
        Capability::from_version(true, "VARCHAR without a length is unbounded"),
    );
    m.insert("string-agg".into(), pg((9, 0), "string_agg()"));
    m.insert("drop-if-exists".into(), pg((8, 2), "DROP ... IF EXISTS"));
    m.insert("offset-fetch".into(), pg((8, 4), "OFFSET ... FETCH FIRST"));
    m.insert("merge".into(), pg((15, 0), "MERGE"));
    m.insert(
        "create-or-alter".into(),
        Capability::from_version(
            false,
            "PostgreSQL has CREATE OR REPLACE for views and functions, not tables",
        ),
    );
    if let Some(d) = db {
        let utf8 = d.encoding.eq_ignore_ascii_case("UTF8");
        m.insert(
            "utf8".into(),
            Capability::from_version(utf8, format!("database encoding {}", d.encoding)),
        );
    }
    m
}
