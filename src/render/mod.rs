//! Renderers: each takes a `&Report` and a writer and only formats. No renderer computes a
//! status, a count or an exit code; those are in the report.

pub mod catalogue;
pub mod diff;
pub mod explain;
pub mod fleet;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod table;

use crate::report::Report;
use crate::status::Status;
use std::io::{self, Write};

/// Statuses in the order a reader needs them: what is broken first.
pub const ATTENTION_ORDER: [Status; 5] = [
    Status::Fail,
    Status::Error,
    Status::Warn,
    Status::Pass,
    Status::Skip,
];

/// Position of a status in [`ATTENTION_ORDER`], for sorting (the status itself is the report's).
pub fn attention(s: Status) -> usize {
    ATTENTION_ORDER.iter().position(|x| *x == s).unwrap_or(0)
}

pub use crate::report::target_place;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for terminals.
    Table,
    /// The JSON report (the contract; see reports/report.schema.json).
    Json,
    /// Markdown to paste into a ticket.
    Markdown,
    /// One self-contained HTML page (no external asset; works offline and as an attachment).
    Html,
    /// JUnit XML: each check a test case, for CI pipelines that gate on the database.
    Junit,
}

impl Format {
    /// The format a file name asks for, by extension.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "md" | "markdown" => Some(Format::Markdown),
            "txt" => Some(Format::Table),
            "html" | "htm" => Some(Format::Html),
            "xml" | "junit" => Some(Format::Junit),
            _ => None,
        }
    }
}

/// Writes a report in a format.
pub fn render(report: &Report, format: Format, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::render(report, color, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Markdown => markdown::render(report, out),
        Format::Html => html::render(report, out),
        Format::Junit => junit::render(report, out),
    }
}
