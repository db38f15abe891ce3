//! The response date column: found by name, parsed to UTC.
//!
//! Exports name it in many ways ("RecordedDate", "responded_at", "Datum",
//! "fecha") and write it in many formats; a value that is not understood is
//! left empty rather than guessed (05/06/2026 is May in one country and June
//! in the next), and the run's manifest counts such values.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Normalised names (lower case, letters and digits only) taken as the date.
const DATE_NAMES: &[&str] = &[
    "respondedat",
    "responsedate",
    "date",
    "datetime",
    "timestamp",
    "recordeddate",
    "enddate",
    "submittedat",
    "submitted",
    "completedat",
    "completed",
    "createdat",
    "created",
    "surveydate",
    "interviewdate",
    "datum",
    "antwortdatum",
    "datumantwoord",
    "fecha",
    "dateréponse",
];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Index of the date column among `columns`: the one named by `flag`, else
/// the first whose name is a known date name (`date`, `responded_at`,
/// `RecordedDate`, `Datum`, `fecha`…, in that order of preference).
pub fn find_date_column(columns: &[String], flag: Option<&str>) -> Result<Option<usize>, String> {
    if let Some(name) = flag {
        return columns
            .iter()
            .position(|c| c == name)
            .or_else(|| columns.iter().position(|c| normalise(c) == normalise(name)))
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "--date-column `{}` not found; the other columns are: {}",
                    crate::input::escape_name(name),
                    crate::input::escape_name(&columns.join(", "))
                )
            });
    }
    Ok(DATE_NAMES
        .iter()
        .find_map(|n| columns.iter().position(|c| normalise(c) == *n)))
}

/// A response time: the instant when the value has a time, and its UTC date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct When {
    pub at: Option<DateTime<Utc>>,
    pub date: Option<chrono::NaiveDate>,
}

/// Parses a date or date-time. RFC 3339 values are converted to UTC; a
/// date-time without offset is taken as UTC; other date formats are those of
/// [`crate::aggregate::parse_date`].
pub fn parse_when(s: &str) -> When {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        let at = t.with_timezone(&Utc);
        return When {
            at: Some(at),
            date: Some(at.date_naive()),
        };
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            let at = t.and_utc();
            return When {
                at: Some(at),
                date: Some(at.date_naive()),
            };
        }
    }
    When {
        at: None,
        date: crate::aggregate::parse_date(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_date_columns_by_name_or_flag() {
        let cols: Vec<String> = ["Channel", "RecordedDate", "Queue"]
            .map(String::from)
            .to_vec();
        assert_eq!(find_date_column(&cols, None), Ok(Some(1)));
        assert_eq!(find_date_column(&cols, Some("Queue")), Ok(Some(2)));
        assert!(find_date_column(&cols, Some("When"))
            .unwrap_err()
            .contains("--date-column"));
        assert_eq!(find_date_column(&["x".to_string()], None), Ok(None));
    }

    #[test]
    fn parses_instants_to_utc() {
        let w = parse_when("2026-09-01T23:30:00+02:00");
        assert_eq!(w.at.unwrap().to_rfc3339(), "2026-09-01T21:30:00+00:00");
        assert_eq!(w.date.unwrap().to_string(), "2026-09-01");
        let w = parse_when("2026-09-01 07:44");
        assert_eq!(w.date.unwrap().to_string(), "2026-09-01");
        assert_eq!(parse_when("next tuesday"), When::default());
    }
}
