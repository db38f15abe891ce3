//! Spreadsheet exports (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), read with
//! calamine: one sheet becomes JSON Lines, one line per sheet row, which the
//! JSON Lines reader then streams like any export.
//!
//! Line `k` of the JSON Lines is row `k` of the sheet (the header row and
//! empty rows become blank lines, which the reader skips but counts), so a
//! reject's line is the row number Excel shows. The header is the first row
//! with the most filled cells among the first 20 (a title row above it, with
//! one cell, is skipped; a reject never comes from it); a header cell that is empty becomes `col_N` (N
//! the column's position, 1-based) and a repeated one gets `_2`, `_3`, as in
//! a CSV header. Cells become the text a CSV export of the sheet would hold:
//! whole numbers without `.0` (a score of 9 stored as 9.0 is `9`), dates and
//! date-times as ISO 8601 (`2018-04-11`, `2018-04-11T20:09:00`), booleans as
//! `TRUE`/`FALSE`, errors as Excel shows them (`#N/A`).
//!
//! calamine reads the whole sheet into memory: a sheet has at most 1,048,576
//! rows, so that is bounded, but a CSV export streams with less.

use std::io::Write;
use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

/// Rows searched for the header: the first with the most filled cells.
const HEADER_SEARCH: usize = 20;

/// File name extensions read as spreadsheets.
pub const EXTENSIONS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// True when `path`'s extension (any case) is one of [`EXTENSIONS`].
pub fn is_spreadsheet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What was read from a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetInfo {
    /// The sheet read.
    pub sheet: String,
    /// Every sheet of the workbook, in order.
    pub sheets: Vec<String>,
    /// Data rows written (the header row not counted, empty rows counted).
    pub rows: u64,
}

/// Why a sheet could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// `--sheet` names no sheet of the workbook.
    #[error("{0}")]
    NoSuchSheet(String),
    /// The file is no readable workbook, the sheet is empty, or writing
    /// failed.
    #[error("{0}")]
    Unreadable(String),
}

/// Writes sheet `sheet` (default: the first) of the workbook at `path` to
/// `dest` as JSON Lines, line `k` for sheet row `k`. `file` names the
/// workbook in errors.
pub fn write_jsonl(
    path: &Path,
    file: &str,
    sheet: Option<&str>,
    dest: &mut dyn Write,
) -> Result<SheetInfo, SheetError> {
    write(path, file, sheet, dest)
}

fn write(
    path: &Path,
    file: &str,
    sheet: Option<&str>,
    dest: &mut dyn Write,
) -> Result<SheetInfo, SheetError> {
    use SheetError::Unreadable;
    let mut book = open_workbook_auto(path)
        .map_err(|e| Unreadable(format!("{file}: not a readable spreadsheet: {e}")))?;
    let sheets = book.sheet_names();
    let name = match sheet {
        Some(s) => sheets
            .iter()
            .find(|n| n.as_str() == s)
            .or_else(|| sheets.iter().find(|n| n.eq_ignore_ascii_case(s)))
            .cloned()
            .ok_or_else(|| {
                SheetError::NoSuchSheet(format!(
                    "{file}: --sheet `{s}` not found; the sheets are: {}",
                    sheets.join(", ")
                ))
            })?,
        None => sheets
            .first()
            .cloned()
            .ok_or_else(|| Unreadable(format!("{file}: the workbook has no sheet")))?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| Unreadable(format!("{file}: sheet `{name}`: {e}")))?;
    let Some((first_row, _)) = range.start() else {
        return Err(Unreadable(format!("{file}: sheet `{name}` is empty")));
    };
    let io = |e: std::io::Error| Unreadable(format!("{file}: writing its rows: {e}"));
    // The header: the first of the first rows with the most filled cells
    // (a title row above it has one).
    let filled = |row: &[Data]| {
        row.iter()
            .filter(|c| !cell_text(c).trim().is_empty())
            .count()
    };
    let most = range
        .rows()
        .take(HEADER_SEARCH)
        .map(filled)
        .max()
        .unwrap_or(0);
    let skip = range.rows().position(|r| filled(r) == most).unwrap_or(0);
    // Rows above the used range, above the header, and the header itself:
    // blank lines.
    for _ in 0..=(first_row as usize + skip) {
        dest.write_all(b"\n").map_err(io)?;
    }
    let mut rows = range.rows().skip(skip);
    let header = rows.next().map(header_names).unwrap_or_default();
    let mut written = 0u64;
    let mut line = String::new();
    for row in rows {
        written += 1;
        // Keys in the header's order (serde_json's map would sort them);
        // an empty cell is left out, as a JSON export leaves it out.
        line.clear();
        for (key, cell) in header.iter().zip(row) {
            let text = cell_text(cell);
            if text.is_empty() {
                continue;
            }
            line.push(if line.is_empty() { '{' } else { ',' });
            line.push_str(&serde_json::Value::String(key.clone()).to_string());
            line.push(':');
            line.push_str(&serde_json::Value::String(text).to_string());
        }
        if !line.is_empty() {
            line.push('}');
        }
        line.push('\n');
        dest.write_all(line.as_bytes()).map_err(io)?;
    }
    dest.flush().map_err(io)?;
    Ok(SheetInfo {
        sheet: name,
        sheets,
        rows: written,
    })
}

/// Header names as a CSV header's: empty ones `col_N`, repeats `_2`, `_3`.
fn header_names(row: &[Data]) -> Vec<String> {
    let texts: Vec<String> = row.iter().map(cell_text).collect();
    super::unique_names(&texts)
}

/// A cell as the text a CSV export of the sheet would hold.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) if d.is_duration() => d.as_f64().to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}
