//! The star schema a BI tool reads: facts, a bridge, dimensions, aggregates.
//!
//! | table | grain | key |
//! |---|---|---|
//! | `fact_response` | one row per analysed response | `response_id` |
//! | `fact_answer` | one row per non-empty answer to an open question | `response_id`, `question` |
//! | `bridge_response_topic` | response × question × topic | `response_id`, `question`, `topic_id` |
//! | `dim_topic` | one row per topic of the taxonomy, and one [`NO_TOPIC`] | `topic_id` |
//! | `dim_date` | one row per calendar day, first to last response date (over 100 years: the dates that occur) | `date` |
//! | `agg_nps` | segment value × period | `segment_column`, `segment_value`, `period`, `period_start` |
//! | `topic_driver` | topic × scope (any, negative, positive mentions) | `topic_id`, `scope` |
//! | `agg_topic` | topic × period (the whole run, then each period) | `topic_id`, `period`, `period_start_date` |
//!
//! Each is built once here as a [`Table`] and written by every exporter
//! (Parquet and CSV). Comment text is not in the fact table: it carries
//! personal data; `response_id` joins back to the export.

use crate::classify::Taxonomy;
use crate::input::names::snake;
use crate::input::Reject;
use crate::output::table::{Column, ColumnData, Table};
use crate::stats::aggregate::{AggRow, Period};
use crate::stats::response::{AnalyzedResponse, DriverTable};
use crate::stats::topic_counts::TopicAggRow;
use chrono::{Datelike, NaiveDate};

pub(crate) fn utf8<I: IntoIterator<Item = Option<String>>>(name: &str, it: I) -> Column {
    Column::new(name, ColumnData::Utf8(it.into_iter().collect()))
}
pub(crate) fn int<I: IntoIterator<Item = Option<i64>>>(name: &str, it: I) -> Column {
    Column::new(name, ColumnData::Int64(it.into_iter().collect()))
}
pub(crate) fn float<I: IntoIterator<Item = Option<f64>>>(name: &str, it: I) -> Column {
    Column::new(name, ColumnData::Float64(it.into_iter().collect()))
}
pub(crate) fn boolean<I: IntoIterator<Item = Option<bool>>>(name: &str, it: I) -> Column {
    Column::new(name, ColumnData::Bool(it.into_iter().collect()))
}

/// `fact_response` rows for a chunk of responses.
pub fn fact_response(
    r: &[AnalyzedResponse],
    segment_columns: &[String],
    date_column: Option<usize>,
    run_id: &str,
) -> Table {
    let an = |f: &dyn Fn(&crate::classify::CommentAnalysis) -> Option<String>| {
        r.iter()
            .map(|x| x.analysis.as_ref().and_then(f))
            .collect::<Vec<_>>()
    };
    let mut columns = vec![
        utf8("run_id", r.iter().map(|_| Some(run_id.to_string()))),
        utf8("response_id", r.iter().map(|x| Some(x.response.id.clone()))),
        int(
            "source_line",
            r.iter().map(|x| Some(x.response.line as i64)),
        ),
        // Null in a run without scores (`--no-score`), as the columns
        // that follow from the score: the schema stays the same.
        int("score", r.iter().map(|x| x.response.score.map(i64::from))),
        utf8(
            "bucket",
            r.iter().map(|x| x.bucket.map(|b| b.as_str().to_string())),
        ),
        int(
            "nps_code",
            r.iter().map(|x| x.bucket.map(|b| b.code() as i64 * 100)),
        ),
        boolean(
            "is_promoter",
            r.iter()
                .map(|x| x.bucket.map(|b| b == crate::stats::nps::Bucket::Promoter)),
        ),
        boolean(
            "is_detractor",
            r.iter()
                .map(|x| x.bucket.map(|b| b == crate::stats::nps::Bucket::Detractor)),
        ),
        boolean("has_comment", r.iter().map(|x| Some(x.analysis.is_some()))),
        // ISO 639-1, null when the comment is empty, too short or unclear.
        utf8("language", an(&|a| a.language.map(str::to_string))),
        utf8(
            "sentiment",
            an(&|a| Some(a.sentiment.label.as_str().to_string())),
        ),
        float(
            "sentiment_score",
            r.iter()
                .map(|x| x.analysis.as_ref().map(|a| a.sentiment.score as f64)),
        ),
        float(
            "sentiment_confidence",
            r.iter()
                .map(|x| x.analysis.as_ref().map(|a| a.sentiment.confidence as f64)),
        ),
        // A positive and a negative clause (`CommentAnalysis::is_mixed`);
        // empty without a comment.
        boolean(
            "sentiment_mixed",
            r.iter().map(|x| x.analysis.as_ref().map(|a| a.is_mixed())),
        ),
        boolean(
            "sentiment_mismatch",
            r.iter().map(|x| {
                x.bucket.and_then(|b| {
                    crate::stats::followup::sentiment_mismatch(b, x.analysis.as_ref())
                })
            }),
        ),
        int(
            "clause_count",
            r.iter()
                .map(|x| Some(x.analysis.as_ref().map_or(0, |a| a.clauses.len() as i64))),
        ),
        // Distinct topics: with several open questions a topic can be in
        // the joined analysis once per polarity.
        int(
            "topic_count",
            r.iter().map(|x| {
                Some(x.analysis.as_ref().map_or(0, |a| {
                    let mut t: Vec<usize> = a.topics.iter().map(|h| h.topic).collect();
                    t.sort_unstable();
                    t.dedup();
                    t.len() as i64
                }))
            }),
        ),
        Column::new(
            "responded_at",
            ColumnData::Timestamp(r.iter().map(|x| x.when.at).collect()),
        ),
        Column::new(
            "response_date",
            ColumnData::Date(r.iter().map(|x| x.when.date).collect()),
        ),
    ];
    for (c, name) in segment_output_names(segment_columns, date_column)
        .into_iter()
        .enumerate()
    {
        let Some(name) = name else { continue };
        columns.push(utf8(
            &name,
            r.iter().map(|x| x.response.segments.get(c).cloned()),
        ));
    }
    Table {
        name: "fact_response".into(),
        columns,
    }
}

/// `fact_answer` rows for a chunk of responses: one per non-empty answer,
/// with the answer's own language and sentiment. With one open question
/// it repeats `fact_response`'s comment columns; with several
/// (`--text-column` repeated), `fact_response` holds the whole response
/// ([`crate::classify::CommentAnalysis::join`]) and this table each answer.
/// `questions` names the open questions' columns, the comment column first.
pub fn fact_answer(r: &[AnalyzedResponse], questions: &[String], run_id: &str) -> Table {
    let rows: Vec<(&AnalyzedResponse, usize, &crate::classify::CommentAnalysis)> = r
        .iter()
        .flat_map(|x| x.each_answer().into_iter().map(move |(q, _, a)| (x, q, a)))
        .collect();
    let name = |q: usize| {
        questions
            .get(q)
            .cloned()
            .unwrap_or_else(|| format!("question_{}", q + 1))
    };
    Table {
        name: "fact_answer".into(),
        columns: vec![
            utf8("run_id", rows.iter().map(|_| Some(run_id.to_string()))),
            utf8(
                "response_id",
                rows.iter().map(|x| Some(x.0.response.id.clone())),
            ),
            utf8("question", rows.iter().map(|x| Some(name(x.1)))),
            int("question_index", rows.iter().map(|x| Some(x.1 as i64 + 1))),
            utf8(
                "language",
                rows.iter().map(|x| x.2.language.map(str::to_string)),
            ),
            utf8(
                "sentiment",
                rows.iter()
                    .map(|x| Some(x.2.sentiment.label.as_str().to_string())),
            ),
            float(
                "sentiment_score",
                rows.iter().map(|x| Some(x.2.sentiment.score as f64)),
            ),
            float(
                "sentiment_confidence",
                rows.iter().map(|x| Some(x.2.sentiment.confidence as f64)),
            ),
            boolean("sentiment_mixed", rows.iter().map(|x| Some(x.2.is_mixed()))),
            int(
                "clause_count",
                rows.iter().map(|x| Some(x.2.clauses.len() as i64)),
            ),
            int(
                "topic_count",
                rows.iter().map(|x| Some(x.2.topics.len() as i64)),
            ),
        ],
    }
}

/// `bridge_response_topic` rows for a chunk of responses: a topic of an
/// answer, with the answer's question (`questions` as for [`fact_answer`]).
/// A response's allocation weights sum to 1 over all its answers' topics.
pub fn bridge_response_topic(
    responses: &[AnalyzedResponse],
    tax: &Taxonomy,
    questions: &[String],
) -> Table {
    let (mut id, mut topic, mut pol, mut conf, mut clause, mut weight) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut question = vec![];
    for r in responses {
        let answers = r.each_answer();
        let k = answers
            .iter()
            .map(|a| a.2.topics.len())
            .sum::<usize>()
            .max(1) as f64;
        for (q, h) in answers
            .iter()
            .flat_map(|&(q, _, an)| an.topics.iter().map(move |h| (q, h)))
        {
            id.push(Some(r.response.id.clone()));
            question.push(Some(
                questions
                    .get(q)
                    .cloned()
                    .unwrap_or_else(|| format!("question_{}", q + 1)),
            ));
            topic.push(Some(tax.topics[h.topic].id.clone()));
            pol.push(Some(h.polarity.as_str().to_string()));
            conf.push(Some(h.confidence as f64));
            clause.push(Some(h.clause as i64));
            weight.push(Some(1.0 / k));
        }
    }
    Table {
        name: "bridge_response_topic".into(),
        columns: vec![
            utf8("response_id", id),
            utf8("question", question),
            utf8("topic_id", topic),
            utf8("polarity", pol),
            float("confidence", conf),
            int("clause_index", clause),
            float("allocation_weight", weight),
        ],
    }
}

/// The `topic_id` (and every label) of the `dim_topic` row that stands for
/// responses without a topic: no comment, or no topic found in it. The same
/// id as `driver_change`'s remainder `group`, so that every id a table
/// writes joins to `dim_topic`; a taxonomy id (snake_case) can never take it.
pub const NO_TOPIC: &str = crate::stats::shift_share::REMAINDER;

/// `dim_topic`: the taxonomy's topics, then one row [`NO_TOPIC`].
pub fn dim_topic(tax: &Taxonomy) -> Table {
    const LANGS: [&str; 5] = ["en", "de", "nl", "fr", "es"];
    let no_topic = || Some(NO_TOPIC.to_string());
    let t = &tax.topics;
    let mut columns = vec![
        utf8(
            "topic_id",
            t.iter().map(|x| Some(x.id.clone())).chain([no_topic()]),
        ),
        utf8(
            "parent_topic_id",
            t.iter().map(|x| x.parent.clone()).chain([None]),
        ),
        utf8(
            "label",
            t.iter()
                .map(|x| Some(x.display_label().to_string()))
                .chain([no_topic()]),
        ),
    ];
    for lang in LANGS {
        columns.push(utf8(
            &format!("label_{lang}"),
            t.iter()
                .map(|x| x.label.get(lang).cloned())
                .chain([no_topic()]),
        ));
    }
    columns.push(utf8(
        "description",
        t.iter().map(|x| Some(x.description.clone())).chain([Some(
            "Responses without a topic: no comment, or no topic of the taxonomy found in it"
                .to_string(),
        )]),
    ));
    for (name, value) in [
        ("taxonomy_name", &tax.name),
        ("taxonomy_version", &tax.version),
    ] {
        columns.push(utf8(name, (0..=t.len()).map(|_| Some(value.clone()))));
    }
    Table {
        name: "dim_topic".into(),
        columns,
    }
}

/// `agg_nps`. One marker for "all" in the Parquet file: `segment_column`
/// and `segment_value` are null on the rows of all responses, `period`,
/// `period_start_date` and `period_label` null on the whole-run rows (the
/// CSV writes nulls as empty fields). Within a named column, `""` stays the
/// group of blank values.
pub fn agg_nps(g: &[AggRow]) -> Table {
    // A withheld row (employee surveys, below `--min-n`) keeps only `n`.
    let shown = |x: &AggRow, count: u64| (!x.withheld).then_some(count as i64);
    let json_str = |v: serde_json::Value| v.as_str().map(str::to_string);
    let all = |x: &AggRow| x.segment_column.is_empty();
    Table {
        name: "agg_nps".into(),
        columns: vec![
            utf8(
                "segment_column",
                g.iter()
                    .map(|x| (!all(x)).then(|| x.segment_column.clone())),
            ),
            utf8(
                "segment_value",
                g.iter().map(|x| (!all(x)).then(|| x.segment_value.clone())),
            ),
            utf8(
                "period",
                g.iter().map(|x| {
                    x.period
                        .and_then(|p| serde_json::to_value(p).ok().and_then(json_str))
                }),
            ),
            Column::new(
                "period_start_date",
                ColumnData::Date(g.iter().map(|x| x.period_start).collect()),
            ),
            utf8(
                "period_label",
                g.iter().map(|x| x.period.map(|_| x.period_label.clone())),
            ),
            int("n", g.iter().map(|x| Some(x.n as i64))),
            int("promoters", g.iter().map(|x| shown(x, x.promoters))),
            int("passives", g.iter().map(|x| shown(x, x.passives))),
            int("detractors", g.iter().map(|x| shown(x, x.detractors))),
            float("nps", g.iter().map(|x| x.nps)),
            float("nps_ci_low", g.iter().map(|x| x.nps_ci_low)),
            float("nps_ci_high", g.iter().map(|x| x.nps_ci_high)),
            boolean("suppressed", g.iter().map(|x| Some(x.suppressed))),
            utf8("comparison", g.iter().map(|x| x.comparison.clone())),
            float("diff", g.iter().map(|x| x.diff)),
            float("z", g.iter().map(|x| x.z)),
            float("p_value", g.iter().map(|x| x.p_value)),
            boolean("bh_significant", g.iter().map(|x| x.bh_significant)),
            // Survey weights (`--weight-column`); null without them.
            float("weighted_nps", g.iter().map(|x| x.weighted_nps)),
            float(
                "weighted_nps_ci_low",
                g.iter().map(|x| x.weighted_nps_ci_low),
            ),
            float(
                "weighted_nps_ci_high",
                g.iter().map(|x| x.weighted_nps_ci_high),
            ),
            float("n_effective", g.iter().map(|x| x.n_effective)),
            float("weight_sum", g.iter().map(|x| x.weight_sum)),
            boolean(
                "weighted_suppressed",
                g.iter().map(|x| x.weighted_suppressed),
            ),
        ],
    }
}

/// `agg_topic`: each topic's mentions, share of comments and sentiment mix
/// over the whole run and per period ([`crate::stats::topic_counts`]); the
/// same markers as `agg_nps`: `period`, `period_start_date` and
/// `period_label` are null on the whole-run rows. Needs no score, so a run
/// without scores (`--no-score`) has it too.
pub fn agg_topic(rows: &[TopicAggRow]) -> Table {
    let count = |f: fn(&TopicAggRow) -> u64| -> Vec<Option<i64>> {
        rows.iter().map(|r| Some(f(r) as i64)).collect()
    };
    Table {
        name: "agg_topic".into(),
        columns: vec![
            utf8("topic_id", rows.iter().map(|r| Some(r.topic.clone()))),
            utf8(
                "period",
                rows.iter()
                    .map(|r| r.period.map(|p| p.as_str().to_string())),
            ),
            Column::new(
                "period_start_date",
                ColumnData::Date(rows.iter().map(|r| r.period_start).collect()),
            ),
            utf8(
                "period_label",
                rows.iter()
                    .map(|r| r.period.map(|_| r.period_label.clone())),
            ),
            int("responses", count(|r| r.responses)),
            int("comments", count(|r| r.comments)),
            int("mentions", count(|r| r.mentions.mentions)),
            float(
                "share_of_comments",
                rows.iter().map(|r| r.share_of_comments),
            ),
            int("positive", count(|r| r.mentions.positive)),
            int("neutral", count(|r| r.mentions.neutral)),
            int("negative", count(|r| r.mentions.negative)),
            float("net_sentiment", rows.iter().map(|r| r.net_sentiment)),
            boolean("suppressed", rows.iter().map(|r| Some(r.suppressed))),
        ],
    }
}

/// English month names, January first.
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English day names, Monday first.
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `dim_date` rows for `days` (the caller gives every calendar day from the
/// first response date to the last, or over 100 years only the dates that
/// occur: `crate::output::run`): calendar and ISO-week parts, the first
/// day of the day's week (Monday), month and quarter, and the day's
/// `period_label` of each `agg_nps` period kind (`day_label` `2026-01-05`,
/// `week_label` `2026-W02`, `month_label` `2026-01`, `quarter_label`
/// `2026-Q1`, made by [`Period::label`] as agg_nps's are), so that a BI
/// tool joins `agg_nps.period_label` to them.
pub fn dim_date(days: &[NaiveDate]) -> Table {
    let d = days;
    let num = |name: &str, f: &dyn Fn(&NaiveDate) -> i64| int(name, d.iter().map(|x| Some(f(x))));
    let date = |name: &str, f: &dyn Fn(&NaiveDate) -> NaiveDate| {
        Column::new(
            name,
            ColumnData::Date(d.iter().map(|x| Some(f(x))).collect()),
        )
    };
    let text =
        |name: &str, f: &dyn Fn(&NaiveDate) -> String| utf8(name, d.iter().map(|x| Some(f(x))));
    let label = |name: &str, p: Period| text(name, &|x| p.label(*x));
    Table {
        name: "dim_date".into(),
        columns: vec![
            date("date", &|x| *x),
            num("year", &|x| i64::from(x.year())),
            num("quarter", &|x| i64::from((x.month() - 1) / 3 + 1)),
            num("month", &|x| i64::from(x.month())),
            text("month_name", &|x| MONTHS[x.month0() as usize].to_string()),
            num("day", &|x| i64::from(x.day())),
            num("day_of_week", &|x| {
                i64::from(x.weekday().number_from_monday())
            }),
            text("day_name", &|x| {
                DAYS[x.weekday().num_days_from_monday() as usize].to_string()
            }),
            num("iso_year", &|x| i64::from(x.iso_week().year())),
            num("iso_week", &|x| i64::from(x.iso_week().week())),
            date("week_start", &|x| Period::Week.start(*x)),
            date("month_start", &|x| Period::Month.start(*x)),
            date("quarter_start", &|x| Period::Quarter.start(*x)),
            label("day_label", Period::Day),
            label("week_label", Period::Week),
            label("month_label", Period::Month),
            label("quarter_label", Period::Quarter),
        ],
    }
}

/// `topic_driver`.
pub fn topic_driver(drivers: &[DriverTable], min_n: u64) -> Table {
    let mut rows = Vec::new();
    for table in drivers {
        for d in &table.drivers {
            let rank = |list: &[crate::stats::drivers::Driver]| {
                list.iter()
                    .position(|x| x.topic == d.topic)
                    .map(|p| p as i64 + 1)
            };
            rows.push((
                table.scope,
                d.clone(),
                rank(&table.ranking.low),
                rank(&table.ranking.high),
            ));
        }
    }
    let direction = |d: &crate::stats::drivers::Driver| {
        serde_json::to_value(d.direction)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    };
    Table {
        name: "topic_driver".into(),
        columns: vec![
            utf8("topic_id", rows.iter().map(|r| Some(r.1.topic.clone()))),
            utf8("scope", rows.iter().map(|r| Some(r.0.as_str().to_string()))),
            int("mentions", rows.iter().map(|r| Some(r.1.mentions as i64))),
            float(
                "share_of_detractors",
                rows.iter().map(|r| r.1.share_of_detractors),
            ),
            float(
                "share_of_promoters",
                rows.iter().map(|r| r.1.share_of_promoters),
            ),
            float("nps_mentions", rows.iter().map(|r| r.1.nps_mentions)),
            float("nps_without", rows.iter().map(|r| r.1.nps_without)),
            float("impact", rows.iter().map(|r| r.1.impact)),
            float("impact_ci_low", rows.iter().map(|r| r.1.impact_ci_low)),
            float("impact_ci_high", rows.iter().map(|r| r.1.impact_ci_high)),
            utf8("direction", rows.iter().map(|r| direction(&r.1))),
            boolean("suppressed", rows.iter().map(|r| Some(r.1.suppressed))),
            int("min_n", rows.iter().map(|_| Some(min_n as i64))),
            int("rank_low", rows.iter().map(|r| r.2)),
            int("rank_high", rows.iter().map(|r| r.3)),
        ],
    }
}

/// `rejects`: the rows that could not be read, with where and why.
pub fn rejects(source: &str, r: &[Reject]) -> Table {
    Table {
        name: "rejects".into(),
        columns: vec![
            utf8("file", r.iter().map(|_| Some(source.to_string()))),
            // Text: `12`, or `12-14` for a record over several lines.
            utf8(
                "line",
                r.iter().map(|x| {
                    Some(if x.end_line > x.line {
                        format!("{}-{}", x.line, x.end_line)
                    } else {
                        x.line.to_string()
                    })
                }),
            ),
            utf8("column", r.iter().map(|x| x.column.clone())),
            utf8("reason", r.iter().map(|x| Some(x.reason.clone()))),
            utf8("record", r.iter().map(|x| Some(x.record.clone()))),
        ],
    }
}

/// The `segment_*` column of each segment column in `fact_response` and
/// `followup` (`None` for the date column, which has its own): `segment_`
/// and the name in snake_case, made unique in column order with `_2`,
/// `_3`… ("a b", "a-b" and "A B" all snake to `a_b`), never empty
/// (`segment_col_N` for a name without a letter or digit, N its position
/// among the segment columns).
pub fn segment_output_names(
    segment_columns: &[String],
    date_column: Option<usize>,
) -> Vec<Option<String>> {
    let bases: Vec<Option<String>> = segment_columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            (Some(c) != date_column).then(|| match snake(name) {
                s if s.is_empty() => format!("segment_col_{}", c + 1),
                s => format!("segment_{s}"),
            })
        })
        .collect();
    let given: std::collections::HashSet<&str> =
        bases.iter().flatten().map(String::as_str).collect();
    let mut used = std::collections::HashSet::new();
    bases
        .iter()
        .map(|b| {
            let base = b.as_ref()?;
            let name = if used.contains(base) {
                (2..)
                    .map(|k| format!("{base}_{k}"))
                    .find(|n| !used.contains(n) && !given.contains(n.as_str()))
                    .unwrap_or_default()
            } else {
                base.clone()
            };
            used.insert(name.clone());
            Some(name)
        })
        .collect()
}
#[cfg(test)]
mod tests {
    #[test]
    fn rejects_csv_lets_a_person_find_and_fix_the_rows() {
        use crate::input::{read_responses_from, InputOptions};
        use crate::output::table::{export_whole, CsvExporter};
        let data = b"score,comment\n11,\"too, high\"\n9,ok,extra\n";
        let ing = read_responses_from(&data[..], "in.csv", &InputOptions::default()).unwrap();
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let table = super::rejects("in.csv", &ing.rejects);
        export_whole(&CsvExporter, &table, Box::new(W(out.clone()))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.lock().unwrap()),
            "file,line,column,reason,record\n\
             in.csv,2,score,score 11 is out of range 0-10,\"11,too, high\"\n\
             in.csv,3,,\"expected 2 fields, found 3\",\"9,ok,extra\"\n"
        );
    }

    #[test]
    fn a_rejected_record_over_several_lines_names_its_line_range() {
        use crate::input::{read_responses_from, InputOptions};
        use crate::output::table::{export_whole, CsvExporter};
        let data = b"score,comment\n11,\"one\ntwo\r\nthree\"\n9,ok\nx,\"a\rb\"\n";
        let ing = read_responses_from(&data[..], "in.csv", &InputOptions::default()).unwrap();
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for W {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let table = super::rejects("in.csv", &ing.rejects);
        export_whole(&CsvExporter, &table, Box::new(W(out.clone()))).unwrap();
        let text = String::from_utf8_lossy(&out.lock().unwrap()).into_owned();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let lines: Vec<String> = r.records().map(|x| x.unwrap()[1].to_string()).collect();
        // Lines 2-4 (LF, then CRLF inside the quotes), 5, then 6-7 (a lone CR).
        assert_eq!(lines, ["2-4", "6-7"], "{text}");
    }
}
