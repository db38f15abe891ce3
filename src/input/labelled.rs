//! One reader for labelled CSV files (`verbatim train`, `verbatim eval`, the
//! labelled comments that ship): a text column and a label column found by
//! name, rows kept by `--where COLUMN=VALUE` filters. Errors name the file,
//! the line, the column and the flag that named it; what a label means
//! (a polarity, topic ids) is the caller's to read.

use std::io::Read;

use anyhow::{Context, Result};

/// Which columns to read, and which rows.
#[derive(Clone, Copy, Debug)]
pub struct LabelledSpec<'a> {
    pub text_column: &'a str,
    pub label_column: &'a str,
    pub delimiter: u8,
    /// `COLUMN=VALUE`: only rows whose COLUMN equals VALUE are kept.
    pub filters: &'a [String],
}

impl<'a> LabelledSpec<'a> {
    /// Comma-separated, no filters.
    pub fn csv(text_column: &'a str, label_column: &'a str) -> Self {
        LabelledSpec {
            text_column,
            label_column,
            delimiter: b',',
            filters: &[],
        }
    }
}

/// One row: its line in the file, its text and its label cell, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledRow {
    pub line: u64,
    pub text: String,
    pub label: String,
}

/// The rows kept, and how many the filters left out.
#[derive(Clone, Debug, Default)]
pub struct LabelledRows {
    pub rows: Vec<LabelledRow>,
    pub filtered: usize,
}

/// The position of column `name` in the header of a labelled CSV; the error
/// names the file, the flag that gave the name and the columns there are.
pub fn header_index(
    headers: &csv::StringRecord,
    file: &str,
    name: &str,
    flag: &str,
) -> Result<usize> {
    headers
        .iter()
        .position(|h| h.trim() == name)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{file}: no column `{}` ({flag}); the columns are: {}",
                super::escape_name(name),
                super::escape_name(&headers.iter().collect::<Vec<_>>().join(", "))
            )
        })
}

/// Reads the labelled rows of `reader` (the file `file`, for messages).
pub fn read_labelled(reader: impl Read, file: &str, spec: &LabelledSpec) -> Result<LabelledRows> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(spec.delimiter)
        .from_reader(reader);
    let headers = rdr
        .headers()
        .with_context(|| format!("{file}: reading the header"))?
        .clone();
    let find = |name: &str, flag: &str| header_index(&headers, file, name, flag);
    let ti = find(spec.text_column, "--text-column")?;
    let li = find(spec.label_column, "--label-column")?;
    let mut filters = Vec::new();
    for f in spec.filters {
        let (c, v) = f
            .split_once('=')
            .with_context(|| format!("--where `{f}`: expected COLUMN=VALUE"))?;
        filters.push((find(c, "--where")?, v.to_string()));
    }
    let mut out = LabelledRows::default();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("{file}: reading a row"))?;
        if filters.iter().any(|(c, v)| rec.get(*c) != Some(v.as_str())) {
            out.filtered += 1;
            continue;
        }
        out.rows.push(LabelledRow {
            line: rec.position().map_or(0, |p| p.line()),
            text: rec.get(ti).unwrap_or("").to_string(),
            label: rec.get(li).unwrap_or("").to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_lines_and_filters() {
        let text =
            "id,text,label,split\n1,good,pos,test\n2,\"two\nlines\",neg,train\n3,bad,neg,test\n";
        let filters = ["split=test".to_string()];
        let spec = LabelledSpec {
            filters: &filters,
            ..LabelledSpec::csv("text", "label")
        };
        let r = read_labelled(text.as_bytes(), "f.csv", &spec).unwrap();
        assert_eq!(r.filtered, 1);
        let got: Vec<(u64, &str, &str)> = r
            .rows
            .iter()
            .map(|r| (r.line, r.text.as_str(), r.label.as_str()))
            .collect();
        assert_eq!(got, [(2, "good", "pos"), (5, "bad", "neg")]);
    }

    #[test]
    fn errors_name_the_file_the_flag_and_the_columns() {
        let e = read_labelled(
            "a,b\n1,2\n".as_bytes(),
            "f.csv",
            &LabelledSpec::csv("text", "b"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.csv") && e.contains("--text-column") && e.contains("a, b"),
            "{e}"
        );
        let filters = ["nosuch".to_string()];
        let spec = LabelledSpec {
            filters: &filters,
            ..LabelledSpec::csv("a", "b")
        };
        let e = read_labelled("a,b\n1,2\n".as_bytes(), "f.csv", &spec)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--where `nosuch`"), "{e}");
    }
}
