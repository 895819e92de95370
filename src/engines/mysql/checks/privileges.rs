//! The MySQL checks of what the account may do, read from its grants (`SHOW GRANTS`), and
//! whether the database accepts its writes.

use super::*;

/// Every privilege `ALL PRIVILEGES` grants at database level.
pub(super) const DB_PRIVILEGES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
];

/// Whether `name` matches a database pattern of a grant (`` `app\_%` `` is a LIKE pattern).
pub(super) fn like(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('%', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('_', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                !n.is_empty() && n[0] == rest[0] && go(&rest[1..], &n[1..])
            }
            Some((c, rest)) => !n.is_empty() && n[0] == *c && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// The database part of a grant target: `*` for `*.*`, the unquoted pattern for `` `db`.* ``,
/// `None` for table-level grants.
pub(super) fn grant_db(on: &str) -> Option<String> {
    let on = on.trim();
    if on == "*.*" || on == "*" {
        return Some("*".into());
    }
    let db = on.strip_suffix(".*")?;
    let db = db
        .strip_prefix('`')
        .and_then(|d| d.strip_suffix('`'))
        .unwrap_or(db);
    Some(db.replace("``", "`"))
}

/// Privileges the account holds on every table of `db` (global and database-level grants).
pub(crate) fn held_on(g: &Grants, db: &str) -> BTreeSet<String> {
    let mut held = BTreeSet::new();
    for grant in &g.grants {
        let Some(pattern) = grant_db(&grant.on) else {
            continue;
        };
        if pattern != "*" && !like(&pattern, db) {
            continue;
        }
        for p in &grant.privileges {
            if p == "ALL" || p == "ALL PRIVILEGES" {
                held.extend(DB_PRIVILEGES.iter().map(|s| s.to_string()));
            } else {
                held.insert(p.clone());
            }
        }
    }
    held
}

pub(super) fn roles_note(g: &Grants) -> String {
    if g.roles.is_empty() {
        String::new()
    } else {
        format!(
            " (privileges of the granted roles {} are not counted: roles must be active by default, SET DEFAULT ROLE)",
            g.roles.join(", ")
        )
    }
}

/// A privilege check: the account must hold `needed` on the target database.
pub(super) fn need(f: &MysqlFacts, needed: &[&str], what: &str) -> Outcome {
    let g = f.grants.get()?;
    let Some(db) = db_name(f) else {
        return Ok(Verdict::skip(
            "the URL names no database: add /dbname to check privileges in it",
        ));
    };
    let held = held_on(g, &db);
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|p| !held.contains(*p))
        .collect();
    let have: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|p| held.contains(*p))
        .collect();
    let observed = if have.is_empty() {
        format!("none of them on {}", bt(&db))
    } else {
        format!("{} on {}", have.join(", "), bt(&db))
    };
    Ok(if missing.is_empty() {
        Verdict::pass(format!("may {what} in {}", bt(&db)))
    } else {
        Verdict::fail(format!(
            "lacks {} on {}: cannot {what}{}",
            missing.join(", "),
            bt(&db),
            roles_note(g)
        ))
        .remedy(format!(
            "GRANT {} ON {}.* TO {};",
            missing.join(", "),
            bt(&db),
            account(f)
        ))
    }
    .observed(observed)
    .expected(needed.join(", ")))
}

pub(super) fn table_privileges(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    if ctx.matrix.app.needs_write {
        need(
            f,
            &["SELECT", "INSERT", "UPDATE", "DELETE"],
            "read and write rows",
        )
    } else {
        need(f, &["SELECT"], "read rows")
    }
}

pub(super) fn create_table(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    if !ctx.matrix.app.needs_write {
        let _ = f.grants.get()?;
        return Ok(Verdict::skip("the matrix says our product only reads"));
    }
    need(
        f,
        &["CREATE", "ALTER", "DROP", "INDEX", "REFERENCES"],
        "create, alter and drop tables, indexes and foreign keys",
    )
}

pub(super) fn temp_tables(f: &MysqlFacts, _: &Ctx) -> Outcome {
    need(f, &["CREATE TEMPORARY TABLES"], "create temporary tables")
}

pub(super) fn superuser(f: &MysqlFacts, _: &Ctx) -> Outcome {
    let g = f.grants.get()?;
    let global: Vec<&str> = g
        .grants
        .iter()
        .filter(|gr| grant_db(&gr.on).as_deref() == Some("*"))
        .flat_map(|gr| gr.privileges.iter().map(String::as_str))
        .collect();
    let all = global.iter().any(|p| *p == "ALL" || *p == "ALL PRIVILEGES");
    let sup = global.contains(&"SUPER");
    let who = account(f);
    let db = bt(&db_name(f).unwrap_or_else(|| "app".into()));
    Ok(if all || sup {
        Verdict::warn(format!(
            "{who} holds {} on *.*: a bug or a leaked password could change or drop anything on the server",
            if all { "ALL PRIVILEGES" } else { "SUPER" }
        ))
        .observed(if all { "ALL PRIVILEGES ON *.*" } else { "SUPER ON *.*" })
        .expected("a dedicated account with privileges on one database")
        .remedy(format!(
            "CREATE USER 'app'@'%' IDENTIFIED BY '...'; GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES ON {db}.* TO 'app'@'%'; then connect as app."
        ))
    } else {
        Verdict::pass(format!(
            "{who} holds no server-wide administrative privilege"
        ))
        .observed("no ALL or SUPER on *.*")
    })
}

pub(super) const WRITABILITY_REMEDY: &str = "Connect to the primary, not a replica or reader endpoint. On a primary: SET GLOBAL super_read_only = OFF; SET GLOBAL read_only = OFF; and remove read_only from my.cnf (innodb_read_only needs a restart without it).";

pub(super) fn writability(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let v = common::writability(&f.common, ctx, WRITABILITY_REMEDY)?;
    // With --probe-write, a scratch table was really created (or not).
    if let Some(w) = f.common.write_probe.value() {
        // (leftovers are the write-probe check's business)
        if let Some(e) = w.steps.first().and_then(|s| s.error.as_ref())
            && ctx.matrix.app.needs_write
        {
            return Ok(
                Verdict::fail(format!("creating a scratch table failed: {e}"))
                    .observed("CREATE TABLE refused")
                    .expected("read-write")
                    .remedy(v.remedy.clone().unwrap_or_else(|| {
                        format!(
                            "GRANT CREATE, DROP, INSERT ON {}.* TO {};",
                            bt(&db_name(f).unwrap_or_else(|| "db".into())),
                            account(f)
                        )
                    })),
            );
        }
    }
    if v.status != crate::status::Status::Pass || !ctx.matrix.app.needs_write {
        return Ok(v);
    }
    if f.common.write_probe.value().is_some() {
        return Ok(v.observed("read-write: a scratch table was created, written and dropped"));
    }
    // A read-write server still refuses writes from an account that holds no write privilege.
    if let (Some(g), Some(db)) = (f.grants.value(), db_name(f)) {
        let held = held_on(g, &db);
        if !["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|p| held.contains(*p))
        {
            return Ok(Verdict::fail(format!(
                "the server accepts writes, but {} may not write to {}{}",
                account(f),
                bt(&db),
                roles_note(g)
            ))
            .observed(format!(
                "read-write server; read-only account on {}",
                bt(&db)
            ))
            .expected("read-write")
            .remedy(format!(
                "GRANT INSERT, UPDATE, DELETE ON {}.* TO {};",
                bt(&db),
                account(f)
            )));
        }
    }
    Ok(v)
}
