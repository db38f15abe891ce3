//! A small columnar table and the formats it is written in.
//!
//! Each output table is built once as typed columns and then handed to every
//! [`Exporter`] (Parquet, CSV), so the two files of a table can never
//! disagree. Types are chosen for BI tools: `Int64`/`Float64`, booleans,
//! `Date32` for `_date` columns and UTC microsecond timestamps for `_at`
//! columns; a missing value is a null (an empty field in CSV).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, NaiveDate, Utc};

/// Values of one column.
#[derive(Debug, Clone)]
pub enum ColumnData {
    Utf8(Vec<Option<String>>),
    Int64(Vec<Option<i64>>),
    Float64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Date(Vec<Option<NaiveDate>>),
    Timestamp(Vec<Option<DateTime<Utc>>>),
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::Utf8(v) => v.len(),
            ColumnData::Int64(v) => v.len(),
            ColumnData::Float64(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Date(v) => v.len(),
            ColumnData::Timestamp(v) => v.len(),
        }
    }

    /// The CSV text of row `i` (empty for null).
    fn text(&self, i: usize) -> String {
        match self {
            ColumnData::Utf8(v) => v[i].clone().unwrap_or_default(),
            ColumnData::Int64(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
            ColumnData::Float64(v) => v[i]
                .filter(|x| x.is_finite())
                .map(|x| x.to_string())
                .unwrap_or_default(),
            ColumnData::Bool(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
            ColumnData::Date(v) => v[i]
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            ColumnData::Timestamp(v) => v[i]
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_default(),
        }
    }

    fn data_type(&self) -> DataType {
        match self {
            ColumnData::Utf8(_) => DataType::Utf8,
            ColumnData::Int64(_) => DataType::Int64,
            ColumnData::Float64(_) => DataType::Float64,
            ColumnData::Bool(_) => DataType::Boolean,
            ColumnData::Date(_) => DataType::Date32,
            ColumnData::Timestamp(_) => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
        }
    }

    fn to_array(&self) -> ArrayRef {
        match self {
            ColumnData::Utf8(v) => {
                let mut b = StringBuilder::new();
                v.iter().for_each(|x| b.append_option(x.as_deref()));
                Arc::new(b.finish())
            }
            ColumnData::Int64(v) => {
                let mut b = Int64Builder::new();
                v.iter().for_each(|x| b.append_option(*x));
                Arc::new(b.finish())
            }
            ColumnData::Float64(v) => {
                let mut b = Float64Builder::new();
                v.iter()
                    .for_each(|x| b.append_option(x.filter(|f| f.is_finite())));
                Arc::new(b.finish())
            }
            ColumnData::Bool(v) => {
                let mut b = BooleanBuilder::new();
                v.iter().for_each(|x| b.append_option(*x));
                Arc::new(b.finish())
            }
            ColumnData::Date(v) => {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
                let mut b = Date32Builder::new();
                v.iter()
                    .for_each(|x| b.append_option(x.map(|d| (d - epoch).num_days() as i32)));
                Arc::new(b.finish())
            }
            ColumnData::Timestamp(v) => {
                let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
                v.iter()
                    .for_each(|x| b.append_option(x.map(|t| t.timestamp_micros())));
                Arc::new(b.finish())
            }
        }
    }
}

/// A named column.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

impl Column {
    /// A column from a name and values.
    pub fn new(name: impl Into<String>, data: ColumnData) -> Column {
        Column {
            name: name.into(),
            data,
        }
    }
}

/// A table: equally long named columns.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
}

impl Table {
    /// Number of rows (0 for a table without columns).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }

    fn check(&self) -> Result<()> {
        let n = self.rows();
        for c in &self.columns {
            anyhow::ensure!(
                c.data.len() == n,
                "table {}: column {} has {} rows, expected {n}",
                self.name,
                c.name,
                c.data.len()
            );
        }
        Ok(())
    }

    /// The table as one Arrow record batch.
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        self.check()?;
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.data.data_type(), true))
            .collect();
        let arrays: Vec<ArrayRef> = self.columns.iter().map(|c| c.data.to_array()).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .with_context(|| format!("building table {}", self.name))
    }
}

/// A file format for tables.
pub trait Exporter {
    /// File extension, without the dot.
    fn extension(&self) -> &'static str;
    /// Starts a file for tables shaped like `shape` (its columns and types;
    /// its rows are not written).
    fn start(&self, shape: &Table, out: Box<dyn Write + Send>) -> Result<Box<dyn TableWriter>>;
}

/// An open file of one table, written chunk by chunk.
pub trait TableWriter: Send {
    /// Appends the rows of `chunk` (same columns as the shape).
    fn append(&mut self, chunk: &Table) -> Result<()>;
    /// Completes the file (footer, flush).
    fn finish(self: Box<Self>) -> Result<()>;
}

/// RFC 4180 CSV with a header row.
///
/// Every CSV output passes here, so this is where text that a spreadsheet
/// would run as a formula (a cell starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return: an id, a comment or a segment value from the
/// export) is neutralised, as OWASP recommends for CSV injection: a `'` is
/// put in front. Only text columns are touched (a negative number stays a
/// number), and Parquet keeps every value exact.
pub struct CsvExporter;

/// A text cell as written to CSV: with a `'` in front when it starts like
/// a formula (see [`CsvExporter`]).
fn csv_text(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

struct CsvTable {
    w: csv::Writer<Box<dyn Write + Send>>,
}

impl Exporter for CsvExporter {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn start(&self, shape: &Table, out: Box<dyn Write + Send>) -> Result<Box<dyn TableWriter>> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(shape.columns.iter().map(|c| csv_text(c.name.clone())))?;
        Ok(Box::new(CsvTable { w }))
    }
}

impl TableWriter for CsvTable {
    fn append(&mut self, chunk: &Table) -> Result<()> {
        chunk.check()?;
        for i in 0..chunk.rows() {
            self.w
                .write_record(chunk.columns.iter().map(|c| match c.data {
                    ColumnData::Utf8(_) => csv_text(c.data.text(i)),
                    _ => c.data.text(i),
                }))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.w.flush()?;
        Ok(())
    }
}

/// Apache Parquet (snappy-compressed), through the `parquet` crate's Arrow
/// writer. Row groups hold at most [`ROW_GROUP`] rows, so the writer's
/// buffer stays bounded however long the table gets.
pub struct ParquetExporter;

/// Rows per Parquet row group.
pub const ROW_GROUP: usize = 65_536;

struct ParquetTable {
    w: parquet::arrow::ArrowWriter<Box<dyn Write + Send>>,
}

impl Exporter for ParquetExporter {
    fn extension(&self) -> &'static str {
        "parquet"
    }

    fn start(&self, shape: &Table, out: Box<dyn Write + Send>) -> Result<Box<dyn TableWriter>> {
        let schema = shape.to_record_batch()?.schema();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build();
        let w = parquet::arrow::ArrowWriter::try_new(out, schema, Some(props))?;
        Ok(Box::new(ParquetTable { w }))
    }
}

impl TableWriter for ParquetTable {
    fn append(&mut self, chunk: &Table) -> Result<()> {
        if chunk.rows() > 0 {
            self.w.write(&chunk.to_record_batch()?)?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.w.close()?;
        Ok(())
    }
}

/// Writes a whole table with one exporter (for tests and small tables).
pub fn export_whole(e: &dyn Exporter, table: &Table, out: Box<dyn Write + Send>) -> Result<()> {
    let mut w = e.start(table, out)?;
    w.append(table)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An in-memory file the test can read after the writer is gone.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Shared {
        fn bytes(&self) -> Vec<u8> {
            self.0.lock().unwrap().clone()
        }
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn sample() -> Table {
        Table {
            name: "t".into(),
            columns: vec![
                Column::new("id", ColumnData::Utf8(vec![Some("a,1".into()), None])),
                Column::new("n", ColumnData::Int64(vec![Some(3), None])),
                Column::new("x", ColumnData::Float64(vec![Some(0.5), Some(f64::NAN)])),
                Column::new("ok", ColumnData::Bool(vec![Some(true), None])),
                Column::new(
                    "response_date",
                    ColumnData::Date(vec![NaiveDate::from_ymd_opt(2026, 11, 23), None]),
                ),
            ],
        }
    }

    #[test]
    fn csv_has_header_nulls_as_empty_and_quotes() {
        let out = Shared::default();
        export_whole(&CsvExporter, &sample(), Box::new(out.clone())).unwrap();
        assert_eq!(
            String::from_utf8(out.bytes()).unwrap(),
            "id,n,x,ok,response_date\n\"a,1\",3,0.5,true,2026-11-23\n,,,,\n"
        );
    }

    /// A table whose text cells start like spreadsheet formulas.
    fn formulas() -> Table {
        let cells = ["=1+2", "+cmd", "-12.5", "@SUM(A1)", "\tx", "\rx", "a=b", ""];
        Table {
            name: "f".into(),
            columns: vec![
                Column::new(
                    "s",
                    ColumnData::Utf8(cells.iter().map(|c| Some(c.to_string())).collect()),
                ),
                Column::new("x", ColumnData::Float64(vec![Some(-12.5); cells.len()])),
                Column::new("n", ColumnData::Int64(vec![Some(-3); cells.len()])),
            ],
        }
    }

    #[test]
    fn csv_text_cells_that_start_like_formulas_are_neutralised() {
        let out = Shared::default();
        export_whole(&CsvExporter, &formulas(), Box::new(out.clone())).unwrap();
        let text = String::from_utf8(out.bytes()).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect();
        let s: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            s,
            [
                "'=1+2",
                "'+cmd",
                "'-12.5",
                "'@SUM(A1)",
                "'\tx",
                "'\rx",
                "a=b",
                ""
            ]
        );
        // Numbers stay numbers.
        assert!(
            rows.iter().all(|r| r[1] == "-12.5" && r[2] == "-3"),
            "{rows:?}"
        );
    }

    #[test]
    fn parquet_keeps_text_that_starts_like_a_formula_exact() {
        let out = Shared::default();
        export_whole(&ParquetExporter, &formulas(), Box::new(out.clone())).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(out.bytes()),
        )
        .unwrap()
        .build()
        .unwrap();
        let batch = reader.map(|b| b.unwrap()).next().unwrap();
        let s = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        assert_eq!(s.value(0), "=1+2");
        assert_eq!(s.value(2), "-12.5");
        assert_eq!(s.value(4), "\tx");
    }

    #[test]
    fn parquet_round_trips_through_the_arrow_reader() {
        let out = Shared::default();
        export_whole(&ParquetExporter, &sample(), Box::new(out.clone())).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(out.bytes()),
        )
        .unwrap()
        .build()
        .unwrap();
        let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
        let schema = batches[0].schema();
        assert_eq!(schema.field(4).data_type(), &DataType::Date32);
        // NaN is not a number a BI tool can sum: written as null (empty in CSV).
        assert_eq!(batches[0].column(2).null_count(), 1);
    }

    #[test]
    fn chunks_append_to_one_file() {
        let out = Shared::default();
        let mut w = CsvExporter.start(&sample(), Box::new(out.clone())).unwrap();
        w.append(&sample()).unwrap();
        w.append(&sample()).unwrap();
        w.finish().unwrap();
        assert_eq!(String::from_utf8(out.bytes()).unwrap().lines().count(), 5);
    }

    #[test]
    fn ragged_tables_are_an_error() {
        let mut t = sample();
        t.columns
            .push(Column::new("short", ColumnData::Int64(vec![Some(1)])));
        assert!(export_whole(&CsvExporter, &t, Box::new(Shared::default())).is_err());
    }
}
