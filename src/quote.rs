//! Identifiers and literals written into SQL text, per dialect: every value the tool puts in a
//! statement it sends or prints goes through here (no statement binds parameters, so nothing is
//! left prepared on a pooled session).

/// A T-SQL Unicode string literal: T-SQL has no backslash escapes, so doubling quotes is all.
pub fn tsql_literal(v: &str) -> String {
    format!("N'{}'", v.replace('\'', "''"))
}

/// A T-SQL identifier, bracket-quoted: `[a]]b]`.
pub fn tsql_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// A PostgreSQL (and SQLite, standard SQL) identifier: bare when it is a plain lowercase name
/// that is not a reserved word, so printed statements stay readable; else double-quoted, the
/// quote doubled inside: `"My ""T"""`.
pub fn pg_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !PG_RESERVED.contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// PostgreSQL's reserved key words (its documentation's appendix C, "reserved" and "reserved
/// (can be function or type)"): bare, they would not read as names.
const PG_RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "notnull",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];

/// A MySQL identifier, backtick-quoted: `` `a``b` ``.
pub fn mysql_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A PostgreSQL string literal for a batch: `E'…'` reads backslashes the same way whatever
/// `standard_conforming_strings` says, so doubling quotes and backslashes is enough.
pub fn pg_literal(v: &str) -> String {
    format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
}

/// A PostgreSQL `text[]` literal for a batch.
pub fn pg_text_array(items: &[impl AsRef<str>]) -> String {
    let items: Vec<String> = items.iter().map(|i| pg_literal(i.as_ref())).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

/// A MySQL string literal for a batch: hexadecimal, so neither quotes, backslashes nor the
/// NO_BACKSLASH_ESCAPES mode can change what it reads.
pub fn mysql_literal(v: &str) -> String {
    if v.is_empty() {
        return "''".into();
    }
    let hex: String = v.bytes().map(|b| format!("{b:02X}")).collect();
    format!("CONVERT(X'{hex}' USING utf8mb4)")
}
