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
