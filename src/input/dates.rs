//! The response date column: found by name, parsed to UTC.
//!
//! Exports name it in many ways ("RecordedDate", "responded_at", "Datum",
//! "fecha") and write it in many formats; a value that is not understood is
//! left empty rather than guessed (05/06/2026 is May in one country and June
//! in the next), and the run's manifest counts such values.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

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
                    super::escape_name(name),
                    super::escape_name(&columns.join(", "))
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
/// [`parse_date`].
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
        date: parse_date(s),
    }
}

/// Reads the date of a survey response, or `None` if `s` is not one of the
/// accepted forms (surrounding whitespace is ignored):
///
/// * RFC 3339 / ISO 8601 date-times, `2026-11-23T14:05:00Z`,
///   `2026-11-23T14:05:00.123+01:00`, `…+0100`, `…+01`; `T`, `t` or a space
///   between date and time, seconds and fraction optional, one space allowed
///   before the offset. With `Z` or an offset the instant is converted to UTC
///   and its UTC date returned (`2026-11-23T00:30:00+01:00` is 2026-11-22).
///   Without an offset the written date is taken as is.
/// * `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` and `YYYY-MM-DD HH:MM:SS`.
/// * Day first: `DD.MM.YYYY` (German), `DD-MM-YYYY` (Dutch), `DD/MM/YYYY`;
///   day and month may have one or two digits, the year must have four.
///
/// `MM/DD/YYYY` (US) is **not** guessed: every slash date is read day first,
/// so `11/23/2026` is rejected (no month 23) and `03/04/2026` is 3 April.
/// Guessing per row would silently mix both readings in one export; a US
/// export should be converted before it reaches us. Two-digit years are
/// rejected for the same reason.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    // Every accepted form is ASCII; this also makes byte indexing safe.
    if !s.is_ascii() {
        return None;
    }
    parse_iso(s).or_else(|| parse_day_first(s))
}

/// A cursor over the bytes of an ASCII string, for the strict parsers below.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            b: s.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn done(&self) -> bool {
        self.i >= self.b.len()
    }

    /// Consumes `c` if it comes next.
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Reads `min..=max` decimal digits (as many as there are, up to `max`).
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut value = 0u32;
        let mut count = 0;
        while count < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    value = value * 10 + u32::from(c - b'0');
                    self.i += 1;
                    count += 1;
                }
                _ => break,
            }
        }
        (count >= min).then_some(value)
    }
}

/// `YYYY-MM-DD`, optionally followed by a time and an offset.
fn parse_iso(s: &str) -> Option<NaiveDate> {
    let mut c = Cursor::new(s);
    let year = c.number(4, 4)?;
    c.eat(b'-').then_some(())?;
    let month = c.number(2, 2)?;
    c.eat(b'-').then_some(())?;
    let day = c.number(2, 2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    if c.done() {
        return Some(date);
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let hour = c.number(2, 2)?;
    c.eat(b':').then_some(())?;
    let minute = c.number(2, 2)?;
    let mut second = 0;
    if c.eat(b':') {
        second = c.number(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            c.number(1, usize::MAX)?;
        }
    }
    // RFC 3339 allows a leap second (:60); it never changes the date.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let time = NaiveTime::from_hms_opt(hour, minute, second.min(59))?;
    if c.done() {
        return Some(date);
    }
    // Ruby-style "2026-11-23 10:00:00 +0100" puts a space before the offset.
    c.eat(b' ');
    let offset_minutes: i64 = if c.eat(b'Z') || c.eat(b'z') {
        0
    } else {
        let sign = if c.eat(b'+') {
            1
        } else if c.eat(b'-') {
            -1
        } else {
            return None;
        };
        let oh = c.number(2, 2)?;
        let om = if c.eat(b':') {
            c.number(2, 2)?
        } else if c.done() {
            0
        } else {
            c.number(2, 2)?
        };
        if oh > 23 || om > 59 {
            return None;
        }
        sign * i64::from(oh * 60 + om)
    };
    if !c.done() {
        return None;
    }
    // local = UTC + offset, so UTC = local − offset.
    let utc = NaiveDateTime::new(date, time)
        .checked_sub_signed(TimeDelta::try_minutes(offset_minutes)?)?;
    Some(utc.date())
}

/// `D[D]<sep>M[M]<sep>YYYY` with `sep` one of `.`, `-`, `/`, used twice.
fn parse_day_first(s: &str) -> Option<NaiveDate> {
    let mut c = Cursor::new(s);
    let day = c.number(1, 2)?;
    let sep = c.peek().filter(|b| matches!(b, b'.' | b'-' | b'/'))?;
    c.eat(sep);
    let month = c.number(1, 2)?;
    c.eat(sep).then_some(())?;
    let year = c.number(4, 4)?;
    if !c.done() {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

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

    #[test]
    fn accepted_date_formats() {
        let nov23 = Some(date(2026, 11, 23));
        let cases = [
            // RFC 3339 / ISO 8601 with Z or offset: UTC date.
            ("2026-11-23T14:05:00Z", nov23),
            ("2026-11-23t14:05:00z", nov23),
            ("2026-11-23T14:05:00.123456Z", nov23),
            ("2026-11-23T14:05:00,5+01:00", nov23),
            ("2026-11-23T14:05Z", nov23),
            ("2026-11-23T00:30:00+01:00", Some(date(2026, 11, 22))),
            ("2026-11-23T23:30:00-02:00", Some(date(2026, 11, 24))),
            ("2026-11-23T23:30:00-0200", Some(date(2026, 11, 24))),
            ("2026-11-23T00:30:00+01", Some(date(2026, 11, 22))),
            ("2026-11-23 10:00:00 +0100", nov23),
            ("2026-12-31T23:59:60Z", Some(date(2026, 12, 31))),
            ("2027-01-01T00:30:00+01:00", Some(date(2026, 12, 31))),
            // Without an offset the written date stands.
            ("2026-11-23T23:30:00", nov23),
            // Plain dates and date-times.
            ("2026-11-23", nov23),
            ("  2026-11-23\t", nov23),
            ("2026-11-23 14:05", nov23),
            ("2026-11-23 14:05:59", nov23),
            // Day first.
            ("23.11.2026", nov23),
            ("23-11-2026", nov23),
            ("23/11/2026", nov23),
            ("3.4.2026", Some(date(2026, 4, 3))),
            ("03/04/2026", Some(date(2026, 4, 3))),
            ("29.02.2028", Some(date(2028, 2, 29))),
        ];
        for (s, want) in cases {
            assert_eq!(parse_date(s), want, "{s:?}");
        }
    }

    #[test]
    fn rejected_date_formats() {
        let rejected = [
            "11/23/2026", // US month first: never guessed
            "",
            "   ",
            "2026-13-01",
            "2026-02-29",
            "31.02.2026",
            "23.11.26",
            "23.11-2026",
            "23.11.2026 14:05",
            "2026-11-23T",
            "2026-11-23T24:00:00Z",
            "2026-11-23T14:60Z",
            "2026-11-23T14:05:00+24:00",
            "2026-11-23T14:05:00+01:0",
            "2026-11-23T14:05:00Zjunk",
            "2026-11-23T14:05:00.Z",
            "2026-1-23",
            "20261123",
            "2026/11/23",
            "23.11.20261",
            "Nov 23, 2026",
            "２０２６-11-23",
            "yesterday",
        ];
        for s in rejected {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn parse_date_never_panics() {
        // Property test without a framework: a fixed linear congruential
        // generator over the characters the parsers look at.
        let alphabet: Vec<char> = "0123456789-./:TtZz+, é".chars().collect();
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let len = (state >> 59) as usize + 1;
            let mut s = String::new();
            for _ in 0..len {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                s.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            if let Some(d) = parse_date(&s) {
                // Whatever parses lies in a four-digit year, give or take a day.
                assert!((-1..=10_000).contains(&d.year()), "{s:?} → {d}");
            }
        }
    }
}
