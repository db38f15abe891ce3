//! The driver part of the terminal summary of `verbatim analyze`: where
//! the drivers' bootstrap intervals are (the drivers themselves are listed
//! once, by [`crate::stats::top_drivers`], as in the report), the
//! key-driver warnings, the parts of ΔNPS, and the counts of alerts,
//! follow-ups and sentiment mismatches. Formatting only; the figures come
//! from [`DriverAnalysis`].

use std::fmt::Write;

use crate::stats::driver_stats::DriverAnalysis;
use crate::stats::keydrivers::{Issue, Warning};

/// The label column of the console's driver lists is as wide as its longest
/// label, but at least this many characters (so the usual labels keep one
/// layout from run to run)…
pub const LABEL_MIN: usize = 40;
/// …and at most this many; a longer label wraps at spaces onto lines of its
/// own, its figures on its last line.
pub const LABEL_MAX: usize = 60;

/// Lines `  LABEL  FIGURES` with the figures in one column: the labels are
/// padded to the widest of them, between [`LABEL_MIN`] and [`LABEL_MAX`]
/// characters, and a label over [`LABEL_MAX`] is wrapped. Labels such as
/// "Agent friendliness and empathy (positive mentions)" then no longer push
/// their figures out of line.
pub fn label_lines(rows: &[(String, String)]) -> Vec<String> {
    let width = rows
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(LABEL_MIN, LABEL_MAX);
    let mut out = Vec::new();
    for (label, figures) in rows {
        let mut parts = wrap(label, width);
        let last = parts.pop().unwrap_or_default();
        out.extend(parts.into_iter().map(|p| format!("  {p}")));
        out.push(format!("  {last:<width$} {figures}"));
    }
    out
}

/// `text` in lines of at most `width` characters, broken at spaces (a word
/// longer than a line is cut); at least one line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.extend(word);
    }
    lines.push(line);
    lines
}

/// The console lines of the key-driver warnings. Rare topics are the usual
/// case in a small export: one line names them all; the other warnings
/// keep a line each, the first 8 of them.
fn warning_lines(warnings: &[&Warning]) -> Vec<String> {
    let (rare, other): (Vec<&Warning>, Vec<&Warning>) = warnings
        .iter()
        .partition(|w| w.issue == Issue::Rare && w.topic.is_some());
    let mut lines = Vec::new();
    if !rare.is_empty() {
        let names: Vec<&str> = rare.iter().filter_map(|w| w.topic.as_deref()).collect();
        let shown: Vec<String> = names.iter().take(12).map(|n| format!("`{n}`")).collect();
        let more = names.len() - shown.len();
        lines.push(format!(
            "{} topic{} with fewer mentions than min_n, left out of the models: {}{}",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    lines.extend(other.iter().take(8).map(|w| w.message.clone()));
    if other.len() > 8 {
        lines.push(format!("… {} more in key_driver", other.len() - 8));
    }
    lines
}

/// The summary lines, `label` turning a topic id into its display label.
pub fn driver_summary(
    a: &DriverAnalysis,
    label: &dyn Fn(&str) -> String,
    followups: bool,
) -> String {
    let mut o = String::new();
    let replicates = a.impacts.first().map_or(0, |x| x.1.replicates);
    let seed = a.impacts.first().map_or(0, |x| x.1.seed);
    // The drivers themselves are listed once, above, by the choice the
    // report makes (`stats::top_drivers`); their bootstrap intervals are in
    // topic_driver.
    let _ = writeln!(
        o,
        "Bootstrap 95% intervals of the drivers ({replicates} replicates, seed {seed:#x}): topic_driver.boot_impact_ci_low/_high"
    );
    let topic_warnings: Vec<_> = a.key.warnings.iter().collect();
    if topic_warnings.is_empty() {
        let _ = writeln!(o, "Key-driver models: no warnings");
    } else {
        let _ = writeln!(o, "Key-driver warnings ({}):", topic_warnings.len());
        for line in warning_lines(&topic_warnings) {
            let _ = writeln!(o, "  {line}");
        }
    }
    match &a.change {
        Some(c) => {
            let sh = &c.shift;
            let _ = writeln!(
                o,
                "ΔNPS {} → {}: {:+.1} ({:.1} → {:.1}), largest parts:",
                c.before_label, c.after_label, sh.delta, sh.nps_before, sh.nps_after
            );
            let mut parts: Vec<_> = sh.topics.iter().collect();
            parts.sort_by(|x, y| {
                y.total
                    .abs()
                    .total_cmp(&x.total.abs())
                    .then_with(|| x.group.cmp(&y.group))
            });
            let mut rows: Vec<(String, String)> = parts
                .iter()
                .take(5)
                .map(|p| (label(&p.group), format!("{:+.2}", p.total)))
                .collect();
            rows.push((
                sh.remainder.group.clone(),
                format!("{:+.2}", sh.remainder.total),
            ));
            for line in label_lines(&rows) {
                let _ = writeln!(o, "{line}");
            }
        }
        None => {
            let _ = writeln!(o, "ΔNPS: no two consecutive periods to compare");
        }
    }
    let followups = if followups {
        format!(
            "{} (of {}), ",
            counted(a.followups.len() as u64, "follow-up", "follow-ups"),
            counted(a.followup_candidates, "candidate", "candidates")
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "{}, {followups}{}",
        counted(a.alerts.len() as u64, "alert", "alerts"),
        counted(a.mismatches, "sentiment mismatch", "sentiment mismatches")
    );
    o
}

/// `n` with its noun in the singular when `n` is 1 ("1 alert", "3 alerts").
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the figures start on each line that has them.
    fn figure_columns(lines: &[String]) -> Vec<usize> {
        lines
            .iter()
            .filter_map(|l| l.find(['+', '-']).map(|b| l[..b].chars().count()))
            .collect()
    }

    fn rows(labels: &[&str]) -> Vec<(String, String)> {
        labels
            .iter()
            .map(|l| (l.to_string(), "+1.0".to_string()))
            .collect()
    }

    #[test]
    fn one_of_a_count_takes_the_singular() {
        assert_eq!(counted(1, "alert", "alerts"), "1 alert");
        assert_eq!(counted(0, "alert", "alerts"), "0 alerts");
        assert_eq!(counted(2, "follow-up", "follow-ups"), "2 follow-ups");
    }

    #[test]
    fn short_labels_keep_the_forty_character_column() {
        let lines = label_lines(&rows(&["Wait time", "Billing"]));
        assert_eq!(lines[0], format!("  {:<40} +1.0", "Wait time"));
        assert_eq!(figure_columns(&lines), [43, 43]);
    }

    #[test]
    fn a_long_label_widens_the_column_for_every_row() {
        let long = "Agent friendliness and empathy (positive mentions)";
        assert_eq!(long.chars().count(), 50);
        let lines = label_lines(&rows(&["Wait time", long, "Préis"]));
        assert_eq!(lines.len(), 3);
        assert_eq!(figure_columns(&lines), [53, 53, 53], "{lines:#?}");
        assert!(lines[1].starts_with(&format!("  {long} +1.0")));
    }

    #[test]
    fn a_label_over_the_maximum_wraps_with_its_figures_on_its_last_line() {
        let long =
            "Agent friendliness, empathy and patience on the phone and in chat (negative mentions)";
        let lines = label_lines(&rows(&["Wait time", long]));
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert_eq!(
            lines[1],
            "  Agent friendliness, empathy and patience on the phone and in"
        );
        assert!(lines[1].chars().count() <= 2 + LABEL_MAX);
        assert_eq!(figure_columns(&lines), [2 + LABEL_MAX + 1; 2], "{lines:#?}");
        assert!(lines[2].starts_with("  chat (negative mentions) "));
        // A word longer than a line is cut.
        let word = "x".repeat(LABEL_MAX + 5);
        assert_eq!(wrap(&word, LABEL_MAX).len(), 2);
        assert_eq!(wrap("", LABEL_MAX), [""]);
    }

    fn warning(issue: Issue, topic: &str) -> Warning {
        Warning {
            issue,
            topic: Some(topic.into()),
            model: None,
            dropped: true,
            message: format!("topic `{topic}`: {issue:?}"),
        }
    }

    #[test]
    fn rare_topics_share_one_line_and_other_warnings_keep_theirs() {
        let mut w: Vec<Warning> = (0..14)
            .map(|i| warning(Issue::Rare, &format!("t{i}")))
            .collect();
        w.insert(3, warning(Issue::Constant, "everywhere"));
        let refs: Vec<&Warning> = w.iter().collect();
        let lines = warning_lines(&refs);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].starts_with(
                "14 topics with fewer mentions than min_n, left out of the models: `t0`, `t1`,"
            ) && lines[0].ends_with("`t11` and 2 more"),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "topic `everywhere`: Constant");
        // Nine other warnings: eight lines and a count.
        let other: Vec<Warning> = (0..9)
            .map(|i| warning(Issue::Constant, &format!("c{i}")))
            .collect();
        let refs: Vec<&Warning> = other.iter().collect();
        let lines = warning_lines(&refs);
        assert_eq!(lines.len(), 9);
        assert_eq!(lines[8], "… 1 more in key_driver");
    }
}
