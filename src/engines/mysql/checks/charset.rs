//! The MySQL checks of character sets and collations: the database's, the server's and the
//! existing tables'.

use super::*;

/// Why a character set is a problem, in words.
pub(super) fn charset_problem(cs: &str) -> String {
    match cs.to_ascii_lowercase().as_str() {
        "latin1" => "latin1 is a single-byte character set (cp1252): most of Unicode cannot be stored".into(),
        "utf8mb3" | "utf8" => "utf8mb3 (MySQL's old `utf8`) stores at most 3 bytes per character: emoji and other 4-byte characters are refused or cut".into(),
        "ascii" => "ascii cannot store any non-ASCII character".into(),
        other => format!("{other} is not utf8mb4: text outside it will be refused or mangled"),
    }
}

pub(super) fn accepted_charsets(ctx: &Ctx) -> Vec<String> {
    ctx.rules
        .encodings
        .clone()
        .unwrap_or_else(|| vec!["utf8mb4".into()])
}

pub(super) fn charset(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let server = var(f, "character_set_server")?;
    let db = f.database.get()?;
    let accepted = accepted_charsets(ctx);
    let ok = |cs: &str| accepted.iter().any(|a| a.eq_ignore_ascii_case(cs));
    let coll = utf8mb4_collation(f);
    let observed = match db {
        Some(d) => format!(
            "database {}: {} ({}); server default {server}",
            d.name, d.charset, d.collation
        ),
        None => format!("server default {server} (no database in the URL)"),
    };
    let v = match db {
        Some(d) if !ok(&d.charset) => Verdict::fail(format!(
            "database `{}` uses {}",
            d.name,
            charset_problem(&d.charset)
        ))
        .remedy(format!(
            "ALTER DATABASE {} CHARACTER SET utf8mb4 COLLATE {coll}; (new tables only) then convert each existing table: ALTER TABLE <t> CONVERT TO CHARACTER SET utf8mb4 COLLATE {coll};",
            bt(&d.name)
        )),
        _ if !ok(&server) => Verdict::warn(format!(
            "the server default is {server}: databases and tables created without a character set get {}",
            charset_problem(&server)
        ))
        .remedy(format!(
            "Set character_set_server = utf8mb4 and collation_server = {coll} in my.cnf under [mysqld] (or the parameter group), then restart."
        )),
        Some(d) => Verdict::pass(format!("database `{}` uses {}", d.name, d.charset)),
        None => Verdict::pass(format!("server default character set {server}")),
    };
    Ok(v.observed(observed).expected(accepted.join(", ")))
}

pub(super) fn collation(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let server = var(f, "collation_server")?;
    let db = f.database.get()?;
    let current = db.as_ref().map_or(server.clone(), |d| d.collation.clone());
    let observed = format!(
        "{}server {server}",
        db.as_ref()
            .map(|d| format!("database {}, ", d.collation))
            .unwrap_or_default()
    );
    Ok(match &ctx.rules.collations {
        None => Verdict::pass(format!("collation {current}; the matrix accepts any"))
            .observed(observed),
        Some(list) if list.iter().any(|c| c.eq_ignore_ascii_case(&current)) => {
            Verdict::pass(format!("collation {current} is accepted"))
                .observed(observed)
                .expected(list.join(", "))
        }
        Some(list) => Verdict::fail(format!(
            "collation {current} is not one the product is tested with: sorting and unique keys on text behave differently"
        ))
        .observed(observed)
        .expected(list.join(", "))
        .remedy(format!(
            "ALTER DATABASE {} COLLATE {}; and convert existing tables (ALTER TABLE <t> CONVERT TO CHARACTER SET utf8mb4 COLLATE {});",
            bt(&db_name(f).unwrap_or_else(|| "db".into())),
            list[0],
            list[0]
        )),
    })
}

pub(super) fn table_charset(f: &MysqlFacts, ctx: &Ctx) -> Outcome {
    let t = f.tables.get()?;
    let accepted = accepted_charsets(ctx);
    let bad: Vec<&String> = t
        .not_utf8mb4
        .iter()
        .filter(|n| {
            !accepted.iter().any(|a| {
                n.rsplit_once(" (").is_some_and(|(_, c)| {
                    c.to_ascii_lowercase()
                        .starts_with(&format!("{}_", a.to_ascii_lowercase()))
                })
            })
        })
        .collect();
    if bad.is_empty() {
        return Ok(Verdict::pass(format!(
            "all {} table(s) use {}",
            t.total,
            accepted.join(", ")
        ))
        .observed(format!("{} tables", t.total)));
    }
    let coll = utf8mb4_collation(f);
    let names: Vec<&str> = bad
        .iter()
        .map(|n| n.split(" (").next().unwrap_or(n))
        .collect();
    let fix: Vec<String> = names
        .iter()
        .take(5)
        .map(|n| {
            format!(
                "ALTER TABLE {} CONVERT TO CHARACTER SET utf8mb4 COLLATE {coll};",
                bt(n)
            )
        })
        .collect();
    let more = if names.len() > 5 {
        format!(" (and the {} other tables listed)", names.len() - 5)
    } else {
        String::new()
    };
    Ok(Verdict::fail(format!(
        "{} table(s) are not utf8mb4: their text columns refuse 4-byte characters or non-Latin text",
        bad.len()
    ))
    .observed(
        bad.iter()
            .take(20)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
    .expected(accepted.join(", "))
    .remedy(format!("{}{more}", fix.join(" "))))
}
