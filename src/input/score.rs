//! Parses the 0–10 recommendation score as survey tools export it.
//!
//! Exports write whole scores as "9", " 9 ", "9,0", "10.0" or "7.00"
//! depending on locale and tool, so a zero fraction with either decimal
//! separator is accepted. Anything else is refused with a reason a person
//! can act on, because a misread score silently shifts NPS.

/// Longest raw value quoted back in a reason; a misaligned row can put a
/// whole comment into the score column.
const SHOW_MAX: usize = 40;

/// Parses a score, or returns the reject reason.
pub(super) fn parse_score(raw: &str) -> Result<u8, String> {
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
    if value > 10 || (negative && value > 0) {
        return Err(format!("score {} is out of range 0-10", shown(s)));
    }
    // value <= 10 here, so the conversion cannot fail.
    u8::try_from(value).map_err(|_| format!("score {} is out of range 0-10", shown(s)))
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
    fn long_values_are_cut_in_the_reason() {
        let raw = "x".repeat(100);
        let reason = parse_score(&raw).err().unwrap_or_default();
        assert!(reason.chars().count() < 70, "{reason}");
        assert!(reason.contains('…'));
    }
}
