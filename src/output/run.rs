//! The outputs of one run, written as the pass streams: `fact_response` and
//! `bridge_response_topic` grow chunk by chunk, rejects row by row; the small
//! tables are written at the end. Everything goes into the staging folder of
//! an [`OutputDir`], so the run appears all at once on commit.
//!
//! `dim_date` is written last, over the response dates seen: every day from
//! the first to the last, so that a BI calendar has no gaps. A stray date
//! (a typo decades away, a wrong `--date-format`) would make that thousands
//! of rows, or millions: Unix milliseconds reach far. So the span is
//! checked ([`DateSpan`]): over [`WARN_YEARS`] years the table's entry in
//! the manifest carries a note naming the first and last date and their
//! lines, which the run also prints as a warning; over [`EVERY_DAY_YEARS`]
//! years the rows are only the distinct dates that occur, not every day
//! between (at most one row per response then). Either way every
//! `fact_response.response_date` has its row; nothing is refused.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use chrono::{Months, NaiveDate};

use super::manifest::TableInfo;
use super::table::{CsvExporter, Exporter, ParquetExporter, Table, TableWriter};
use super::tables;
use super::OutputDir;
use crate::classify::Taxonomy;
use crate::input::Reject;
use crate::pipeline::PassSink;
use crate::stats::response::AnalyzedResponse;

/// One table open in several formats.
pub struct TableFiles {
    name: String,
    writers: Vec<(String, Box<dyn TableWriter>)>,
    rows: usize,
}

impl TableFiles {
    /// Opens `<shape.name>.<ext>` for each exporter.
    pub fn create(
        out: &OutputDir,
        shape: &Table,
        exporters: &[&dyn Exporter],
    ) -> Result<TableFiles> {
        let mut writers = Vec::new();
        for e in exporters {
            let file = format!("{}.{}", shape.name, e.extension());
            let w = e
                .start(shape, Box::new(out.file(&file)?))
                .with_context(|| format!("starting {file}"))?;
            writers.push((file, w));
        }
        Ok(TableFiles {
            name: shape.name.clone(),
            writers,
            rows: 0,
        })
    }

    /// Appends a chunk to every format.
    pub fn append(&mut self, chunk: &Table) -> Result<()> {
        for (file, w) in &mut self.writers {
            w.append(chunk).with_context(|| format!("writing {file}"))?;
        }
        self.rows += chunk.rows();
        Ok(())
    }

    /// Completes every file.
    pub fn finish(self) -> Result<TableInfo> {
        let mut files = Vec::new();
        for (file, w) in self.writers {
            w.finish().with_context(|| format!("completing {file}"))?;
            files.push(file);
        }
        Ok(TableInfo {
            name: self.name,
            rows: self.rows,
            files,
            note: None,
        })
    }

    /// Writes a whole table at once.
    pub fn write_whole(
        out: &OutputDir,
        table: &Table,
        exporters: &[&dyn Exporter],
    ) -> Result<TableInfo> {
        let mut t = TableFiles::create(out, table, exporters)?;
        t.append(table)?;
        t.finish()
    }
}

/// The formats of the BI tables.
pub const BI_FORMATS: [&dyn Exporter; 2] = [&ParquetExporter, &CsvExporter];

/// Days per chunk of `dim_date`.
const DATE_CHUNK: usize = 4096;

/// A span of response dates longer than this many years is noted in the
/// manifest and warned about.
pub const WARN_YEARS: u32 = 10;

/// Up to this many years, `dim_date` has every day of the span; beyond, only
/// the dates that occur.
pub const EVERY_DAY_YEARS: u32 = 100;

/// The first and last response date of a run, each with the line it was
/// first seen on, and how many distinct dates there were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateSpan {
    pub first: (NaiveDate, u64),
    pub last: (NaiveDate, u64),
    pub distinct: usize,
}

impl DateSpan {
    /// Whether the last date is more than `years` after the first (never
    /// when that would fall beyond the last date chrono holds).
    pub fn longer_than(&self, years: u32) -> bool {
        self.first
            .0
            .checked_add_months(Months::new(years.saturating_mul(12)))
            .is_some_and(|limit| self.last.0 > limit)
    }

    /// Whether `dim_date` has every day of the span (else only the dates
    /// that occur).
    pub fn every_day(&self) -> bool {
        !self.longer_than(EVERY_DAY_YEARS)
    }

    /// The manifest's note on `dim_date` (and the run's warning), for a span
    /// over [`WARN_YEARS`] years.
    pub fn note(&self) -> Option<String> {
        if !self.longer_than(WARN_YEARS) {
            return None;
        }
        let rows = if self.every_day() {
            "every day between is a row".to_string()
        } else {
            format!(
                "over {EVERY_DAY_YEARS} years, so the rows are only the {} dates that occur, not every day between",
                self.distinct
            )
        };
        Some(format!(
            "response dates span more than {WARN_YEARS} years, from {} (line {}) to {} (line {}); \
             a date far from the others may be a typo or a wrong --date-format; {rows}",
            self.first.0, self.first.1, self.last.0, self.last.1
        ))
    }
}

/// A [`PassSink`] writing the per-response tables and the rejects, and at
/// the end `dim_date` over the response dates seen.
pub struct StreamingOutputs<'a> {
    fact: TableFiles,
    answer: TableFiles,
    bridge: TableFiles,
    rejects: TableFiles,
    dim_date: TableFiles,
    /// First and last response date so far, with the line each was first
    /// seen on.
    span: Option<((NaiveDate, u64), (NaiveDate, u64))>,
    /// Every response date so far.
    dates: BTreeSet<NaiveDate>,
    source: String,
    segment_columns: Vec<String>,
    date_column: Option<usize>,
    /// The open questions' columns, the comment column first.
    questions: Vec<String>,
    run_id: String,
    taxonomy: &'a Taxonomy,
}

impl<'a> StreamingOutputs<'a> {
    /// Opens the streamed tables in `out`.
    pub fn create(
        out: &OutputDir,
        source: &str,
        segment_columns: &[String],
        date_column: Option<usize>,
        questions: &[String],
        run_id: &str,
        taxonomy: &'a Taxonomy,
    ) -> Result<StreamingOutputs<'a>> {
        let fact = tables::fact_response(&[], segment_columns, date_column, run_id);
        let answer = tables::fact_answer(&[], questions, run_id);
        let bridge = tables::bridge_response_topic(&[], taxonomy, questions);
        let rejects = tables::rejects(source, &[]);
        Ok(StreamingOutputs {
            fact: TableFiles::create(out, &fact, &BI_FORMATS)?,
            answer: TableFiles::create(out, &answer, &BI_FORMATS)?,
            bridge: TableFiles::create(out, &bridge, &BI_FORMATS)?,
            rejects: TableFiles::create(out, &rejects, &[&CsvExporter])?,
            dim_date: TableFiles::create(out, &tables::dim_date(&[]), &BI_FORMATS)?,
            span: None,
            dates: BTreeSet::new(),
            source: source.to_string(),
            segment_columns: segment_columns.to_vec(),
            date_column,
            questions: questions.to_vec(),
            run_id: run_id.to_string(),
            taxonomy,
        })
    }

    /// The response dates so far; `None` without any.
    pub fn date_span(&self) -> Option<DateSpan> {
        let (first, last) = self.span?;
        Some(DateSpan {
            first,
            last,
            distinct: self.dates.len(),
        })
    }

    /// Completes the streamed tables, and writes `dim_date`: every day
    /// from the first response date to the last, or only the dates that
    /// occur over a span of more than [`EVERY_DAY_YEARS`] years (no rows
    /// without dates); its entry notes a span of over [`WARN_YEARS`] years.
    pub fn finish(mut self) -> Result<Vec<TableInfo>> {
        let span = self.date_span();
        if let Some(span) = span {
            let days: Box<dyn Iterator<Item = NaiveDate>> = if span.every_day() {
                let last = span.last.0;
                Box::new(span.first.0.iter_days().take_while(move |d| *d <= last))
            } else {
                Box::new(std::mem::take(&mut self.dates).into_iter())
            };
            let mut days = days.peekable();
            while days.peek().is_some() {
                let chunk: Vec<NaiveDate> = days.by_ref().take(DATE_CHUNK).collect();
                self.dim_date.append(&tables::dim_date(&chunk))?;
            }
        }
        let mut dim_date = self.dim_date.finish()?;
        dim_date.note = span.and_then(|s| s.note());
        Ok(vec![
            self.fact.finish()?,
            self.answer.finish()?,
            self.bridge.finish()?,
            self.rejects.finish()?,
            dim_date,
        ])
    }
}

impl PassSink for StreamingOutputs<'_> {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()> {
        for r in chunk {
            let Some(d) = r.when.date else { continue };
            let line = r.response.line;
            self.span = Some(match self.span {
                Some((first, last)) => (
                    if d < first.0 { (d, line) } else { first },
                    if d > last.0 { (d, line) } else { last },
                ),
                None => ((d, line), (d, line)),
            });
            self.dates.insert(d);
        }
        self.fact.append(&tables::fact_response(
            chunk,
            &self.segment_columns,
            self.date_column,
            &self.run_id,
        ))?;
        self.answer
            .append(&tables::fact_answer(chunk, &self.questions, &self.run_id))?;
        self.bridge.append(&tables::bridge_response_topic(
            chunk,
            self.taxonomy,
            &self.questions,
        ))
    }

    fn reject(&mut self, reject: &Reject) -> Result<()> {
        self.rejects
            .append(&tables::rejects(&self.source, std::slice::from_ref(reject)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(first: &str, last: &str) -> DateSpan {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        DateSpan {
            first: (d(first), 7),
            last: (d(last), 12),
            distinct: 40,
        }
    }

    #[test]
    fn a_long_span_is_noted_and_a_very_long_one_has_only_its_dates() {
        // Ten years to the day is not more than ten.
        let s = span("2016-03-01", "2026-03-01");
        assert!(!s.longer_than(WARN_YEARS) && s.every_day());
        assert_eq!(s.note(), None);
        let s = span("2016-03-01", "2026-03-02");
        assert!(s.longer_than(WARN_YEARS) && s.every_day());
        let note = s.note().unwrap();
        assert!(
            note.contains("from 2016-03-01 (line 7) to 2026-03-02 (line 12)")
                && note.contains("every day between is a row"),
            "{note}"
        );
        // A hundred years: still every day (36,525 rows at most).
        assert!(span("1926-03-01", "2026-03-01").every_day());
        let s = span("1926-03-01", "2026-03-02");
        assert!(!s.every_day());
        let note = s.note().unwrap();
        assert!(
            note.contains("from 1926-03-01 (line 7)")
                && note.contains("only the 40 dates that occur"),
            "{note}"
        );
        // Dates at chrono's ends do not overflow.
        assert!(!span("2026-01-01", "2026-01-01").longer_than(u32::MAX / 12));
        assert!(DateSpan {
            first: (NaiveDate::MIN, 2),
            last: (NaiveDate::MAX, 3),
            distinct: 2
        }
        .longer_than(EVERY_DAY_YEARS));
    }
}
