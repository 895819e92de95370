//! The SQL Server checks of what the login may do: sysadmin, permissions in the database and
//! schema, and the write probe (a scratch table created and rolled back).

use super::*;

pub(super) fn sysadmin(f: &MssqlFacts, _: &Ctx) -> Outcome {
    let s = f.session.get()?;
    let login = s
        .login
        .clone()
        .or_else(|| f.common.target.user.clone())
        .unwrap_or_else(|| "?".into());
    Ok(if s.sysadmin {
        Verdict::warn(format!(
            "`{login}` is a member of sysadmin: a bug or a leaked password could do anything to the whole server"
        ))
        .observed("sysadmin")
        .expected("a dedicated login with rights in one database")
        .remedy("CREATE LOGIN [app] WITH PASSWORD = '...'; then in the application database: CREATE USER [app] FOR LOGIN [app]; ALTER ROLE db_ddladmin ADD MEMBER [app]; ALTER ROLE db_datareader ADD MEMBER [app]; ALTER ROLE db_datawriter ADD MEMBER [app]; and connect as app.")
    } else if s.db_owner {
        Verdict::pass(format!(
            "`{login}` is not sysadmin (db_owner of this database)"
        ))
        .observed("db_owner")
    } else {
        Verdict::pass(format!("`{login}` is not sysadmin")).observed("not sysadmin")
    })
}

pub(super) fn privileges(f: &MssqlFacts, ctx: &Ctx) -> Outcome {
    let dbp = f.database_permissions.get()?;
    let (user, _) = who(f);
    let u = ident(&user);
    let schema_probe = f.schema_permissions.get();
    let mut missing = Vec::new();
    let mut grants = Vec::new();
    let has = |p: &str| dbp.get(p).copied().unwrap_or(false);
    if !has("CONNECT") {
        missing.push("CONNECT".to_string());
        grants.push(format!("GRANT CONNECT TO {u};"));
    }
    if ctx.matrix.app.needs_write {
        for p in [
            "CREATE TABLE",
            "CREATE VIEW",
            "CREATE PROCEDURE",
            "CREATE FUNCTION",
        ] {
            if !has(p) {
                missing.push(p.to_string());
                grants.push(format!("GRANT {p} TO {u};"));
            }
        }
    }
    let mut observed: Vec<String> = dbp
        .iter()
        .filter(|(_, v)| **v)
        .map(|(k, _)| k.clone())
        .collect();
    match &schema_probe {
        Ok(sp) => {
            let s = ident(&sp.schema);
            let mut needed = vec![
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                "EXECUTE",
                "REFERENCES",
            ];
            if ctx.matrix.app.needs_write {
                // CREATE TABLE also needs ALTER on the schema the table goes into.
                needed.insert(0, "ALTER");
            }
            let lacking: Vec<&str> = needed
                .into_iter()
                .filter(|p| !sp.permissions.get(*p).copied().unwrap_or(false))
                .collect();
            let held: Vec<&str> = sp
                .permissions
                .iter()
                .filter(|(_, v)| **v)
                .map(|(k, _)| k.as_str())
                .collect();
            observed.push(format!(
                "schema {}: {}",
                sp.schema,
                if held.is_empty() {
                    "none".into()
                } else {
                    held.join(", ")
                }
            ));
            if !lacking.is_empty() {
                missing.push(format!("{} ON SCHEMA {}", lacking.join(", "), sp.schema));
                grants.push(format!(
                    "GRANT {} ON SCHEMA::{s} TO {u};",
                    lacking.join(", ")
                ));
            }
        }
        Err(Unavailable::Error(m) | Unavailable::Denied(m) | Unavailable::Skip(m)) => {
            observed.push(format!("schema permissions unknown ({m})"));
        }
    }
    let expected = if ctx.matrix.app.needs_write {
        "CONNECT, CREATE TABLE/VIEW/PROCEDURE/FUNCTION; ALTER, SELECT, INSERT, UPDATE, DELETE, EXECUTE, REFERENCES on the schema"
    } else {
        "CONNECT; SELECT, INSERT, UPDATE, DELETE, EXECUTE, REFERENCES on the schema"
    };
    if !missing.is_empty() {
        return Ok(
            Verdict::fail(format!("`{user}` lacks {}", missing.join("; ")))
                .observed(observed.join("; "))
                .expected(expected)
                .remedy(format!(
                    "In the database, as its owner or an administrator: {}",
                    grants.join(" ")
                )),
        );
    }
    if let Err(Unavailable::Error(m) | Unavailable::Denied(m)) = schema_probe {
        return Ok(Verdict::error(format!(
            "database permissions are complete, but schema permissions could not be read: {m}"
        ))
        .observed(observed.join("; "))
        .expected(expected));
    }
    let who = match f.session.value().and_then(|s| s.login.clone()) {
        Some(login) if login != user => format!("`{login}` (database user {user})"),
        _ => format!("`{user}`"),
    };
    Ok(
        Verdict::pass(format!("{who} has every permission the product needs"))
            .observed(observed.join("; "))
            .expected(expected),
    )
}

pub(super) fn write_probe(f: &MssqlFacts, _: &Ctx) -> Outcome {
    use crate::probe::Probe;
    let (user, _) = who(f);
    let schema = f
        .session
        .value()
        .map_or_else(|| "dbo".to_string(), |s| s.schema.clone());
    let leftover = |p: &WriteProbe| {
        Verdict::fail(format!(
            "the scratch table {} is still there after the rollback",
            p.table
        ))
        .remedy(format!("DROP TABLE {};", p.table))
    };
    Ok(match &f.write_probe {
        Probe::Ok { value, .. } if value.leftover => leftover(value),
        Probe::Ok { value, .. } => Verdict::pass(
            "created a table, inserted a row and rolled back: writes and DDL work for real",
        )
        .observed(format!("{} created and rolled back", value.table)),
        Probe::Denied { message, .. } => Verdict::fail(format!("the scratch table could not be created: {message}"))
            .remedy(format!(
                "GRANT CREATE TABLE TO {}; GRANT ALTER ON SCHEMA::{} TO {};",
                ident(&user),
                ident(&schema),
                ident(&user)
            )),
        Probe::Failed { message, .. } => Verdict::fail(format!("writing failed: {message}"))
            .remedy("Read the server's message: a read-only database or secondary replica (Msg 3906), a full log or file group, or missing permissions (see mssql.privileges)."),
        Probe::TimedOut { ms } => Verdict::error(format!(
            "the scratch table was not created within {ms} ms (a lock on the schema?)"
        )),
        Probe::NotCollected { reason } => Verdict::skip(reason.clone()),
    })
}
