//! Splits a workload file into statements the way each engine's own client would: quotes
//! (`''`, `""`, backticks, `[]`, `E''` with backslash escapes), comments (`--`, `#` on MySQL,
//! `/* */`, nested where the engine nests them), PostgreSQL dollar quoting (`$$`, `$tag$`),
//! MySQL's `DELIMITER` lines, SQLite trigger bodies (`BEGIN ... END;`) and SQL Server's `GO`
//! batches (a batch is sent whole, as `sqlcmd` sends it). Each statement keeps the line it
//! starts on, and its tokens, which the escape guard and the rewrite hints read.

use crate::engine::Engine;

/// One token outside comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A bare word (keyword or identifier), upper-cased.
    Word(String),
    /// A quoted identifier (`"a"`, `` `a` ``, `[a]`), unquoted, as written.
    Ident(String),
    /// A string literal or a dollar-quoted body (contents are never inspected).
    Str,
    /// A number.
    Number,
    /// Any other character (`(`, `.`, `,`, `=`, ...).
    Punct(char),
}

/// One statement (or, on SQL Server, one batch) of a workload file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The text as the server receives it (leading comments and the separator left out).
    pub sql: String,
    /// The 1-based line its first character stands on.
    pub line: usize,
    /// Its tokens, comments left out.
    pub tokens: Vec<Token>,
}

/// A file that cannot be split: an unterminated quote, comment or dollar-quoted body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SplitError {
    pub line: usize,
    pub message: String,
}

/// Splits `text` into the statements `engine` would run.
pub fn split(text: &str, engine: Engine) -> Result<Vec<Statement>, SplitError> {
    Splitter {
        b: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        engine,
        delimiter: ";".to_string(),
        out: Vec::new(),
    }
    .run()
}

struct Splitter<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    engine: Engine,
    /// MySQL's current delimiter (changed by `DELIMITER` lines).
    delimiter: String,
    out: Vec<Statement>,
}

/// The statement being gathered.
#[derive(Default)]
struct Current {
    start: Option<(usize, usize)>,
    end: usize,
    tokens: Vec<Token>,
}

impl Splitter<'_> {
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn at_line_start(&self) -> bool {
        self.b[..self.i]
            .iter()
            .rev()
            .take_while(|&&c| c != b'\n')
            .all(|c| c.is_ascii_whitespace())
    }

    /// The rest of the current line (without the newline).
    fn rest_of_line(&self) -> &str {
        let end = self.b[self.i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| self.i + p);
        &self.text[self.i..end]
    }

    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if self.i < self.b.len() {
                if self.b[self.i] == b'\n' {
                    self.line += 1;
                }
                self.i += 1;
            }
        }
    }

    fn err(&self, line: usize, message: impl Into<String>) -> SplitError {
        SplitError {
            line,
            message: message.into(),
        }
    }

    fn finish(&mut self, cur: &mut Current) {
        let c = std::mem::take(cur);
        if let Some((start, line)) = c.start {
            let sql = self.text[start..c.end].trim_end().to_string();
            if !sql.is_empty() {
                self.out.push(Statement {
                    sql,
                    line,
                    tokens: c.tokens,
                });
            }
        }
    }

    /// Whether a `;` here ends a SQLite `CREATE TRIGGER` only when it follows `END`.
    fn inside_trigger_body(&self, cur: &Current) -> bool {
        if self.engine != Engine::Sqlite {
            return false;
        }
        let words: Vec<&str> = cur
            .tokens
            .iter()
            .take(4)
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        let is_trigger = words.first() == Some(&"CREATE") && words.contains(&"TRIGGER");
        let after_end = matches!(cur.tokens.last(), Some(Token::Word(w)) if w == "END");
        is_trigger && !after_end
    }

    fn run(mut self) -> Result<Vec<Statement>, SplitError> {
        let mut cur = Current::default();
        while self.i < self.b.len() {
            let c = self.peek(0);
            let start_line = self.line;
            // Separators that stand on a line of their own.
            if cur.start.is_none() || self.engine == Engine::Mssql {
                let line = self.rest_of_line().to_string();
                if self.at_line_start() {
                    let word = line.split_whitespace().next().unwrap_or("");
                    if self.engine == Engine::Mssql && word.eq_ignore_ascii_case("GO") {
                        let extra: Vec<&str> = line.split_whitespace().skip(1).collect();
                        if !extra.is_empty() && !extra[0].starts_with("--") {
                            return Err(self.err(
                                start_line,
                                format!(
                                    "`{}`: a repeat count after GO is not supported",
                                    line.trim()
                                ),
                            ));
                        }
                        self.finish(&mut cur);
                        let n = line.len();
                        self.advance(n);
                        continue;
                    }
                    if self.engine == Engine::Mysql
                        && cur.start.is_none()
                        && word.eq_ignore_ascii_case("DELIMITER")
                    {
                        let d = line.split_whitespace().nth(1).unwrap_or("");
                        if d.is_empty() || d.contains('\\') {
                            return Err(self.err(start_line, "DELIMITER needs a delimiter"));
                        }
                        self.delimiter = d.to_string();
                        let n = line.len();
                        self.advance(n);
                        continue;
                    }
                }
            }
            // Comments.
            let mysql_dash = self.engine != Engine::Mysql
                || matches!(self.peek(2), 0 | b' ' | b'\t' | b'\r' | b'\n');
            if (c == b'-' && self.peek(1) == b'-' && mysql_dash)
                || (c == b'#' && self.engine == Engine::Mysql)
            {
                let n = self.rest_of_line().len();
                self.advance(n);
                continue;
            }
            if c == b'/' && self.peek(1) == b'*' {
                let nests = matches!(self.engine, Engine::Postgres | Engine::Mssql);
                let mut depth = 0usize;
                loop {
                    if self.i >= self.b.len() {
                        return Err(self.err(start_line, "unterminated /* comment"));
                    }
                    if self.peek(0) == b'/' && self.peek(1) == b'*' && (nests || depth == 0) {
                        depth += 1;
                        self.advance(2);
                    } else if self.peek(0) == b'*' && self.peek(1) == b'/' {
                        depth -= 1;
                        self.advance(2);
                        if depth == 0 {
                            break;
                        }
                    } else {
                        self.advance(1);
                    }
                }
                continue;
            }
            if c.is_ascii_whitespace() {
                self.advance(1);
                continue;
            }
            // The delimiter (MySQL's may be changed; T-SQL batches are split only by GO).
            if self.engine != Engine::Mssql
                && self.text[self.i..].starts_with(self.delimiter.as_str())
                && !(self.delimiter == ";" && self.inside_trigger_body(&cur))
            {
                let n = self.delimiter.len();
                self.advance(n);
                self.finish(&mut cur);
                continue;
            }
            if cur.start.is_none() {
                cur.start = Some((self.i, self.line));
            }
            let token = self.token(start_line)?;
            cur.tokens.push(token);
            cur.end = self.i;
        }
        self.finish(&mut cur);
        Ok(self.out)
    }

    /// Reads one token at the current position.
    fn token(&mut self, start_line: usize) -> Result<Token, SplitError> {
        let c = self.peek(0);
        let e = self.engine;
        // PostgreSQL E'...' (and e'...'): backslash escapes.
        if e == Engine::Postgres && (c == b'E' || c == b'e') && self.peek(1) == b'\'' {
            self.advance(1);
            return self.quoted(b'\'', true, start_line).map(|_| Token::Str);
        }
        // T-SQL N'...', and X'..'/B'..' literals.
        if (c == b'N' || c == b'n' || c == b'X' || c == b'x' || c == b'B' || c == b'b')
            && self.peek(1) == b'\''
        {
            self.advance(1);
            return self
                .quoted(b'\'', e == Engine::Mysql, start_line)
                .map(|_| Token::Str);
        }
        match c {
            b'\'' => self
                .quoted(b'\'', e == Engine::Mysql, start_line)
                .map(|_| Token::Str),
            b'"' if e == Engine::Mysql => self.quoted(b'"', true, start_line).map(|_| Token::Str),
            b'"' => self.quoted(b'"', false, start_line).map(Token::Ident),
            b'`' if e != Engine::Postgres => self.quoted(b'`', false, start_line).map(Token::Ident),
            b'[' if matches!(e, Engine::Mssql | Engine::Sqlite) => {
                self.quoted(b']', false, start_line).map(Token::Ident)
            }
            b'$' if e == Engine::Postgres => {
                // $tag$ ... $tag$, where tag is empty or an identifier; $1 is a parameter.
                let tag_len = self.b[self.i + 1..]
                    .iter()
                    .take_while(|&&ch| ch.is_ascii_alphanumeric() || ch == b'_' || ch >= 0x80)
                    .count();
                let tag_ok = tag_len == 0 || !self.peek(1).is_ascii_digit();
                if tag_ok && self.peek(1 + tag_len) == b'$' {
                    let tag = self.text[self.i..self.i + tag_len + 2].to_string();
                    self.advance(tag.len());
                    match self.text[self.i..].find(tag.as_str()) {
                        Some(p) => {
                            self.advance(p + tag.len());
                            Ok(Token::Str)
                        }
                        None => Err(self.err(start_line, format!("unterminated {tag} quote"))),
                    }
                } else {
                    self.advance(1);
                    Ok(Token::Punct('$'))
                }
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = self.i;
                while self.i < self.b.len() {
                    let ch = self.peek(0);
                    // `END$$` under `DELIMITER $$`: the word stops where the delimiter starts.
                    if self.delimiter != ";" && self.text[self.i..].starts_with(&self.delimiter) {
                        break;
                    }
                    if ch.is_ascii_alphanumeric() || ch == b'_' || ch == b'$' || ch >= 0x80 {
                        self.advance(1);
                    } else {
                        break;
                    }
                }
                Ok(Token::Word(self.text[start..self.i].to_ascii_uppercase()))
            }
            _ if c.is_ascii_digit() => {
                while self.peek(0).is_ascii_alphanumeric() || self.peek(0) == b'.' {
                    self.advance(1);
                }
                Ok(Token::Number)
            }
            _ => {
                self.advance(1);
                Ok(Token::Punct(c as char))
            }
        }
    }

    /// Reads a quoted run that ends at `close` (doubled, it stands for itself); with
    /// `backslash`, a backslash escapes the next character. Returns the contents.
    fn quoted(
        &mut self,
        close: u8,
        backslash: bool,
        start_line: usize,
    ) -> Result<String, SplitError> {
        self.advance(1);
        let start = self.i;
        let mut value = String::new();
        loop {
            if self.i >= self.b.len() {
                let what = match close {
                    b'\'' => "string",
                    b']' => "[identifier",
                    _ => "quoted identifier",
                };
                return Err(self.err(start_line, format!("unterminated {what}")));
            }
            let ch = self.peek(0);
            // A backslash escape, or the closing character doubled: two characters of content.
            if (backslash && ch == b'\\') || (ch == close && self.peek(1) == close) {
                self.advance(2);
            } else if ch == close {
                value.push_str(&self.text[start..self.i]);
                self.advance(1);
                let doubled = (close as char).to_string().repeat(2);
                return Ok(value.replace(&doubled, &(close as char).to_string()));
            } else {
                self.advance(1);
            }
        }
    }
}

/// The statement on one line, at most `max` characters, for messages.
pub fn shorten(sql: &str, max: usize) -> String {
    let one_line = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sqls(text: &str, e: Engine) -> Vec<(usize, String)> {
        split(text, e)
            .unwrap()
            .into_iter()
            .map(|s| (s.line, s.sql))
            .collect()
    }

    #[test]
    fn semicolons_inside_quotes_and_comments_do_not_split() {
        let text = "-- a comment; not a statement\nINSERT INTO t VALUES ('a;b', 'it''s');\n/* c; */ SELECT \"x;y\" FROM t; SELECT 1";
        assert_eq!(
            sqls(text, Engine::Postgres),
            vec![
                (2, "INSERT INTO t VALUES ('a;b', 'it''s')".into()),
                (3, "SELECT \"x;y\" FROM t".into()),
                (3, "SELECT 1".into()),
            ]
        );
    }

    #[test]
    fn postgres_dollar_quotes_e_strings_and_nested_comments() {
        let text = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\nDO $$ BEGIN PERFORM 1; END $$;\nSELECT E'a\\';b';\n/* outer /* inner; */ still; */ SELECT $1;";
        let s = sqls(text, Engine::Postgres);
        assert_eq!(s.len(), 4, "{s:#?}");
        assert!(s[0].1.ends_with("LANGUAGE plpgsql"));
        assert_eq!(s[1], (2, "DO $$ BEGIN PERFORM 1; END $$".into()));
        assert_eq!(s[2], (3, "SELECT E'a\\';b'".into()));
        assert_eq!(s[3], (4, "SELECT $1".into()));
        // Without standard_conforming_strings' E prefix a backslash is an ordinary character.
        assert_eq!(sqls("SELECT 'a\\'; SELECT 2", Engine::Postgres).len(), 2);
    }

    #[test]
    fn mysql_backslashes_hashes_backticks_and_delimiter() {
        let text = "# comment; here\nINSERT INTO `we;ird` VALUES ('a\\';b', \"c\\\";d\");\nSELECT 1 --not a comment in MySQL\n;\nDELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\nDELIMITER ;\nSELECT 3;";
        let s = sqls(text, Engine::Mysql);
        assert_eq!(s.len(), 4, "{s:#?}");
        assert_eq!(s[0].0, 2);
        assert_eq!(s[1].1, "SELECT 1 --not a comment in MySQL");
        assert_eq!(
            s[2],
            (
                6,
                "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END".into()
            )
        );
        assert_eq!(s[3], (8, "SELECT 3".into()));
    }

    #[test]
    fn sql_server_batches_split_on_go_only() {
        let text = "CREATE TABLE [a;b] (id int);\nINSERT INTO [a;b] VALUES (1)\ngo\n/* GO */\nCREATE PROCEDURE p AS BEGIN SELECT 1; SELECT 'GO'; END\nGO -- done\n";
        let s = sqls(text, Engine::Mssql);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!(
            s[0],
            (
                1,
                "CREATE TABLE [a;b] (id int);\nINSERT INTO [a;b] VALUES (1)".into()
            )
        );
        assert_eq!(s[1].0, 5);
        assert!(split("SELECT 1\nGO 5\n", Engine::Mssql).is_err());
    }

    #[test]
    fn sqlite_trigger_bodies_stay_whole() {
        let text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET n = 1; DELETE FROM b; END;\nSELECT [x;y] FROM a;";
        let s = sqls(text, Engine::Sqlite);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert!(s[0].1.ends_with("DELETE FROM b; END"));
    }

    #[test]
    fn unterminated_runs_name_their_line() {
        let e = split("SELECT 1;\nSELECT 'oops;\n", Engine::Postgres).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unterminated string"));
        let e = split("SELECT $q$ body", Engine::Postgres).unwrap_err();
        assert!(e.message.contains("$q$"), "{e}");
        assert!(split("/* /* */", Engine::Postgres).is_err());
        // MySQL does not nest comments: the first */ ends it.
        assert_eq!(sqls("/* /* */ SELECT 1;", Engine::Mysql).len(), 1);
    }

    #[test]
    fn tokens_are_words_idents_and_punctuation() {
        let s = split(
            "create table \"Users\" (id int, name varchar)",
            Engine::Postgres,
        )
        .unwrap();
        assert_eq!(s[0].tokens[0], Token::Word("CREATE".into()));
        assert_eq!(s[0].tokens[2], Token::Ident("Users".into()));
        assert!(s[0].tokens.contains(&Token::Punct('(')));
    }

    #[test]
    fn shorten_keeps_one_line() {
        assert_eq!(
            shorten("CREATE TABLE t (\n  id int\n)", 80),
            "CREATE TABLE t ( id int )"
        );
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
    }
}
