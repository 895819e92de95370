//! The PostgreSQL checks of what the role may do: superuser, CONNECT, schema USAGE and CREATE,
//! TEMPORARY, existing tables and sequences, and the extensions it needs.

use super::*;

pub(super) fn superuser(f: &PgFacts, _: &Ctx) -> Outcome {
    let s = f.session.get()?;
    Ok(if s.superuser {
        Verdict::warn(format!("`{}` is a superuser: a bug or a leaked password could do anything to the server", s.user))
            .observed("superuser")
            .expected("a dedicated role with only the privileges it needs")
            .remedy(format!(
                "CREATE ROLE app LOGIN PASSWORD '...'; GRANT CONNECT, TEMPORARY ON DATABASE {} TO app; GRANT USAGE, CREATE ON SCHEMA public TO app; then connect as app.",
                ident(&s.database)
            ))
    } else {
        Verdict::pass(format!("`{}` is not a superuser", s.user)).observed("not a superuser")
    })
}

pub(super) fn database_connect(f: &PgFacts, _: &Ctx) -> Outcome {
    let p = f.privileges.get()?;
    let (user, db) = who(f);
    Ok(if p.database_connect {
        Verdict::pass("may connect to the database").observed("CONNECT")
    } else {
        Verdict::fail("lacks CONNECT on the database: new connections will be refused")
            .observed("no CONNECT")
            .expected("CONNECT")
            .remedy(format!("GRANT CONNECT ON DATABASE {db} TO {user};"))
    })
}

pub(super) fn schema_usage(f: &PgFacts, _: &Ctx) -> Outcome {
    let p = f.privileges.get()?;
    let (user, _) = who(f);
    let s = ident(&p.schema);
    Ok(if !p.schema_exists {
        Verdict::fail(format!("schema `{}` does not exist", p.schema))
            .observed("missing")
            .expected(format!("schema {} with USAGE", p.schema))
            .remedy(format!("CREATE SCHEMA {s} AUTHORIZATION {user};"))
    } else if p.schema_usage {
        Verdict::pass(format!("may use schema {}", p.schema)).observed("USAGE")
    } else {
        Verdict::fail(format!(
            "lacks USAGE on schema {}: no object in it can be reached",
            p.schema
        ))
        .observed("no USAGE")
        .expected("USAGE")
        .remedy(format!("GRANT USAGE ON SCHEMA {s} TO {user};"))
    })
}

pub(super) fn create_table(f: &PgFacts, ctx: &Ctx) -> Outcome {
    let p = f.privileges.get()?;
    if !ctx.matrix.app.needs_write {
        return Ok(Verdict::skip("the matrix says our product only reads"));
    }
    let (user, _) = who(f);
    let s = ident(&p.schema);
    Ok(if p.schema_create {
        Verdict::pass(format!(
            "may create, alter and drop its own tables, indexes and references in {}",
            p.schema
        ))
        .observed("CREATE on schema")
    } else {
        Verdict::fail(format!("lacks CREATE on schema {}: our migrations cannot create tables or indexes", p.schema))
            .observed("no CREATE on schema")
            .expected("CREATE on schema")
            .remedy(format!("GRANT CREATE ON SCHEMA {s} TO {user};  (PostgreSQL 15 no longer grants it on public to everyone)"))
    })
}

pub(super) fn temp_tables(f: &PgFacts, _: &Ctx) -> Outcome {
    let p = f.privileges.get()?;
    let (user, db) = who(f);
    Ok(if p.database_temp {
        Verdict::pass("may create temporary tables").observed("TEMPORARY")
    } else {
        Verdict::fail("lacks TEMPORARY on the database: queries using temporary tables will fail")
            .observed("no TEMPORARY")
            .expected("TEMPORARY")
            .remedy(format!("GRANT TEMPORARY ON DATABASE {db} TO {user};"))
    })
}

pub(super) fn table_privileges(f: &PgFacts, _: &Ctx) -> Outcome {
    let p = f.privileges.get()?;
    let (user, _) = who(f);
    let s = ident(&p.schema);
    if p.tables_lacking.is_empty() && p.sequences_lacking.is_empty() {
        return Ok(Verdict::pass(format!(
            "full access to the {} existing table(s) in {}",
            p.tables, p.schema
        ))
        .observed(format!("{} tables", p.tables)));
    }
    let mut what = Vec::new();
    let mut fix = Vec::new();
    if !p.tables_lacking.is_empty() {
        what.push(format!("tables {}", p.tables_lacking.join(", ")));
        fix.push(format!("GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES ON ALL TABLES IN SCHEMA {s} TO {user};"));
    }
    if !p.sequences_lacking.is_empty() {
        what.push(format!("sequences {}", p.sequences_lacking.join(", ")));
        fix.push(format!(
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {user};"
        ));
    }
    Ok(Verdict::fail(format!(
        "lacks privileges on existing objects: {}",
        what.join("; ")
    ))
    .observed(what.join("; "))
    .expected("SELECT, INSERT, UPDATE, DELETE, REFERENCES on tables; USAGE on sequences")
    .remedy(fix.join(" ")))
}

pub(super) fn extensions(f: &PgFacts, ctx: &Ctx) -> Outcome {
    let list = f.extensions.get()?;
    let installed: Vec<String> = list
        .iter()
        .filter_map(|e| {
            e.installed_version
                .as_ref()
                .map(|v| format!("{} {v}", e.name))
        })
        .collect();
    let observed = if installed.is_empty() {
        "none installed".to_string()
    } else {
        installed.join(", ")
    };
    if ctx.rules.extensions.is_empty() {
        return Ok(Verdict::skip("the matrix requires no extension").observed(observed));
    }
    let can_create_db = f.privileges.value().is_some_and(|p| p.database_create);
    let superuser = f.session.value().is_some_and(|s| s.superuser);
    // Facts saved under a matrix that required fewer extensions: whether the others are
    // available was never asked, which is not the same as "not available".
    let unasked: Vec<&str> = ctx
        .rules
        .extensions
        .iter()
        .filter(|n| !f.extensions_asked.contains(n))
        .filter(|n| {
            !list
                .iter()
                .any(|e| &e.name == *n && e.installed_version.is_some())
        })
        .map(String::as_str)
        .collect();
    if !unasked.is_empty() {
        return Err(Unavailable::Skip(format!(
            "not collected: these facts do not say whether {} is available on the server (they were collected under a matrix that did not require it); run `check` with this matrix",
            unasked.join(", ")
        )));
    }
    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    let mut creatable = Vec::new();
    for name in &ctx.rules.extensions {
        match list.iter().find(|e| &e.name == name) {
            Some(e) if e.installed_version.is_some() => {}
            Some(e) if superuser || (e.trusted == Some(true) && can_create_db) => {
                creatable.push(e.name.clone())
            }
            Some(e) => {
                problems.push(format!(
                    "{} is available but this user may not create it",
                    e.name
                ));
                fixes.push(format!(
                    "As a superuser, in this database: CREATE EXTENSION IF NOT EXISTS {};",
                    ident(&e.name)
                ));
            }
            None => {
                problems.push(format!("{name} is not available on the server"));
                fixes.push(format!(
                    "Install the {name} package on the server (e.g. postgresql-<major>-{name}) or, on a managed service, allow it in the parameter group; then CREATE EXTENSION {};",
                    ident(name)
                ));
            }
        }
    }
    let expected = ctx.rules.extensions.join(", ");
    Ok(if !problems.is_empty() {
        Verdict::fail(problems.join("; ")).remedy(fixes.join(" "))
    } else if !creatable.is_empty() {
        Verdict::pass(format!(
            "installed, or available and creatable by this user: {}",
            creatable.join(", ")
        ))
    } else {
        Verdict::pass("every required extension is installed")
    }
    .observed(observed)
    .expected(expected))
}
