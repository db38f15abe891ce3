//! The driver tables of `verbatim analyze`, built from
//! [`crate::stats::driver_stats::DriverAnalysis`]:
//!
//! | table | grain | key |
//! |---|---|---|
//! | `topic_driver` | topic × scope, with bootstrap columns | `topic_id`, `scope` |
//! | `key_driver` | topic (plus one row per model-level warning) | `topic_id` |
//! | `driver_change` | group (topic or `(no topic)`) of the last period's ΔNPS | `period_label`, `group` |
//! | `segment_driver` | segment value × topic | `segment_column`, `segment_value`, `topic_id` |
//! | `team_view` | team value × topic × polarity, values with n ≥ min-n | `segment_column`, `segment_value`, `topic_id`, `polarity` |
//! | `followup` | response to call back, ranked | `response_id` |
//! | `alerts` | topic × metric departing from its history | `period_label`, `topic_id`, `metric` |
//!
//! A figure that does not exist is a null, never `NaN` (the table layer
//! writes non-finite floats as nulls too).

use std::collections::HashMap;

use anyhow::Result;

use super::manifest::TableInfo;
use super::run::{TableFiles, BI_FORMATS};
use super::table::{Column, ColumnData, Table};
use super::tables::{boolean, float, int, utf8};
use super::OutputDir;
use crate::stats::alerts::Alert;
use crate::stats::bootstrap::{ImpactBootstrap, TopicImpact};
use crate::stats::driver_stats::{DriverAnalysis, PeriodChange};
use crate::stats::followup::Followup;
use crate::stats::keydrivers::{KeyDrivers, LogisticModel, LogitCoefficient};
use crate::stats::response::{DriverScope, DriverTable};
use crate::stats::segment_drivers::{MentionRate, SegmentImpact, TeamView};

/// Each item by its key; the first one where a key repeats (as a search
/// of the list would find).
fn first_by<'a, T>(items: &'a [T], key: impl Fn(&'a T) -> &'a str) -> HashMap<&'a str, &'a T> {
    let mut map = HashMap::with_capacity(items.len());
    for item in items {
        map.entry(key(item)).or_insert(item);
    }
    map
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn json_name<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

/// `topic_driver`: the table of [`super::tables::topic_driver`] plus, for
/// each row, the seeded bootstrap of its scope: `boot_impact_ci_low/high`,
/// `boot_impact_se`, `nps_mentions_ci_low/high`, `impact_se` (delta
/// method), `z`, `p_value`, `bh_significant`, `boot_replicates`.
pub fn topic_driver(
    drivers: &[DriverTable],
    min_n: u64,
    impacts: &[(DriverScope, ImpactBootstrap)],
) -> Table {
    let mut t = super::tables::topic_driver(drivers, min_n);
    let mut rows: Vec<Option<&TopicImpact>> = Vec::new();
    for table in drivers {
        let boot = impacts
            .iter()
            .find(|(s, _)| *s == table.scope)
            .map(|x| first_by(&x.1.topics, |t| t.topic.as_str()));
        for d in &table.drivers {
            rows.push(boot.as_ref().and_then(|b| b.get(d.topic.as_str()).copied()));
        }
    }
    let f = |name: &str, g: &dyn Fn(&TopicImpact) -> Option<f64>| {
        float(name, rows.iter().map(|r| r.and_then(g)))
    };
    t.columns.extend([
        f("boot_impact_ci_low", &|x| x.impact_ci_low),
        f("boot_impact_ci_high", &|x| x.impact_ci_high),
        f("boot_impact_se", &|x| x.impact_boot_se),
        f("nps_mentions_ci_low", &|x| x.nps_mentions_ci_low),
        f("nps_mentions_ci_high", &|x| x.nps_mentions_ci_high),
        f("impact_se", &|x| x.impact_se),
        f("z", &|x| x.z),
        f("p_value", &|x| x.p_value),
        boolean(
            "bh_significant",
            rows.iter().map(|r| r.and_then(|x| x.bh_significant)),
        ),
        int(
            "boot_replicates",
            rows.iter().map(|r| r.map(|x| x.valid_replicates as i64)),
        ),
    ]);
    t
}

/// `key_driver`: per topic the linear coefficient (NPS points, HC1 95% CI,
/// p), the logistic log-odds and odds ratio for detractor and promoter
/// (Wald 95% CI, p), the relative weight with its bootstrap CI, general
/// dominance, and the warnings about the topic (`warnings`: issue names,
/// `warning_messages`: sentences, both `; `-separated). Model-level
/// warnings come as extra rows with an empty `topic_id`.
pub fn key_driver(k: &KeyDrivers, topics: &[String]) -> Table {
    // One row per topic, then one per model-level warning (empty id).
    let mut ids: Vec<String> = topics.to_vec();
    ids.extend(
        k.warnings
            .iter()
            .filter(|w| w.topic.is_none())
            .map(|_| String::new()),
    );
    let mut columns = linear_columns(k, &ids);
    for (name, model) in [("detractor", &k.detractor), ("promoter", &k.promoter)] {
        columns.extend(logistic_columns(name, model, &ids));
    }
    columns.extend(relative_weight_columns(k, &ids));
    columns.extend(warning_columns(k, topics, &ids));
    Table {
        name: "key_driver".into(),
        columns,
    }
}

// Looked up by topic through maps: with 10,000 topics, a search of each
// list per topic took seconds.

/// `topic_id`, `in_model`, `n` and the linear model's columns.
fn linear_columns(k: &KeyDrivers, ids: &[String]) -> Vec<Column> {
    let lin_of = k
        .linear
        .as_ref()
        .map(|m| first_by(&m.coefficients, |c| c.topic.as_str()))
        .unwrap_or_default();
    let lin = |t: &str| lin_of.get(t).copied();
    let in_model: std::collections::HashSet<&str> =
        k.topics_in_model.iter().map(String::as_str).collect();
    vec![
        utf8("topic_id", ids.iter().map(|t| Some(t.clone()))),
        boolean(
            "in_model",
            ids.iter().map(|t| Some(in_model.contains(t.as_str()))),
        ),
        int("n", ids.iter().map(|_| Some(k.n as i64))),
        float(
            "linear_coef",
            ids.iter().map(|t| lin(t).map(|c| c.estimate)),
        ),
        float("linear_se", ids.iter().map(|t| lin(t).map(|c| c.se))),
        float(
            "linear_ci_low",
            ids.iter().map(|t| lin(t).map(|c| c.ci_low)),
        ),
        float(
            "linear_ci_high",
            ids.iter().map(|t| lin(t).map(|c| c.ci_high)),
        ),
        float(
            "linear_p_value",
            ids.iter().map(|t| lin(t).map(|c| c.p_value)),
        ),
    ]
}

/// The columns of one logistic model (`detractor_…` or `promoter_…`).
fn logistic_columns(name: &str, model: &Option<LogisticModel>, ids: &[String]) -> Vec<Column> {
    let of: HashMap<&str, &LogitCoefficient> = model
        .as_ref()
        .map(|m| first_by(&m.coefficients, |c| c.topic.as_str()))
        .unwrap_or_default();
    let coefs: Vec<Option<&LogitCoefficient>> =
        ids.iter().map(|t| of.get(t.as_str()).copied()).collect();
    let c = |f: &dyn Fn(&LogitCoefficient) -> f64| -> Vec<Option<f64>> {
        coefs.iter().map(|x| x.map(f)).collect()
    };
    vec![
        float(&format!("{name}_log_odds"), c(&|x| x.log_odds)),
        float(&format!("{name}_log_odds_ci_low"), c(&|x| x.ci_low)),
        float(&format!("{name}_log_odds_ci_high"), c(&|x| x.ci_high)),
        float(&format!("{name}_odds_ratio"), c(&|x| x.odds_ratio)),
        float(
            &format!("{name}_odds_ratio_ci_low"),
            c(&|x| x.odds_ratio_ci_low),
        ),
        float(
            &format!("{name}_odds_ratio_ci_high"),
            c(&|x| x.odds_ratio_ci_high),
        ),
        float(&format!("{name}_p_value"), c(&|x| x.p_value)),
    ]
}

/// Relative weights with their intervals, and general dominance.
fn relative_weight_columns(k: &KeyDrivers, ids: &[String]) -> Vec<Column> {
    let rw_of = first_by(&k.relative_weights, |c| c.topic.as_str());
    let rw = |t: &str| rw_of.get(t).copied();
    vec![
        float(
            "relative_weight",
            ids.iter().map(|t| rw(t).map(|r| r.weight)),
        ),
        float(
            "relative_weight_share",
            ids.iter().map(|t| rw(t).map(|r| r.share)),
        ),
        float(
            "relative_weight_ci_low",
            ids.iter().map(|t| rw(t).and_then(|r| r.ci_low)),
        ),
        float(
            "relative_weight_ci_high",
            ids.iter().map(|t| rw(t).and_then(|r| r.ci_high)),
        ),
        float(
            "general_dominance",
            ids.iter().map(|t| rw(t).and_then(|r| r.general_dominance)),
        ),
    ]
}

/// `warnings` (issue names) and `warning_messages` (sentences): a topic's
/// own on its row, each model-level warning on a row of its own.
fn warning_columns(k: &KeyDrivers, topics: &[String], ids: &[String]) -> Vec<Column> {
    let mut warnings_of: HashMap<&str, Vec<&crate::stats::keydrivers::Warning>> = HashMap::new();
    for w in &k.warnings {
        if let Some(t) = &w.topic {
            warnings_of.entry(t.as_str()).or_default().push(w);
        }
    }
    let model_warnings: Vec<_> = k.warnings.iter().filter(|w| w.topic.is_none()).collect();
    let text = |w: &crate::stats::keydrivers::Warning, msg: bool| {
        if msg {
            w.message.clone()
        } else {
            json_name(&w.issue).unwrap_or_default()
        }
    };
    let warn = |i: usize, t: &str, msg: bool| -> Option<String> {
        let list: Vec<String> = if i < topics.len() {
            warnings_of
                .get(t)
                .into_iter()
                .flatten()
                .map(|w| text(w, msg))
                .collect()
        } else {
            vec![text(model_warnings[i - topics.len()], msg)]
        };
        Some(list.join("; "))
    };
    vec![
        utf8(
            "warnings",
            ids.iter().enumerate().map(|(i, t)| warn(i, t, false)),
        ),
        utf8(
            "warning_messages",
            ids.iter().enumerate().map(|(i, t)| warn(i, t, true)),
        ),
    ]
}

/// `driver_change`: ΔNPS from the period before the last to the last, one
/// row per topic and one for the remainder `(no topic)`; `total` sums to
/// `delta_nps` over the rows. Empty when there is no such pair of periods.
pub fn driver_change(change: Option<&PeriodChange>) -> Table {
    let (c, parts): (Option<&PeriodChange>, Vec<_>) = match change {
        Some(c) => (
            Some(c),
            c.shift.topics.iter().chain([&c.shift.remainder]).collect(),
        ),
        None => (None, Vec::new()),
    };
    let each = |f: &dyn Fn(&PeriodChange) -> Option<String>| {
        parts.iter().map(move |_| c.and_then(f)).collect::<Vec<_>>()
    };
    let num =
        |f: &dyn Fn(&PeriodChange) -> f64| parts.iter().map(move |_| c.map(f)).collect::<Vec<_>>();
    Table {
        name: "driver_change".into(),
        columns: vec![
            utf8("period", each(&|c| json_name(&c.period))),
            utf8("period_label_before", each(&|c| s(&c.before_label))),
            utf8("period_label", each(&|c| s(&c.after_label))),
            Column::new(
                "period_start_date",
                ColumnData::Date(parts.iter().map(|_| c.map(|c| c.after_start)).collect()),
            ),
            utf8("group", parts.iter().map(|p| s(&p.group))),
            boolean(
                "is_remainder",
                parts
                    .iter()
                    .map(|p| Some(p.group == crate::stats::shift_share::REMAINDER)),
            ),
            int(
                "n_before",
                num(&|c| c.shift.n_before as f64)
                    .into_iter()
                    .map(|x| x.map(|v| v as i64)),
            ),
            int(
                "n_after",
                num(&|c| c.shift.n_after as f64)
                    .into_iter()
                    .map(|x| x.map(|v| v as i64)),
            ),
            float("nps_before_overall", num(&|c| c.shift.nps_before)),
            float("nps_after_overall", num(&|c| c.shift.nps_after)),
            float("delta_nps", num(&|c| c.shift.delta)),
            float("share_before", parts.iter().map(|p| Some(p.share_before))),
            float("share_after", parts.iter().map(|p| Some(p.share_after))),
            float("nps_before", parts.iter().map(|p| p.nps_before)),
            float("nps_after", parts.iter().map(|p| p.nps_after)),
            float("mix", parts.iter().map(|p| Some(p.mix))),
            float("rate", parts.iter().map(|p| Some(p.rate))),
            float("total", parts.iter().map(|p| Some(p.total))),
        ],
    }
}

/// `segment_driver`: each segment value × topic, impact in the value vs
/// the rest of its column, z, p and the BH flag (null when suppressed).
pub fn segment_driver(rows: &[SegmentImpact]) -> Table {
    Table {
        name: "segment_driver".into(),
        columns: vec![
            utf8("segment_column", rows.iter().map(|r| s(&r.column))),
            utf8("segment_value", rows.iter().map(|r| s(&r.value))),
            utf8("topic_id", rows.iter().map(|r| s(&r.topic))),
            int("n", rows.iter().map(|r| Some(r.n as i64))),
            int("n_rest", rows.iter().map(|r| Some(r.n_rest as i64))),
            int(
                "mentions",
                rows.iter()
                    .map(|r| (!r.withheld).then_some(r.mentions as i64)),
            ),
            int(
                "mentions_rest",
                rows.iter()
                    .map(|r| (!r.withheld).then_some(r.mentions_rest as i64)),
            ),
            float("impact", rows.iter().map(|r| r.impact)),
            float("impact_rest", rows.iter().map(|r| r.impact_rest)),
            float("diff", rows.iter().map(|r| r.diff)),
            float("se", rows.iter().map(|r| r.se)),
            float("z", rows.iter().map(|r| r.z)),
            float("p_value", rows.iter().map(|r| r.p_value)),
            boolean("suppressed", rows.iter().map(|r| Some(r.suppressed))),
            boolean("bh_significant", rows.iter().map(|r| r.bh_significant)),
        ],
    }
}

/// `team_view`: for each team value with at least `min_n` responses, each
/// topic × polarity mention rate against the rest; `reading` is
/// `praised_for` (positive, significantly above the rest), `coaching`
/// (negative, significantly above) or null.
pub fn team_view(view: &TeamView, min_n: u64) -> Table {
    let rows: Vec<&MentionRate> = view.rows.iter().filter(|r| r.n >= min_n).collect();
    let reading = |r: &MentionRate| {
        if !r.above {
            return None;
        }
        match r.polarity {
            crate::classify::Polarity::Positive => s("praised_for"),
            crate::classify::Polarity::Negative => s("coaching"),
            crate::classify::Polarity::Neutral => None,
        }
    };
    Table {
        name: "team_view".into(),
        columns: vec![
            utf8("segment_column", rows.iter().map(|r| s(&r.column))),
            utf8("segment_value", rows.iter().map(|r| s(&r.value))),
            utf8("topic_id", rows.iter().map(|r| s(&r.topic))),
            utf8("polarity", rows.iter().map(|r| s(r.polarity.as_str()))),
            int("n", rows.iter().map(|r| Some(r.n as i64))),
            int("n_rest", rows.iter().map(|r| Some(r.n_rest as i64))),
            int("mentions", rows.iter().map(|r| Some(r.mentions as i64))),
            int(
                "mentions_rest",
                rows.iter().map(|r| Some(r.mentions_rest as i64)),
            ),
            float("rate", rows.iter().map(|r| r.rate)),
            float("rate_rest", rows.iter().map(|r| r.rate_rest)),
            float("diff", rows.iter().map(|r| r.diff)),
            float("z", rows.iter().map(|r| r.z)),
            float("p_value", rows.iter().map(|r| r.p_value)),
            boolean("suppressed", rows.iter().map(|r| Some(r.suppressed))),
            boolean("bh_significant", rows.iter().map(|r| r.bh_significant)),
            utf8("reading", rows.iter().map(|r| reading(r))),
        ],
    }
}

/// `followup`: the ranked call-back list (rank 1 = highest churn risk).
/// Carries the comment, through [`crate::stats::followup::followup_comment_text`].
pub fn followup(
    rows: &[Followup],
    segment_columns: &[String],
    date_column: Option<usize>,
) -> Table {
    let mut columns = vec![
        int("rank", (1..=rows.len()).map(|i| Some(i as i64))),
        utf8("response_id", rows.iter().map(|r| s(&r.response_id))),
        int("source_line", rows.iter().map(|r| Some(r.line as i64))),
        int("score", rows.iter().map(|r| Some(i64::from(r.score)))),
        utf8("bucket", rows.iter().map(|r| s(r.bucket.as_str()))),
        Column::new(
            "response_date",
            ColumnData::Date(rows.iter().map(|r| r.date).collect()),
        ),
        float("sentiment_score", rows.iter().map(|r| r.sentiment_score)),
        utf8("topics", rows.iter().map(|r| Some(r.topics.join("; ")))),
        utf8("signals", rows.iter().map(|r| Some(r.signals.join("; ")))),
        int(
            "signal_count",
            rows.iter().map(|r| Some(r.signals.len() as i64)),
        ),
        float("risk_score", rows.iter().map(|r| Some(r.risk))),
    ];
    for (c, name) in crate::output::tables::segment_output_names(segment_columns, date_column)
        .into_iter()
        .enumerate()
    {
        let Some(name) = name else { continue };
        columns.push(utf8(&name, rows.iter().map(|r| r.segments.get(c).cloned())));
    }
    columns.push(utf8(
        "comment",
        rows.iter().map(|r| Some(r.comment.clone())),
    ));
    Table {
        name: "followup".into(),
        columns,
    }
}

/// `alerts`: the fired alerts with their figures.
pub fn alerts(rows: &[Alert], z_threshold: f64) -> Table {
    Table {
        name: "alerts".into(),
        columns: vec![
            utf8("period_label", rows.iter().map(|r| s(&r.period_label))),
            Column::new(
                "period_start_date",
                ColumnData::Date(rows.iter().map(|r| Some(r.period_start)).collect()),
            ),
            utf8("topic_id", rows.iter().map(|r| s(&r.topic))),
            utf8("metric", rows.iter().map(|r| s(r.metric.as_str()))),
            utf8(
                "direction",
                rows.iter()
                    .map(|r| s(if r.z > 0.0 { "up" } else { "down" })),
            ),
            float("value", rows.iter().map(|r| Some(r.value))),
            float("history_mean", rows.iter().map(|r| Some(r.history_mean))),
            float("history_sd", rows.iter().map(|r| Some(r.history_sd))),
            int(
                "history_periods",
                rows.iter().map(|r| Some(r.history_periods as i64)),
            ),
            float("se_last", rows.iter().map(|r| Some(r.se_last))),
            float("z", rows.iter().map(|r| Some(r.z))),
            float("z_threshold", rows.iter().map(|_| Some(z_threshold))),
            int("n", rows.iter().map(|r| Some(r.n as i64))),
            int("mentions", rows.iter().map(|r| Some(r.mentions as i64))),
        ],
    }
}

/// What the driver tables read besides the analysis: the run's topics,
/// thresholds and input columns.
pub struct DriverTableContext<'a> {
    /// Topic ids, in index order.
    pub topics: &'a [String],
    /// Minimum base below which figures are suppressed.
    pub min_n: u64,
    /// z threshold of the alerts.
    pub alert_z: f64,
    /// Segment columns of the input, echoed in `followup`.
    pub segment_columns: &'a [String],
    /// The input's date column, if any.
    pub date_column: Option<usize>,
}

/// Writes every driver table (Parquet and CSV) into `out`.
pub fn write_driver_tables(
    out: &OutputDir,
    a: &DriverAnalysis,
    drivers: &[DriverTable],
    run: &DriverTableContext,
) -> Result<Vec<TableInfo>> {
    let tables = [
        topic_driver(drivers, run.min_n, &a.impacts),
        key_driver(&a.key, run.topics),
        driver_change(a.change.as_ref()),
        segment_driver(&a.segments),
        team_view(&a.team, run.min_n),
        followup(&a.followups, run.segment_columns, run.date_column),
        alerts(&a.alerts, run.alert_z),
    ];
    tables
        .iter()
        .map(|t| TableFiles::write_whole(out, t, &BI_FORMATS))
        .collect()
}
