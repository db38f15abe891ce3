//! The response date column: found by name (or, failing that, by content),
//! its format decided from its values, parsed to UTC.
//!
//! Exports name the column in many ways ("RecordedDate", "responded_at",
//! "CUSTOMER_RESPONSE_DATE", "Datum", "fecha") and write it in many formats.
//! The format is decided once for the whole column, never per value: in
//! `05/06/2026` the 5 is a day in one country and a month in the next, and a
//! guess per row would silently mix both readings in one export. A value
//! over 12 in the first or second place settles the order (`13/04/2018` is
//! day first, `04/13/2018` month first); a slash or dash column where
//! nothing settles it is an error that asks for `--date-format`. Dotted
//! dates (`12.04.2018`) are day first, as everywhere they are written.
//! A value that the decided format does not read is counted, and the run
//! says so (stderr, the manifest's `unparsed_dates`); it is never guessed.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

/// Normalised names (lower case, letters and digits only) taken as the date
/// whatever their values, in this order of preference.
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
    "datereponse",
];

/// Words that make a column a date column by name when its snake-case name
/// starts with one of `FIRST_WORDS` or ends with one of `LAST_WORDS`
/// (`date_of_visit`, `CUSTOMER_RESPONSE_DATE`, `closed_at`, `Eingangsdatum`),
/// provided at least half of its first values read as dates: a
/// `handle_time` of seconds is no date. Plain numbers count as dates there
/// only under a name of [`NUMBER_WORDS`].
const FIRST_WORDS: &[&str] = &["date", "datum", "time", "timestamp", "datetime", "fecha"];
const LAST_WORDS: &[&str] = &[
    "date",
    "datum",
    "time",
    "timestamp",
    "datetime",
    "fecha",
    "at",
    "on",
    "created",
];

/// Words of a snake-case name under which plain numbers (Excel serials, Unix
/// seconds or milliseconds) may be dates: `created_at`, `SURVEY_TIMESTAMP`,
/// `Eingangsdatum` (any word ending in `datum`), or a last word `at`. A bare
/// `time` is not one: `HANDLE_TIME` or `wait_time` of 20,000–80,000
/// milliseconds would read as Excel serials of 1954–2119, and thousands of
/// seconds as Unix times.
const NUMBER_WORDS: &[&str] = &["date", "datetime", "timestamp", "datum", "fecha", "created"];

/// Share of a column's first non-empty values that must read as dates for
/// the column to be taken by content (no date-like name).
pub const CONTENT_SHARE: f64 = 0.95;

fn normalise(name: &str) -> String {
    super::names::snake(name)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// How the date column was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// `--date-column` (or the config file's `date_column`).
    Flag,
    /// A known date name (`date`, `RecordedDate`, `Datum`…).
    Name,
    /// A name that starts or ends with a date word, and values that read
    /// as dates.
    NameLike,
    /// At least [`CONTENT_SHARE`] of its first values read as dates.
    Content,
}

impl FoundBy {
    pub fn as_str(self) -> &'static str {
        match self {
            FoundBy::Flag => "flag",
            FoundBy::Name => "name",
            FoundBy::NameLike => "name_like",
            FoundBy::Content => "content",
        }
    }
}

/// Index of the date column among `columns`, and how it was found: the one
/// named by `flag`; else the first with a known date name (`date`,
/// `responded_at`, `RecordedDate`, `Datum`, `fecha`…, in that order of
/// preference); else the first whose snake-case name starts or ends with a
/// date word (`CUSTOMER_RESPONSE_DATE`, `closed_at`) and of whose values in
/// `rows` (the first responses' segment values) at least half read as
/// dates (plain numbers only under a name of `NUMBER_WORDS`: a
/// `HANDLE_TIME` of milliseconds is no date); else the first of whose
/// values at least [`CONTENT_SHARE`] read as dates (three at least; plain
/// numbers do not count).
pub fn find_date_column(
    columns: &[String],
    flag: Option<&str>,
    rows: &[&[String]],
) -> Result<Option<(usize, FoundBy)>, String> {
    if let Some(name) = flag {
        return columns
            .iter()
            .position(|c| c == name)
            .or_else(|| columns.iter().position(|c| normalise(c) == normalise(name)))
            .map(|c| Some((c, FoundBy::Flag)))
            .ok_or_else(|| {
                format!(
                    "--date-column `{}` not found; the other columns are: {}",
                    super::escape_name(name),
                    super::escape_name(&columns.join(", "))
                )
            });
    }
    if let Some(c) = DATE_NAMES
        .iter()
        .find_map(|n| columns.iter().position(|c| normalise(c) == *n))
    {
        return Ok(Some((c, FoundBy::Name)));
    }
    // A column's values are read once, when a rule first asks, for both
    // rules' shares.
    let mut sniffed: Vec<Option<Option<Shares>>> = vec![None; columns.len()];
    let mut shares = |c: usize| *sniffed[c].get_or_insert_with(|| Shares::of(rows, c));
    if let Some(c) = (0..columns.len()).find(|&c| {
        name_like(&columns[c])
            && shares(c).is_some_and(|s| {
                let share = if numbers_may_be_dates(&columns[c]) {
                    s.with_numbers
                } else {
                    s.without_numbers
                };
                share >= 0.5
            })
    }) {
        return Ok(Some((c, FoundBy::NameLike)));
    }
    Ok((0..columns.len())
        .find(|&c| shares(c).is_some_and(|s| s.without_numbers >= CONTENT_SHARE))
        .map(|c| (c, FoundBy::Content)))
}

/// The shares of a column's first values that read as dates, from one
/// [`DateSniffer`] pass: with plain numbers counted (when their range fits
/// Excel serials or Unix times) for the name rule, and without for the
/// content rule.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shares {
    with_numbers: f64,
    without_numbers: f64,
}

impl Shares {
    /// Column `c` of `rows`; `None` below three non-empty values.
    fn of(rows: &[&[String]], c: usize) -> Option<Shares> {
        let mut s = DateSniffer::default();
        for (line, row) in rows.iter().enumerate() {
            s.see(line as u64, row.get(c).map_or("", String::as_str));
        }
        Some(Shares {
            with_numbers: s.readable_share(true)?,
            without_numbers: s.readable_share(false)?,
        })
    }
}

/// The words of `name` in snake case (`CUSTOMER_RESPONSE_DATE` → customer,
/// response, date).
fn words(name: &str) -> Vec<String> {
    super::names::snake(name)
        .split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `name` starts with a date word of `FIRST_WORDS` or ends with one
/// of `LAST_WORDS` (or is one word ending in `datum`).
fn name_like(name: &str) -> bool {
    let words = words(name);
    let first = |w: &String| FIRST_WORDS.contains(&w.as_str());
    let last = |w: &String| LAST_WORDS.contains(&w.as_str()) || w.ends_with("datum");
    words.len() > 1 && (words.first().is_some_and(first) || words.last().is_some_and(last))
        || words.len() == 1 && words[0].ends_with("datum")
}

/// Whether plain numbers in a column named `name` may be dates: a word of
/// [`NUMBER_WORDS`] (or one ending in `datum`) anywhere, or `at` last.
fn numbers_may_be_dates(name: &str) -> bool {
    let words = words(name);
    words
        .iter()
        .any(|w| NUMBER_WORDS.contains(&w.as_str()) || w.ends_with("datum"))
        || words.last().is_some_and(|w| w == "at")
}

/// How the values of the date column are read, decided once per run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// ISO 8601 and RFC 3339 values, dates with month names, and numeric
    /// dates day first (`13/04/2018`, `13.04.18 20:09`).
    #[default]
    DayFirst,
    /// The same, numeric dates month first (`04/13/2018 8:09 PM`).
    MonthFirst,
    /// Excel serial day numbers (1900 date system; a fraction is the time
    /// of day): 43201.84 is 2018-04-11 20:09.
    Excel,
    /// Seconds since 1970-01-01 UTC.
    UnixSeconds,
    /// Milliseconds since 1970-01-01 UTC.
    UnixMillis,
    /// A strftime pattern of chrono (`%d/%m/%Y %H:%M`), with or without a
    /// time and an offset (`%z`).
    Pattern(String),
}

impl DateFormat {
    /// Reads `--date-format`: `dmy`, `mdy`, `excel`, `unix`, `unix-ms`, or a
    /// pattern with `%` fields.
    pub fn from_flag(s: &str) -> Result<DateFormat, String> {
        let f = match s.trim().to_ascii_lowercase().as_str() {
            "dmy" | "day-first" => DateFormat::DayFirst,
            "mdy" | "month-first" => DateFormat::MonthFirst,
            "excel" => DateFormat::Excel,
            "unix" | "unix-s" | "epoch" => DateFormat::UnixSeconds,
            "unix-ms" => DateFormat::UnixMillis,
            _ if s.contains('%') => {
                let bad = chrono::format::StrftimeItems::new(s)
                    .any(|i| matches!(i, chrono::format::Item::Error));
                if bad {
                    return Err(format!(
                        "--date-format `{s}`: not a valid strftime pattern (for example `%d/%m/%Y %H:%M`)"
                    ));
                }
                DateFormat::Pattern(s.to_string())
            }
            _ => {
                return Err(format!(
                    "--date-format `{s}`: expected dmy, mdy, excel, unix, unix-ms or a strftime pattern such as `%d/%m/%Y %H:%M`"
                ))
            }
        };
        Ok(f)
    }

    /// The name the manifest records (what `--date-format` takes).
    pub fn name(&self) -> String {
        match self {
            DateFormat::DayFirst => "dmy".into(),
            DateFormat::MonthFirst => "mdy".into(),
            DateFormat::Excel => "excel".into(),
            DateFormat::UnixSeconds => "unix".into(),
            DateFormat::UnixMillis => "unix-ms".into(),
            DateFormat::Pattern(p) => p.clone(),
        }
    }

    /// Reads one value; [`When::default`] when it is empty or not read.
    pub fn read(&self, s: &str) -> When {
        let s = s.trim();
        if s.is_empty() {
            return When::default();
        }
        match self {
            DateFormat::DayFirst => read_text(s, Order::DayFirst),
            DateFormat::MonthFirst => read_text(s, Order::MonthFirst),
            DateFormat::Excel => read_excel(s),
            DateFormat::UnixSeconds => read_unix(s, 1.0),
            DateFormat::UnixMillis => read_unix(s, 1000.0),
            DateFormat::Pattern(p) => read_pattern(s, p),
        }
    }
}

/// A response time: the instant when the value has a time, and its UTC date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct When {
    pub at: Option<DateTime<Utc>>,
    pub date: Option<chrono::NaiveDate>,
}

impl When {
    fn date(date: NaiveDate) -> When {
        When {
            at: None,
            date: Some(date),
        }
    }

    fn at(at: DateTime<Utc>) -> When {
        When {
            at: Some(at),
            date: Some(at.date_naive()),
        }
    }

    fn local(date: NaiveDate, time: Option<NaiveTime>) -> When {
        match time {
            Some(t) => When::at(NaiveDateTime::new(date, t).and_utc()),
            None => When::date(date),
        }
    }
}

/// Which of the first two numbers of a numeric date is the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    DayFirst,
    MonthFirst,
}

/// A value in one of the forms whose reading does not depend on the order:
/// RFC 3339 and ISO 8601 (`2026-11-23T14:05:00+01:00`, `2026-11-23 14:05`),
/// year first with slashes (`2026/11/23`), month names (`13 Apr 2018`,
/// `Apr 13, 2018`, `13-APR-18`).
fn read_order_free(s: &str) -> Option<When> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(When::at(t.with_timezone(&Utc)));
    }
    // chrono's `%Y` takes any number of digits: `13/04/18` is no year 13.
    let b = s.as_bytes();
    let year_first =
        b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'-' | b'/');
    if !year_first {
        return read_month_name(s);
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(When::at(t.and_utc()));
        }
    }
    if !s.is_ascii() {
        return None;
    }
    if let Some(d) = parse_iso(s) {
        return Some(When::date(d));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y/%m/%d") {
        return Some(When::date(d));
    }
    read_month_name(s)
}

/// Dates with English month names, with an optional `HH:MM[:SS]` time.
fn read_month_name(s: &str) -> Option<When> {
    // Cheap refusals first: the column sniffing calls this on every value of
    // free-text columns too.
    if s.len() > 32
        || !s.bytes().any(|b| b.is_ascii_alphabetic())
        || !s.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    const DATES: &[&str] = &[
        "%d %b %Y",
        "%d %B %Y",
        "%b %d, %Y",
        "%B %d, %Y",
        "%b %d %Y",
        "%B %d %Y",
        "%d-%b-%Y",
        "%d-%b-%y",
        "%d %b, %Y",
    ];
    // chrono's `%Y` takes any number of digits: `13 Apr 18` is no year 18.
    let four_digits = |y: i32| y >= 1000;
    for fmt in DATES {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            if four_digits(d.year()) {
                return Some(When::date(d));
            }
        }
        for time in [" %H:%M:%S", " %H:%M"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, &format!("{fmt}{time}")) {
                if four_digits(t.year()) {
                    return Some(When::at(t.and_utc()));
                }
            }
        }
    }
    None
}

/// `A<sep>B<sep>Y`: the two leading numbers and the year of a numeric date
/// (a two-digit year is 1969–2068, as POSIX reads `%y`), with its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Numeric {
    a: u32,
    b: u32,
    year: i32,
    sep: u8,
    time: Option<NaiveTime>,
}

impl Numeric {
    fn parse(s: &str) -> Option<Numeric> {
        if !s.is_ascii() {
            return None;
        }
        let mut c = Cursor::new(s);
        let a = c.number(1, 2)?;
        let sep = c.peek().filter(|b| matches!(b, b'.' | b'-' | b'/'))?;
        c.eat(sep);
        let b = c.number(1, 2)?;
        c.eat(sep).then_some(())?;
        let start = c.i;
        let y = c.number(2, 4)?;
        let year = match c.i - start {
            4 => i32::try_from(y).ok()?,
            2 if y < 69 => 2000 + y as i32,
            2 => 1900 + y as i32,
            _ => return None,
        };
        // German dates may end in a dot after the year: `12.04.2018.` no;
        // a time may follow after a space or `T` (or `, `).
        let time = if c.done() {
            None
        } else {
            let _ = c.eat(b',');
            if !(c.eat(b' ') || c.eat(b'T')) {
                return None;
            }
            while c.eat(b' ') {}
            Some(clock(&mut c)?)
        };
        Some(Numeric {
            a,
            b,
            year,
            sep,
            time,
        })
    }

    fn date(&self, order: Order) -> Option<NaiveDate> {
        let (day, month) = match order {
            Order::DayFirst => (self.a, self.b),
            Order::MonthFirst => (self.b, self.a),
        };
        NaiveDate::from_ymd_opt(self.year, month, day)
    }
}

/// `H[H]:MM[:SS[.fff]]` and an optional `AM`/`PM` (`8:05 PM`), to the end of
/// the value.
fn clock(c: &mut Cursor<'_>) -> Option<NaiveTime> {
    let mut hour = c.number(1, 2)?;
    c.eat(b':').then_some(())?;
    let minute = c.number(2, 2)?;
    let mut second = 0;
    if c.eat(b':') {
        second = c.number(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            c.number(1, usize::MAX)?;
        }
    }
    while c.eat(b' ') {}
    let rest = std::str::from_utf8(&c.b[c.i..]).ok()?.to_ascii_lowercase();
    match rest.as_str() {
        "" => {}
        "am" | "a.m." if (1..=12).contains(&hour) => hour %= 12,
        "pm" | "p.m." if (1..=12).contains(&hour) => hour = hour % 12 + 12,
        _ => return None,
    }
    NaiveTime::from_hms_opt(hour, minute, second.min(59))
}

fn read_text(s: &str, order: Order) -> When {
    if let Some(w) = read_order_free(s) {
        return w;
    }
    Numeric::parse(s)
        .and_then(|n| Some(When::local(n.date(order)?, n.time)))
        .unwrap_or_default()
}

/// Excel's day 0 of the 1900 date system, as every serial from 61 (1 March
/// 1900) on counts it (Excel's phantom 29 February 1900 comes before).
fn excel_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1899, 12, 30)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn read_excel(s: &str) -> When {
    let Ok(v) = s.parse::<f64>() else {
        return When::default();
    };
    if !(61.0..2_958_466.0).contains(&v) {
        return When::default();
    }
    let ms = (v * 86_400_000.0).round() as i64;
    let Some(t) = excel_epoch().checked_add_signed(TimeDelta::milliseconds(ms)) else {
        return When::default();
    };
    if v.fract() == 0.0 {
        When::date(t.date())
    } else {
        When::at(t.and_utc())
    }
}

fn read_unix(s: &str, per_second: f64) -> When {
    let Ok(v) = s.parse::<f64>() else {
        return When::default();
    };
    let ms = v / per_second * 1000.0;
    if !ms.is_finite() || ms.abs() > 1e16 {
        return When::default();
    }
    DateTime::from_timestamp_millis(ms.round() as i64).map_or_else(When::default, When::at)
}

fn read_pattern(s: &str, p: &str) -> When {
    if let Ok(t) = DateTime::parse_from_str(s, p) {
        return When::at(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, p) {
        return When::at(t.and_utc());
    }
    NaiveDate::parse_from_str(s, p).map_or_else(|_| When::default(), When::date)
}

/// An example value of the date column and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub line: u64,
    pub value: String,
}

impl Example {
    /// `value` (its first 40 characters) on `line`.
    pub fn new(line: u64, value: &str) -> Example {
        Example {
            line,
            value: value.chars().take(40).collect(),
        }
    }
}

impl std::fmt::Display for Example {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` (line {})", self.value, self.line)
    }
}

/// Reads a column's values to decide its [`DateFormat`].
#[derive(Debug, Default, Clone)]
pub struct DateSniffer {
    /// Non-empty values.
    values: u64,
    /// Values read without an order (ISO, month names).
    order_free: u64,
    /// Numeric dates valid in at least one order.
    numeric_dates: u64,
    /// Plain numbers, and their range.
    numbers: u64,
    min: f64,
    max: f64,
    /// The first value only day first reads (a day over 12 first).
    day_first: Option<Example>,
    /// The first value only month first reads.
    month_first: Option<Example>,
    /// The first slash or dash date both orders read differently.
    ambiguous: Option<Example>,
}

impl DateSniffer {
    /// Looks at one value, on `line` of the input.
    pub fn see(&mut self, line: u64, value: &str) {
        let v = value.trim();
        if v.is_empty() {
            return;
        }
        self.values += 1;
        if read_order_free(v).is_some() {
            self.order_free += 1;
            return;
        }
        if let Some(n) = Numeric::parse(v) {
            let dmy = n.date(Order::DayFirst).is_some();
            let mdy = n.date(Order::MonthFirst).is_some();
            if dmy || mdy {
                self.numeric_dates += 1;
            }
            if dmy && !mdy {
                self.day_first.get_or_insert_with(|| Example::new(line, v));
            } else if mdy && !dmy {
                self.month_first
                    .get_or_insert_with(|| Example::new(line, v));
            } else if dmy && mdy && n.a != n.b && n.sep != b'.' {
                self.ambiguous.get_or_insert_with(|| Example::new(line, v));
            }
            return;
        }
        if let Ok(x) = v.parse::<f64>() {
            if x.is_finite() {
                if self.numbers == 0 {
                    (self.min, self.max) = (x, x);
                }
                self.numbers += 1;
                self.min = self.min.min(x);
                self.max = self.max.max(x);
            }
        }
    }

    /// Share of the non-empty values that read as dates in some format
    /// (plain numbers only when `numbers`); `None` below three values.
    pub fn readable_share(&self, numbers: bool) -> Option<f64> {
        let numeric = if numbers && self.numeric_format().is_some() {
            self.numbers
        } else {
            0
        };
        (self.values >= 3)
            .then(|| (self.order_free + self.numeric_dates + numeric) as f64 / self.values as f64)
    }

    /// The format of a column of plain numbers, by their range: Excel
    /// serials of 1954–2119, Unix seconds of 1973–2286, or milliseconds.
    fn numeric_format(&self) -> Option<DateFormat> {
        if self.numbers == 0 || (self.numbers as f64) < 0.95 * self.values as f64 {
            return None;
        }
        let within = |lo: f64, hi: f64| lo <= self.min && self.max < hi;
        if within(20_000.0, 80_000.0) {
            Some(DateFormat::Excel)
        } else if within(1e8, 1e10) {
            Some(DateFormat::UnixSeconds)
        } else if within(1e11, 1e13) {
            Some(DateFormat::UnixMillis)
        } else {
            None
        }
    }

    /// The column's format, and how it was decided: `flag` when given, else
    /// from the values. `column` names the column in the error, which comes
    /// when day-first and month-first dates are mixed, or when nothing in a
    /// column of slash or dash dates settles the order.
    pub fn decide(
        &self,
        column: &str,
        flag: Option<&DateFormat>,
    ) -> Result<(DateFormat, &'static str), String> {
        if let Some(f) = flag {
            return Ok((f.clone(), "flag"));
        }
        if let Some(f) = self.numeric_format() {
            return Ok((f, "values"));
        }
        match (&self.day_first, &self.month_first, &self.ambiguous) {
            (Some(d), Some(m), _) => Err(format!(
                "date column `{}` mixes day-first dates such as {d} and month-first dates such as {m}; \
                 fix the export or give --date-format dmy or mdy (values the format does not read are counted and left empty)",
                super::escape_name(column)
            )),
            (Some(_), None, _) => Ok((DateFormat::DayFirst, "values")),
            (None, Some(_), _) => Ok((DateFormat::MonthFirst, "values")),
            (None, None, Some(a)) => Err(format!(
                "date column `{}`: dates such as {a} read as day first or as month first, and no value has a \
                 day above 12 to settle it; give --date-format dmy or mdy (a scheduled job should always give it: \
                 the first days of a month never settle it)",
                super::escape_name(column)
            )),
            (None, None, None) => Ok((DateFormat::DayFirst, "default")),
        }
    }

    /// True when a further value could change [`DateSniffer::decide`]'s
    /// answer from what the values seen so far give.
    pub fn unsettled(&self) -> bool {
        self.day_first.is_none() && self.month_first.is_none()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A value read with the default format ([`DateFormat::DayFirst`]).
    fn parse_when(s: &str) -> When {
        DateFormat::DayFirst.read(s)
    }

    fn parse_date(s: &str) -> Option<NaiveDate> {
        parse_when(s).date
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_date_columns_by_name_or_flag() {
        let c = cols(&["Channel", "RecordedDate", "Queue"]);
        assert_eq!(
            find_date_column(&c, None, &[]),
            Ok(Some((1, FoundBy::Name)))
        );
        assert_eq!(
            find_date_column(&c, Some("Queue"), &[]),
            Ok(Some((2, FoundBy::Flag)))
        );
        assert_eq!(
            find_date_column(&c, Some("queue"), &[]),
            Ok(Some((2, FoundBy::Flag)))
        );
        assert!(find_date_column(&c, Some("When"), &[])
            .unwrap_err()
            .contains("--date-column"));
        assert_eq!(find_date_column(&cols(&["x"]), None, &[]), Ok(None));
    }

    #[test]
    fn finds_date_columns_by_a_date_word_when_values_read() {
        let c = cols(&["HANDLE_TIME", "CHANNEL", "CUSTOMER_RESPONSE_DATE"]);
        let rows: Vec<Vec<String>> = [
            ["312", "phone", "11/04/2018 20:09"],
            ["95", "chat", "12/04/2018 08:10"],
            ["40", "phone", "13/04/2018 17:45"],
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
        let rows: Vec<&[String]> = rows.iter().map(Vec::as_slice).collect();
        // HANDLE_TIME ends in a date word, but its values are no dates.
        assert_eq!(
            find_date_column(&c, None, &rows),
            Ok(Some((2, FoundBy::NameLike)))
        );
        for name in ["closed_at", "date_of_visit", "Eingangsdatum", "createdOn"] {
            let c = cols(&["channel", name]);
            let rows: Vec<Vec<String>> = (1..=3)
                .map(|d| vec!["x".to_string(), format!("2026-01-0{d}")])
                .collect();
            let rows: Vec<&[String]> = rows.iter().map(Vec::as_slice).collect();
            assert_eq!(
                find_date_column(&c, None, &rows),
                Ok(Some((1, FoundBy::NameLike))),
                "{name}"
            );
        }
        // A name in which "date" is only part of a word is no date name.
        let c = cols(&["candidate", "when"]);
        let rows: Vec<Vec<String>> = (1..=20)
            .map(|d| vec![format!("2026-01-{d:02}"), format!("{d:02}.01.2026")])
            .collect();
        let mut rows: Vec<&[String]> = rows.iter().map(Vec::as_slice).collect();
        assert_eq!(
            find_date_column(&c, None, &rows),
            Ok(Some((0, FoundBy::Content)))
        );
        // By content: at least 95% of the values must read.
        let odd = vec!["not a date".to_string(), "nor this".to_string()];
        rows.push(&odd);
        rows.push(&odd);
        assert_eq!(find_date_column(&c, None, &rows), Ok(None));
        // Plain numbers never make a column a date column by content.
        let c = cols(&["amount"]);
        let nums: Vec<Vec<String>> = (0..10).map(|i| vec![format!("{}", 43_000 + i)]).collect();
        let rows: Vec<&[String]> = nums.iter().map(Vec::as_slice).collect();
        assert_eq!(find_date_column(&c, None, &rows), Ok(None));
    }

    #[test]
    fn plain_numbers_are_dates_only_under_a_date_name() {
        // 20,000–80,000: Excel serials of 1954–2119 by their range, and
        // milliseconds of a duration just as well.
        let values: Vec<Vec<String>> = [31_200, 45_000, 62_480, 75_001]
            .iter()
            .map(|v| vec![v.to_string()])
            .collect();
        let rows: Vec<&[String]> = values.iter().map(Vec::as_slice).collect();
        for name in ["HANDLE_TIME", "wait_time", "TimeOnHold", "time_to_answer"] {
            assert!(name_like(name), "{name} has a date word");
            assert!(!numbers_may_be_dates(name), "{name}");
            assert_eq!(
                find_date_column(&cols(&[name]), None, &rows),
                Ok(None),
                "{name}"
            );
        }
        for name in [
            "created_at",
            "closed_at",
            "SURVEY_TIMESTAMP",
            "submission_date",
            "date_of_visit",
            "Eingangsdatum",
            "createdOn",
            "fecha_respuesta",
        ] {
            assert!(numbers_may_be_dates(name), "{name}");
            // `created_at` is a date name itself; the others are date-like.
            let found = find_date_column(&cols(&[name]), None, &rows);
            assert!(
                matches!(found, Ok(Some((0, FoundBy::Name | FoundBy::NameLike)))),
                "{name}: {found:?}"
            );
        }
        // Dates written as dates still make a `…_time` column the date column.
        let iso: Vec<Vec<String>> = (1..=3).map(|d| vec![format!("2026-01-0{d}")]).collect();
        let rows: Vec<&[String]> = iso.iter().map(Vec::as_slice).collect();
        assert_eq!(
            find_date_column(&cols(&["response_time"]), None, &rows),
            Ok(Some((0, FoundBy::NameLike)))
        );
    }

    #[test]
    fn one_pass_gives_both_shares() {
        // Twenty Excel serials and one ISO date: every value reads with the
        // numbers counted, one in 21 without.
        let mut values: Vec<Vec<String>> =
            (0..20).map(|i| vec![format!("{}", 43_000 + i)]).collect();
        values.push(vec!["2018-04-13".to_string()]);
        let rows: Vec<&[String]> = values.iter().map(Vec::as_slice).collect();
        assert_eq!(
            Shares::of(&rows, 0),
            Some(Shares {
                with_numbers: 1.0,
                without_numbers: 1.0 / 21.0
            })
        );
        assert_eq!(Shares::of(&rows[..2], 0), None, "below three values");
        assert_eq!(Shares::of(&rows, 1), None, "no such column: no values");
    }

    fn decide(values: &[&str]) -> Result<DateFormat, String> {
        let mut s = DateSniffer::default();
        for (i, v) in values.iter().enumerate() {
            s.see(i as u64 + 2, v);
        }
        s.decide("When", None).map(|(f, _)| f)
    }

    #[test]
    fn the_column_decides_the_order() {
        assert_eq!(
            decide(&["11/04/2018 20:09", "13/04/2018 09:00"]),
            Ok(DateFormat::DayFirst)
        );
        assert_eq!(
            decide(&["04/11/2018", "04/13/2018"]),
            Ok(DateFormat::MonthFirst)
        );
        assert_eq!(decide(&["4/13/18 8:05 PM", ""]), Ok(DateFormat::MonthFirst));
        // Dots are day first without evidence; equal day and month settle nothing.
        assert_eq!(
            decide(&["11.04.2018", "12.04.2018"]),
            Ok(DateFormat::DayFirst)
        );
        assert_eq!(
            decide(&["04/04/2018", "2018-04-05"]),
            Ok(DateFormat::DayFirst)
        );
        let e = decide(&["11/04/2018", "12/04/2018"]).unwrap_err();
        assert!(
            e.contains("`When`") && e.contains("line 2") && e.contains("--date-format"),
            "{e}"
        );
        let e = decide(&["13/04/2018", "04/13/2018"]).unwrap_err();
        assert!(e.contains("mixes") && e.contains("line 3"), "{e}");
        // Plain numbers: Excel serials, Unix seconds and milliseconds.
        assert_eq!(decide(&["43201.84", "43202"]), Ok(DateFormat::Excel));
        assert_eq!(
            decide(&["1523477340", "1523477399"]),
            Ok(DateFormat::UnixSeconds)
        );
        assert_eq!(decide(&["1523477340000"]), Ok(DateFormat::UnixMillis));
        // A flag always wins.
        let mut s = DateSniffer::default();
        s.see(2, "11/04/2018");
        s.see(3, "12/04/2018");
        assert_eq!(
            s.decide("When", Some(&DateFormat::MonthFirst)),
            Ok((DateFormat::MonthFirst, "flag"))
        );
        assert!(s.unsettled());
    }

    #[test]
    fn date_format_flags() {
        assert_eq!(DateFormat::from_flag("DMY"), Ok(DateFormat::DayFirst));
        assert_eq!(DateFormat::from_flag("mdy"), Ok(DateFormat::MonthFirst));
        assert_eq!(DateFormat::from_flag("excel"), Ok(DateFormat::Excel));
        assert_eq!(DateFormat::from_flag("unix"), Ok(DateFormat::UnixSeconds));
        assert_eq!(DateFormat::from_flag("unix-ms"), Ok(DateFormat::UnixMillis));
        assert_eq!(
            DateFormat::from_flag("%Y%m%d"),
            Ok(DateFormat::Pattern("%Y%m%d".into()))
        );
        assert!(DateFormat::from_flag("%Q")
            .unwrap_err()
            .contains("strftime"));
        assert!(DateFormat::from_flag("ymd")
            .unwrap_err()
            .contains("dmy, mdy"));
        for f in ["dmy", "mdy", "excel", "unix", "unix-ms", "%d.%m.%Y"] {
            assert_eq!(DateFormat::from_flag(f).unwrap().name(), f);
        }
    }

    #[test]
    fn reads_each_format() {
        let at = |w: When| w.at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        let dmy = DateFormat::DayFirst;
        let mdy = DateFormat::MonthFirst;
        assert_eq!(
            at(dmy.read("11/04/2018 20:09")).as_deref(),
            Some("2018-04-11 20:09:00")
        );
        assert_eq!(
            at(mdy.read("04/11/2018 20:09")).as_deref(),
            Some("2018-04-11 20:09:00")
        );
        assert_eq!(
            at(mdy.read("4/13/18 8:05 PM")).as_deref(),
            Some("2018-04-13 20:05:00")
        );
        assert_eq!(
            at(mdy.read("4/13/18 12:05 am")).as_deref(),
            Some("2018-04-13 00:05:00")
        );
        assert_eq!(
            at(dmy.read("13.04.2018, 17:45:09")).as_deref(),
            Some("2018-04-13 17:45:09")
        );
        assert_eq!(mdy.read("13/04/2018"), When::default());
        assert_eq!(dmy.read("04/13/2018"), When::default());
        assert_eq!(dmy.read("13/04/18").date, Some(date(2018, 4, 13)));
        assert_eq!(dmy.read("13/04/69").date, Some(date(1969, 4, 13)));
        // Order-free forms read the same either way.
        for f in [&dmy, &mdy] {
            assert_eq!(f.read("2018/04/13").date, Some(date(2018, 4, 13)));
            assert_eq!(f.read("13 Apr 2018").date, Some(date(2018, 4, 13)));
            assert_eq!(f.read("April 13, 2018").date, Some(date(2018, 4, 13)));
            assert_eq!(f.read("13-APR-18").date, Some(date(2018, 4, 13)));
            assert_eq!(
                at(f.read("Apr 13, 2018 20:09")).as_deref(),
                Some("2018-04-13 20:09:00")
            );
            assert_eq!(
                at(f.read("2018-04-13T22:30:00+02:00")).as_deref(),
                Some("2018-04-13 20:30:00")
            );
        }
        assert_eq!(
            at(DateFormat::Excel.read("43201.84")).as_deref(),
            Some("2018-04-11 20:09:36")
        );
        assert_eq!(
            DateFormat::Excel.read("43201"),
            When::date(date(2018, 4, 11))
        );
        assert_eq!(DateFormat::Excel.read("abc"), When::default());
        assert_eq!(
            at(DateFormat::UnixSeconds.read("1523477376")).as_deref(),
            Some("2018-04-11 20:09:36")
        );
        assert_eq!(
            at(DateFormat::UnixMillis.read("1523477376000")).as_deref(),
            Some("2018-04-11 20:09:36")
        );
        let p = DateFormat::Pattern("%Y%m%d".into());
        assert_eq!(p.read("20180413").date, Some(date(2018, 4, 13)));
        let p = DateFormat::Pattern("%d|%m|%Y %H:%M".into());
        assert_eq!(
            at(p.read("13|04|2018 20:09")).as_deref(),
            Some("2018-04-13 20:09:00")
        );
        assert_eq!(p.read("junk"), When::default());
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
            ("2026/11/23", nov23),
            // Day first, with and without a time, four- or two-digit years.
            ("23.11.2026", nov23),
            ("23-11-2026", nov23),
            ("23/11/2026", nov23),
            ("23.11.26", nov23),
            ("23.11.2026 14:05", nov23),
            ("3.4.2026", Some(date(2026, 4, 3))),
            ("03/04/2026", Some(date(2026, 4, 3))),
            ("29.02.2028", Some(date(2028, 2, 29))),
            ("Nov 23, 2026", nov23),
        ];
        for (s, want) in cases {
            assert_eq!(parse_date(s), want, "{s:?}");
        }
    }

    #[test]
    fn rejected_date_formats() {
        let rejected = [
            "11/23/2026", // month first under day first
            "",
            "   ",
            "2026-13-01",
            "2026-02-29",
            "31.02.2026",
            "23.11-2026",
            "23.11.2026 25:05",
            "23.11.2026 14:05 xm",
            "2026-11-23T",
            "2026-11-23T24:00:00Z",
            "2026-11-23T14:60Z",
            "2026-11-23T14:05:00+24:00",
            "2026-11-23T14:05:00+01:0",
            "2026-11-23T14:05:00Zjunk",
            "2026-11-23T14:05:00.Z",
            "2026-1-23",
            "20261123",
            "23.11.20261",
            "23.11.202",
            "２０２６-11-23",
            "yesterday",
        ];
        for s in rejected {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn reading_never_panics() {
        // Property test without a framework: a fixed linear congruential
        // generator over the characters the parsers look at.
        let alphabet: Vec<char> = "0123456789-./:TtZz+, éAPMapm".chars().collect();
        let formats = [
            DateFormat::DayFirst,
            DateFormat::MonthFirst,
            DateFormat::Excel,
            DateFormat::UnixSeconds,
            DateFormat::UnixMillis,
        ];
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
            let mut sniffer = DateSniffer::default();
            sniffer.see(1, &s);
            let _ = sniffer.decide("c", None);
            for f in &formats {
                if let Some(d) = f.read(&s).date {
                    assert!((-300_000..=300_000).contains(&d.year()), "{s:?} → {d}");
                }
            }
        }
    }
}
