//! SQL Server catalog answers turned into facts: identity, the TLS of our session, migration histories and capabilities.

use super::*;

pub(super) fn identity(facts: &MssqlFacts, host: &str) -> Probe<ServerIdentity> {
    // The banner and the properties come from one row: without them, the version's failure.
    let Some(p) = facts.server.value() else {
        return facts.common.version_raw.failure();
    };
    let ee = p.engine_edition.map(|e| e.to_string());
    let mut hints: Vec<(&str, &str)> = vec![
        ("product_version", p.product_version.as_str()),
        ("host", host),
    ];
    for (k, v) in [
        ("engine_edition", ee.as_deref()),
        ("edition", p.edition.as_deref()),
        ("product_level", p.product_level.as_deref()),
        ("product_update_level", p.product_update_level.as_deref()),
        ("server_name", p.server_name.as_deref()),
    ] {
        if let Some(v) = v {
            hints.push((k, v));
        }
    }
    identify_probe(Engine::Mssql, &facts.common.version_raw, &hints)
}

/// TLS as the server saw it (`encrypt_option`), and how the client trusted the certificate. When
/// the view cannot be read, the client's `encrypt=true` still proves the session is encrypted
/// (the login would have failed otherwise).
pub(super) fn tls_facts(conn: &Probe<ConnectionInfo>, t: TlsChoice) -> Probe<TlsFacts> {
    let trust = if t.trust_server_certificate {
        TrustMode::NotVerified
    } else {
        TrustMode::Verified
    };
    let setting = client_setting(t);
    let build = |in_use: bool, note: &str| TlsFacts {
        in_use,
        protocol: in_use.then(|| format!("TLS{note}")),
        cipher: None,
        bits: None,
        trust: if in_use { trust } else { TrustMode::None },
        cert_expires_in_days: None,
        client_setting: setting.clone(),
        server_leg: None,
    };
    match conn {
        Probe::Ok { value, ms } => Probe::ok(
            build(
                value.encrypt_option.eq_ignore_ascii_case("TRUE"),
                " (sys.dm_exec_connections.encrypt_option TRUE)",
            ),
            *ms,
        ),
        other if t.encryption == EncryptionLevel::Required => Probe::ok(
            build(
                true,
                " (from the client's encrypt=true; sys.dm_exec_connections not readable)",
            ),
            match other {
                Probe::Denied { ms, .. } | Probe::Failed { ms, .. } => *ms,
                _ => 0,
            },
        ),
        other => other.clone().map(|_| build(false, "")),
    }
}

/// The tables whose name a migration tool uses (see [`crate::migrations`]), in any schema,
/// with their columns (read with the first batch).
pub(super) fn migration_tables_sql() -> String {
    let names = crate::migrations::table_names_sql();
    format!(
        "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, \
         CAST(c.CHARACTER_MAXIMUM_LENGTH AS bigint) \
         FROM INFORMATION_SCHEMA.COLUMNS c JOIN INFORMATION_SCHEMA.TABLES t \
         ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
         WHERE t.TABLE_TYPE = 'BASE TABLE' AND LOWER(c.TABLE_NAME) IN ({names}) \
         ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION"
    )
}

/// Reads each history table found, each on its own (a lock on one times out alone).
pub(super) async fn migrations(
    r: &mut Runner<'_>,
    found: Probe<Rows>,
) -> Probe<Vec<MigrationHistory>> {
    use crate::migrations::Candidate;
    let Probe::Ok { value: rows, ms } = found else {
        return found.map(|_| Vec::new());
    };
    let rows = rows.into_iter().filter_map(|row| {
        Some((
            row.first().and_then(Val::text),
            row.get(1).and_then(Val::text)?,
            row.get(2).and_then(Val::text)?,
            row.get(3).and_then(Val::text).unwrap_or_default(),
            row.get(4).and_then(Val::int),
        ))
    });
    let mut out = Vec::new();
    let candidates = Candidate::from_rows(rows);
    for cand in &candidates {
        let Some(tool) = cand.tool(&candidates) else {
            continue;
        };
        // The names come from the catalog and are bracket-quoted.
        let sql = format!(
            "SELECT {} FROM {}.{}",
            cand.select_list(tool, |c| format!(
                "CAST({} AS nvarchar(4000))",
                tsql_ident(c)
            )),
            tsql_ident(cand.schema.as_deref().unwrap_or("dbo")),
            tsql_ident(&cand.name)
        );
        let read = r.rows(&format!("{} history", cand.name), &sql, &[]).await;
        // A history table we cannot read (a lock, a missing grant) makes the check an error.
        let rows: Vec<Vec<Option<String>>> = match read {
            Probe::Ok { value, .. } => value
                .iter()
                .map(|row| row.iter().map(Val::text).collect())
                .collect(),
            other => return other.map(|_| Vec::new()),
        };
        out.push(MigrationHistory::read(
            tool,
            cand.display_name("dbo"),
            &rows,
        ));
    }
    Probe::ok(out, ms)
}

/// What the app's SQL may rely on, from the version, flavor and compatibility level.
pub fn capabilities(id: &ServerIdentity, db: Option<&Database>) -> BTreeMap<String, Capability> {
    let evergreen = super::super::identify::is_evergreen(&id.flavor);
    let synapse = id.flavor == "azure-synapse";
    let v = (id.major, id.patch.unwrap_or(0));
    let since = |major: u64, build: u64, what: &str, release: &str| {
        Capability::from_version(
            evergreen || v >= (major, build),
            if evergreen {
                format!("{what}: always available on {}", id.product)
            } else {
                format!("{what}: SQL Server {release}+")
            },
        )
    };
    let compat = db.map(|d| d.compatibility_level);
    let mut m = BTreeMap::new();
    let mut json = since(13, 0, "JSON_VALUE, OPENJSON, FOR JSON", "2016");
    if json.supported
        && let Some(c) = compat.filter(|c| *c < 130)
    {
        json = Capability::from_version(
            false,
            format!("OPENJSON needs compatibility level 130+, the database has {c}"),
        );
    }
    m.insert("json".into(), json);
    m.insert("cte".into(), since(9, 0, "WITH queries", "2005"));
    m.insert(
        "window-functions".into(),
        since(11, 0, "OVER (... ROWS/RANGE)", "2012"),
    );
    m.insert(
        "check-constraints".into(),
        Capability::from_version(!synapse, "CHECK constraints are enforced"),
    );
    m.insert(
        "transactional-ddl".into(),
        Capability::from_version(!synapse, "DDL inside a transaction rolls back"),
    );
    m.insert(
        "drop-cascade".into(),
        Capability::from_version(
            false,
            "SQL Server has no DROP ... CASCADE: drop dependent objects first",
        ),
    );
    m.insert(
        "returning".into(),
        Capability::from_version(true, "OUTPUT clause (SQL Server's RETURNING)"),
    );
    m.insert(
        "upsert".into(),
        Capability::from_version(!synapse, "MERGE (no ON CONFLICT)"),
    );
    m.insert("merge".into(), since(10, 0, "MERGE", "2008"));
    m.insert(
        "sequences".into(),
        if synapse {
            Capability::from_version(false, "Synapse has no CREATE SEQUENCE")
        } else {
            since(11, 0, "CREATE SEQUENCE", "2012")
        },
    );
    m.insert(
        "varchar-without-length".into(),
        Capability::from_version(
            false,
            "VARCHAR without a length is VARCHAR(1) in a declaration",
        ),
    );
    m.insert("string-agg".into(), since(14, 0, "STRING_AGG()", "2017"));
    // CREATE OR ALTER arrived in SQL Server 2016 SP1 (build 13.0.4001).
    m.insert(
        "create-or-alter".into(),
        since(13, 4001, "CREATE OR ALTER", "2016 SP1"),
    );
    m.insert(
        "drop-if-exists".into(),
        since(13, 0, "DROP ... IF EXISTS", "2016"),
    );
    m.insert(
        "offset-fetch".into(),
        since(11, 0, "ORDER BY ... OFFSET ... FETCH", "2012"),
    );
    let utf8_collation = db
        .and_then(|d| d.collation.as_deref())
        .is_some_and(|c| c.to_ascii_uppercase().contains("UTF8"));
    let mut utf8 = since(15, 0, "UTF-8 collations (_UTF8)", "2019");
    if utf8_collation {
        utf8.basis
            .push_str("; the database collation is a UTF-8 one");
    } else if utf8.supported {
        utf8.basis
            .push_str("; NVARCHAR stores Unicode under any collation");
    }
    m.insert("utf8".into(), utf8);
    m
}
