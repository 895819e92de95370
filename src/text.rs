//! Server strings made safe to show: [`inert`] escapes what a terminal or a viewer would act on
//! (C0/C1 controls, bidi overrides), [`truncate`] cuts what is too long with a visible marker.
//! Every text renderer passes report strings through here; each runs in linear time.

use std::fmt::Write;

/// The marker that ends a cut string (followed by how much was left out).
pub const CUT_MARK: &str = "…[cut:";

/// Characters that reorder or hide text when shown: bidi embeddings, overrides and isolates,
/// the directional marks, and the Arabic letter mark.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `c` is shown escaped by [`inert`] (newline and tab are kept there).
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi(c)
}

/// `s` with every control character other than newline and tab (ESC, CR, BEL, DEL, the C1
/// range) and every bidi control written as `\u{..}`, so a terminal shows it instead of
/// acting on it. A backslash is left alone: the escapes are for reading, not for parsing back.
pub fn inert(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Like [`inert`], and newline and tab escaped too: for text that must stay on one line.
pub fn inert_line(s: &str) -> String {
    inert(s).replace('\n', "\\n").replace('\t', "\\t")
}

/// `s` cut to at most `max` characters, ending with a visible marker that says how many
/// characters were left out. Linear in the length of `s`.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => {
            let rest = s[at..].chars().count();
            format!("{}{CUT_MARK} {rest} more characters]", &s[..at])
        }
    }
}

/// [`truncate`] then [`inert`]: what a table cell or a text line gets.
pub fn shown(s: &str, max: usize) -> String {
    inert(&truncate(s, max))
}

/// The longest string a text renderer shows whole (table cells, explain, diff): more is cut
/// with a marker. The JSON report keeps what the collector kept.
pub const TEXT_MAX: usize = 2000;

/// Every string in a JSON value through [`shown`].
fn inert_value(v: &mut serde_json::Value, max: usize) {
    match v {
        serde_json::Value::String(s) if s.len() > max || s.chars().any(needs_escape) => {
            *s = shown(s, max);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| inert_value(v, max)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|v| inert_value(v, max)),
        _ => {}
    }
}

/// A copy of `t` (a report, a finding, a diff, a fleet summary) whose every string went
/// through [`shown`]: what the text renderers print from. Falls back to an unchanged copy if
/// the value does not go through JSON and back (it always does for the report types).
pub fn inert_copy<T: serde::Serialize + serde::de::DeserializeOwned + Clone>(t: &T) -> T {
    let Ok(mut v) = serde_json::to_value(t) else {
        return t.clone();
    };
    inert_value(&mut v, TEXT_MAX);
    serde_json::from_value(v).unwrap_or_else(|_| t.clone())
}

/// The ids nearest to what the user typed: those it is a prefix or part of, then those within a
/// small edit distance of the whole id or of its name after the engine, best first, at most 3.
pub fn closest_ids<'a>(typed: &str, ids: &[&'a str]) -> Vec<&'a str> {
    let typed = typed.trim_matches('*').to_ascii_lowercase();
    if typed.is_empty() {
        return Vec::new();
    }
    let limit = (typed.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = ids
        .iter()
        .filter_map(|&id| {
            let name = id.split_once('.').map_or(id, |(_, n)| n);
            // With an engine prefix, compare whole ids; without, the names after it.
            let d = if id.starts_with(&typed) || (typed.len() >= 3 && id.contains(&typed)) {
                0
            } else if typed.contains('.') {
                edit_distance(&typed, id)
            } else {
                edit_distance(&typed, name)
            };
            (d <= limit).then_some((d, id))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, id)| id).collect()
}

/// Edit distance over characters where swapping two neighbours counts as one edit (`tsl` is
/// one edit from `tls`): the optimal string alignment distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_newlines_kept() {
        assert_eq!(
            inert("a\x1b]0;title\x07b\rPASS\u{202e}x\u{9b}\n"),
            "a\\u{1b}]0;title\\u{7}b\\u{d}PASS\\u{202e}x\\u{9b}\n"
        );
        assert_eq!(inert_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(inert("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn truncation_is_visible_and_counts_what_was_cut() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 3), "abc…[cut: 3 more characters]");
        assert_eq!(truncate("ééé", 1), "é…[cut: 2 more characters]");
    }

    #[test]
    fn copies_escape_every_string_and_keep_the_rest() {
        #[derive(serde::Serialize, serde::Deserialize, Clone, PartialEq, Debug)]
        struct T {
            a: String,
            b: Vec<Option<String>>,
            n: u32,
        }
        let t = T {
            a: "x".repeat(TEXT_MAX + 5),
            b: vec![Some("\x1b[2J".into()), None],
            n: 7,
        };
        let c = inert_copy(&t);
        assert!(c.a.ends_with("…[cut: 5 more characters]"));
        assert_eq!(c.b, vec![Some("\\u{1b}[2J".to_string()), None]);
        assert_eq!(c.n, 7);
    }
}
