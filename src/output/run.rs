//! The outputs of one run, written as the pass streams: `fact_response` and
//! `bridge_response_topic` grow chunk by chunk, rejects row by row; the small
//! tables are written at the end. Everything goes into the staging folder of
//! an [`OutputDir`], so the run appears all at once on commit.

use anyhow::{Context, Result};
use chrono::NaiveDate;

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

/// Days per chunk of `dim_date` (a date typo decades away makes it long).
const DATE_CHUNK: usize = 4096;

/// A [`PassSink`] writing the per-response tables and the rejects, and at
/// the end `dim_date` over the response dates seen.
pub struct StreamingOutputs<'a> {
    fact: TableFiles,
    answer: TableFiles,
    bridge: TableFiles,
    rejects: TableFiles,
    dim_date: TableFiles,
    /// First and last response date so far.
    dates: Option<(NaiveDate, NaiveDate)>,
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
            dates: None,
            source: source.to_string(),
            segment_columns: segment_columns.to_vec(),
            date_column,
            questions: questions.to_vec(),
            run_id: run_id.to_string(),
            taxonomy,
        })
    }

    /// Completes the streamed tables, and writes `dim_date`: every day
    /// from the first response date to the last (no rows without dates).
    pub fn finish(mut self) -> Result<Vec<TableInfo>> {
        if let Some((first, last)) = self.dates {
            let mut days = first.iter_days().take_while(|d| *d <= last).peekable();
            while days.peek().is_some() {
                let chunk: Vec<NaiveDate> = days.by_ref().take(DATE_CHUNK).collect();
                self.dim_date.append(&tables::dim_date(&chunk))?;
            }
        }
        Ok(vec![
            self.fact.finish()?,
            self.answer.finish()?,
            self.bridge.finish()?,
            self.rejects.finish()?,
            self.dim_date.finish()?,
        ])
    }
}

impl PassSink for StreamingOutputs<'_> {
    fn responses(&mut self, chunk: &[AnalyzedResponse]) -> Result<()> {
        for d in chunk.iter().filter_map(|r| r.when.date) {
            self.dates = Some(match self.dates {
                Some((first, last)) => (first.min(d), last.max(d)),
                None => (d, d),
            });
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
