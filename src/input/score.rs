//! Parses the recommendation score as survey tools export it, and maps the
//! answer scales some tools use (1–5 stars, 1–10) onto the 0–10 NPS scale.
//!
//! Exports write whole scores as "9", " 9 ", "9,0", "10.0" or "7.00"
//! depending on locale and tool, so a zero fraction with either decimal
//! separator is accepted. Anything else is refused with a reason a person
//! can act on, because a misread score silently shifts NPS. For the same
//! reason the scale is never guessed from the data: it is 0–10 unless the
//! caller says otherwise, and a value outside the scale is a reject.

use std::fmt;
use std::str::FromStr;

/// Longest raw value quoted back in a reason; a misaligned row can put a
/// whole comment into the score column.
const SHOW_MAX: usize = 40;

/// The answer scale of the score column. Scores are stored on 0–10, the
/// scale NPS is defined on; other scales are mapped by these exact tables:
///
/// | answer | `ZeroToTen` | `OneToFive` | `OneToTen` |
/// |-------:|------------:|------------:|-----------:|
/// |      0 |           0 |           – |          – |
/// |      1 |           1 |           0 |          0 |
/// |      2 |           2 |           3 |          1 |
/// |      3 |           3 |           5 |          2 |
/// |      4 |           4 |           8 |          3 |
/// |      5 |           5 |          10 |          4 |
/// |      6 |           6 |           – |          6 |
/// |      7 |           7 |           – |          7 |
/// |      8 |           8 |           – |          8 |
/// |      9 |           9 |           – |          9 |
/// |     10 |          10 |           – |         10 |
///
/// `OneToFive` is (s − 1) × 2.5 rounded half up (2.5 → 3, 7.5 → 8);
/// `OneToTen` is (s − 1) × 10 / 9 rounded to the nearest whole number. So on
/// 1–5 only a 5 is a promoter and a 4 is a passive; on 1–10 a 9 or 10 is a
/// promoter and 7 or 8 a passive, as on 0–10. A "–" is out of the scale
/// and rejected with a reason that names the scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scale {
    /// 0–10, the NPS question itself (the default).
    #[default]
    ZeroToTen,
    /// 1–5, e.g. star ratings.
    OneToFive,
    /// 1–10.
    OneToTen,
}

/// `OneToFive` answers 1..=5 mapped onto 0–10.
const ONE_TO_FIVE: [u8; 5] = [0, 3, 5, 8, 10];
/// `OneToTen` answers 1..=10 mapped onto 0–10.
const ONE_TO_TEN: [u8; 10] = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10];

impl Scale {
    /// Lowest and highest answer on this scale.
    pub fn range(self) -> (u8, u8) {
        match self {
            Scale::ZeroToTen => (0, 10),
            Scale::OneToFive => (1, 5),
            Scale::OneToTen => (1, 10),
        }
    }

    /// `0-10`, `1-5` or `1-10`, as in messages and accepted by [`FromStr`].
    pub fn label(self) -> &'static str {
        match self {
            Scale::ZeroToTen => "0-10",
            Scale::OneToFive => "1-5",
            Scale::OneToTen => "1-10",
        }
    }

    /// The 0–10 score for an answer on this scale (see the table above);
    /// `None` when the answer is outside the scale.
    pub fn to_nps(self, answer: u8) -> Option<u8> {
        let (lo, hi) = self.range();
        if answer < lo || answer > hi {
            return None;
        }
        let i = usize::from(answer - lo);
        match self {
            Scale::ZeroToTen => Some(answer),
            Scale::OneToFive => ONE_TO_FIVE.get(i).copied(),
            Scale::OneToTen => ONE_TO_TEN.get(i).copied(),
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Scale {
    type Err = String;

    /// Accepts `0-10`, `1-5` and `1-10` (also with `..` or `–`).
    fn from_str(s: &str) -> Result<Self, String> {
        let folded = s.trim().replace("..", "-").replace('–', "-");
        [Scale::ZeroToTen, Scale::OneToFive, Scale::OneToTen]
            .into_iter()
            .find(|sc| sc.label() == folded)
            .ok_or_else(|| format!("unknown scale `{s}`; use one of 0-10, 1-5, 1-10"))
    }
}

/// Parses a 0–10 score, or returns the reject reason.
#[cfg(test)]
pub(super) fn parse_score(raw: &str) -> Result<u8, String> {
    parse_scaled(raw, Scale::ZeroToTen)
}

/// Parses an answer on `scale` and maps it onto 0–10, or returns the reject
/// reason.
pub(super) fn parse_scaled(raw: &str, scale: Scale) -> Result<u8, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("score missing".to_string());
    }
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = match body.find(['.', ',']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !frac.is_none_or(all_digits) {
        return Err(format!("score \"{}\" is not a number", shown(s)));
    }
    if frac.is_some_and(|f| f.bytes().any(|b| b != b'0')) {
        return Err(format!("score {s} is not a whole number"));
    }
    let significant = int.trim_start_matches('0');
    // Three significant digits are already out of range; no overflow possible.
    let value: u32 = if significant.len() > 2 {
        u32::MAX
    } else {
        significant.parse().unwrap_or(0)
    };
    let out_of_range = || match scale {
        // Kept word for word from before scales existed.
        Scale::ZeroToTen => format!("score {} is out of range 0-10", shown(s)),
        _ => format!(
            "score {} is out of range for the {} scale",
            shown(s),
            scale.label()
        ),
    };
    if negative && value > 0 {
        return Err(out_of_range());
    }
    u8::try_from(value)
        .ok()
        .and_then(|v| scale.to_nps(v))
        .ok_or_else(out_of_range)
}

/// Parses a survey weight (`--weight-column`): a finite number ≥ 0 with a
/// decimal point or comma (`2`, `0.75`, `1,25`, ` 3 `), or returns the reject
/// reason, which names the column and quotes the value. No exponent and no
/// thousands separator: "1.234" is one point two three four, never 1234,
/// so a value that could be read two ways is not guessed at.
pub fn parse_weight(raw: &str, column: &str) -> Result<f64, String> {
    let s = raw.trim();
    let column = super::escape_name(column);
    if s.is_empty() {
        return Err(format!("weight missing in column `{column}`"));
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = match body.find(['.', ',']) {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
        return Err(format!(
            "weight \"{}\" in column `{column}` is not a number",
            shown(s)
        ));
    }
    let value: f64 = format!("{}{int}.{frac}0", if s.starts_with('-') { "-" } else { "" })
        .parse()
        .map_err(|_| {
            format!(
                "weight \"{}\" in column `{column}` is not a number",
                shown(s)
            )
        })?;
    if !value.is_finite() {
        return Err(format!(
            "weight {} in column `{column}` is not finite",
            shown(s)
        ));
    }
    if value < 0.0 {
        return Err(format!(
            "weight {} in column `{column}` is negative; weights must be 0 or more",
            shown(s)
        ));
    }
    // "-0" is 0, not a negative weight.
    Ok(value.abs())
}

fn shown(s: &str) -> String {
    if s.chars().count() <= SHOW_MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(SHOW_MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_whole_scores_in_export_spellings() {
        for (raw, want) in [
            ("0", 0),
            ("10", 10),
            (" 9 ", 9),
            ("9,0", 9),
            ("10.0", 10),
            ("7.00", 7),
            ("07", 7),
            ("+8", 8),
            ("-0", 0),
            ("6.", 6),
        ] {
            assert_eq!(parse_score(raw), Ok(want), "{raw:?}");
        }
    }

    #[test]
    fn refuses_with_reasons() {
        let cases = [
            ("", "score missing"),
            ("   ", "score missing"),
            ("abc", "score \"abc\" is not a number"),
            ("1e1", "score \"1e1\" is not a number"),
            (".5", "score \".5\" is not a number"),
            ("9.5", "score 9.5 is not a whole number"),
            ("9,25", "score 9,25 is not a whole number"),
            ("11", "score 11 is out of range 0-10"),
            ("11.0", "score 11.0 is out of range 0-10"),
            ("-1", "score -1 is out of range 0-10"),
            (
                "99999999999999999999",
                "score 99999999999999999999 is out of range 0-10",
            ),
            ("9 / 10", "score \"9 / 10\" is not a number"),
        ];
        for (raw, reason) in cases {
            assert_eq!(parse_score(raw), Err(reason.to_string()), "{raw:?}");
        }
    }

    #[test]
    fn weights_in_export_spellings_and_their_rejects() {
        for (raw, want) in [
            ("1", 1.0),
            (" 2.5 ", 2.5),
            ("0,75", 0.75),
            ("+3", 3.0),
            ("0", 0.0),
            ("-0", 0.0),
            (".5", 0.5),
            ("4.", 4.0),
        ] {
            assert_eq!(parse_weight(raw, "w"), Ok(want), "{raw:?}");
        }
        for (raw, reason) in [
            ("", "weight missing in column `w`"),
            ("  ", "weight missing in column `w`"),
            ("abc", "weight \"abc\" in column `w` is not a number"),
            ("1e3", "weight \"1e3\" in column `w` is not a number"),
            ("inf", "weight \"inf\" in column `w` is not a number"),
            ("NaN", "weight \"NaN\" in column `w` is not a number"),
            ("1.2.3", "weight \"1.2.3\" in column `w` is not a number"),
            (".", "weight \".\" in column `w` is not a number"),
            (
                "-1",
                "weight -1 in column `w` is negative; weights must be 0 or more",
            ),
            (
                "-0,5",
                "weight -0,5 in column `w` is negative; weights must be 0 or more",
            ),
        ] {
            assert_eq!(parse_weight(raw, "w"), Err(reason.to_string()), "{raw:?}");
        }
        let huge = "9".repeat(400);
        let err = parse_weight(&huge, "w").unwrap_err();
        assert!(err.ends_with("in column `w` is not finite"), "{err}");
    }

    /// Round half up of a non-negative number, as the doc table states it.
    fn round_half_up(x: f64) -> u8 {
        (x + 0.5).floor() as u8
    }

    #[test]
    fn scale_tables_match_their_formulas_and_the_doc() {
        let zero_to_ten: Vec<Option<u8>> = (0..=10).map(|s| Scale::ZeroToTen.to_nps(s)).collect();
        let want: Vec<Option<u8>> = (0..=10).map(Some).collect();
        assert_eq!(zero_to_ten, want);

        let one_to_five: Vec<u8> = (1..=5).filter_map(|s| Scale::OneToFive.to_nps(s)).collect();
        assert_eq!(one_to_five, [0, 3, 5, 8, 10]);
        let formula: Vec<u8> = (1..=5)
            .map(|s| round_half_up(f64::from(s - 1) * 2.5))
            .collect();
        assert_eq!(one_to_five, formula);

        let one_to_ten: Vec<u8> = (1..=10).filter_map(|s| Scale::OneToTen.to_nps(s)).collect();
        assert_eq!(one_to_ten, [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
        let formula: Vec<u8> = (1..=10)
            .map(|s| round_half_up(f64::from(s - 1) * 10.0 / 9.0))
            .collect();
        assert_eq!(one_to_ten, formula);

        for (scale, outside) in [
            (Scale::ZeroToTen, &[11u8, 255][..]),
            (Scale::OneToFive, &[0, 6, 10][..]),
            (Scale::OneToTen, &[0, 11][..]),
        ] {
            for &s in outside {
                assert_eq!(scale.to_nps(s), None, "{scale} {s}");
            }
        }
    }

    #[test]
    fn scaled_parsing_maps_and_names_the_scale() {
        for (raw, want) in [("1", 0), ("2", 3), ("3,0", 5), (" 4 ", 8), ("5.00", 10)] {
            assert_eq!(parse_scaled(raw, Scale::OneToFive), Ok(want), "{raw:?}");
        }
        for (raw, want) in [("1", 0), ("5", 4), ("6", 6), ("10", 10)] {
            assert_eq!(parse_scaled(raw, Scale::OneToTen), Ok(want), "{raw:?}");
        }
        let cases = [
            (
                "0",
                Scale::OneToFive,
                "score 0 is out of range for the 1-5 scale",
            ),
            (
                "6",
                Scale::OneToFive,
                "score 6 is out of range for the 1-5 scale",
            ),
            (
                "-1",
                Scale::OneToFive,
                "score -1 is out of range for the 1-5 scale",
            ),
            (
                "0",
                Scale::OneToTen,
                "score 0 is out of range for the 1-10 scale",
            ),
            (
                "11",
                Scale::OneToTen,
                "score 11 is out of range for the 1-10 scale",
            ),
            ("11", Scale::ZeroToTen, "score 11 is out of range 0-10"),
            ("4.5", Scale::OneToFive, "score 4.5 is not a whole number"),
            ("", Scale::OneToTen, "score missing"),
        ];
        for (raw, scale, reason) in cases {
            assert_eq!(parse_scaled(raw, scale), Err(reason.to_string()), "{raw:?}");
        }
    }

    #[test]
    fn scale_labels_round_trip() {
        for scale in [Scale::ZeroToTen, Scale::OneToFive, Scale::OneToTen] {
            assert_eq!(scale.label().parse(), Ok(scale));
        }
        assert_eq!("1..5".parse(), Ok(Scale::OneToFive));
        assert_eq!(Scale::default(), Scale::ZeroToTen);
        let err = "1-7".parse::<Scale>().err().unwrap_or_default();
        assert!(err.contains("`1-7`") && err.contains("1-10"), "{err}");
    }

    #[test]
    fn long_values_are_cut_in_the_reason() {
        let raw = "x".repeat(100);
        let reason = parse_score(&raw).err().unwrap_or_default();
        assert!(reason.chars().count() < 70, "{reason}");
        assert!(reason.contains('…'));
    }
}
