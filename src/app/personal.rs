//! Columns of personal data among the segment columns of an export: told
//! from the first rows (e-mail addresses, phone numbers, IBANs or cards,
//! person names, free text), they are no automatic segments unless named by
//! `--segment-column`, and their values are masked in the tables; the run
//! says which and why.

use crate::input::{InputError, Record, Response, ResponseStream};
use crate::output::manifest::LeftOutColumn;
use crate::text::redact::{column_kind, PersonalColumn, Redactor};

/// Responses read to tell which columns hold personal data.
pub const PROFILE_ROWS: usize = 1000;

/// The first records of `stream`, up to `responses` responses (or the end,
/// or the first error, which ends the stream); the pass reads them again.
pub fn read_head(stream: &mut ResponseStream, responses: usize) -> Vec<Result<Record, InputError>> {
    let mut head = Vec::new();
    let mut n = 0;
    while n < responses {
        match stream.next() {
            None => break,
            Some(Err(e)) => {
                head.push(Err(e));
                break;
            }
            Some(Ok(r)) => {
                n += usize::from(matches!(r, Record::Response(_)));
                head.push(Ok(r));
            }
        }
    }
    head
}

/// The segment columns (not the date column) whose values in `head` look
/// like personal data, with what they hold. Team columns (named by
/// `--team-column`, or named like one) may hold names: employees'.
pub fn personal_columns(
    head: &[Result<Record, InputError>],
    segment_columns: &[String],
    date_column: Option<usize>,
    team_flags: &[String],
) -> Vec<(usize, PersonalColumn)> {
    let redactor = Redactor::new();
    let responses: Vec<&Response> = head
        .iter()
        .filter_map(|r| match r {
            Ok(Record::Response(r)) => Some(r),
            _ => None,
        })
        .collect();
    (0..segment_columns.len())
        .filter(|&c| Some(c) != date_column)
        .filter_map(|c| {
            let name = &segment_columns[c];
            let team =
                team_flags.contains(name) || crate::stats::driver_stats::is_team_column(name);
            let values: Vec<&str> = responses
                .iter()
                .map(|r| r.segments.get(c).map_or("", String::as_str))
                .collect();
            column_kind(&redactor, name, &values, team).map(|k| (c, k))
        })
        .collect()
}

/// The manifest's `left_out_columns`: the columns of personal data that are
/// no segment, and, when segments were chosen automatically, those dropped
/// for too many distinct values.
pub fn left_out_columns(
    segment_columns: &[String],
    date_column: Option<usize>,
    personal: &[(usize, PersonalColumn)],
    aggregated: &[String],
    named: &[usize],
    masked: bool,
) -> Vec<LeftOutColumn> {
    let mut out: Vec<LeftOutColumn> = personal
        .iter()
        .map(|(c, k)| LeftOutColumn {
            column: segment_columns[*c].clone(),
            reason: k.reason().to_string(),
            masked,
        })
        .collect();
    if named.is_empty() {
        for (c, name) in segment_columns.iter().enumerate() {
            if Some(c) != date_column
                && !personal.iter().any(|p| p.0 == c)
                && !aggregated.contains(name)
            {
                out.push(LeftOutColumn {
                    column: name.clone(),
                    reason: "more than 100 distinct values".to_string(),
                    masked: false,
                });
            }
        }
    }
    out
}
