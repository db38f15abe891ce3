//! `views.sql`: SQL views over a run's tables, for DuckDB, written into the
//! output folder beside them.
//!
//! The file reads the Parquet files by paths relative to the folder (CSV
//! for a table written only as CSV, `rejects`), so it runs as is from
//! inside the folder, wherever the folder was copied:
//! `cd out && duckdb -c ".read views.sql"`, or in Python
//! `os.chdir(out); con.execute(open("views.sql").read())`. It makes one
//! plain view per table, named as the table, then the named views a
//! manager's dashboard starts from:
//!
//! | view | over | one row per |
//! |---|---|---|
//! | `nps_by_period_and_segment` | `agg_nps` | `agg_nps` row, with readable names and shares |
//! | `drivers_with_topics` | `topic_driver` ⋈ `dim_topic` | `topic_driver` row, with the topic's and its parent's label |
//! | `nps_change_by_topic` | `driver_change` ⋈ `dim_topic` | `driver_change` row, with the group's label |
//! | `responses_with_topics` | `fact_response` ⟕ `bridge_response_topic` ⟕ `dim_topic` | bridge row, plus one per response without a topic (`topic_id` [`NO_TOPIC`], `allocation_weight` 1) |
//! | `topics_by_period` | `agg_topic` ⟕ `dim_topic` | `agg_topic` row, with the topic's label and readable period names |
//!
//! Every statement is `CREATE OR REPLACE VIEW`, so the file can be run
//! again on the same database.

use super::manifest::TableInfo;
use super::tables::NO_TOPIC;

/// The file's name in the output folder.
pub const FILE: &str = "views.sql";

/// What the file says first: what it is and how to run it.
const HEADER: &str = "\
-- views.sql: SQL views over the tables of this verbatim run, for DuckDB.
--
-- The paths below are relative to this folder: run the file from inside it.
--   cd <this folder> && duckdb -init views.sql        (a DuckDB shell with the views)
--   cd <this folder> && duckdb -c \".read views.sql\"   (runs the statements and ends)
--   Python: os.chdir(folder); con = duckdb.connect(); con.execute(open(\"views.sql\").read())
-- Saved into a database file (duckdb run.duckdb -c \".read views.sql\"), the views
-- still read the files by these relative paths: query them from this folder.
--
-- One plain view per table, named as the table (fact_response, agg_nps, ...),
-- then the named views:
--   nps_by_period_and_segment  NPS per segment value and period, readable names
--   drivers_with_topics        topic_driver with the topic labels of dim_topic
--   nps_change_by_topic        driver_change with the topic labels of dim_topic
--   responses_with_topics      each response with each of its topics; a response
--                              without a topic once, as topic '(no topic)'
--   topics_by_period           agg_topic (mentions, share of comments, sentiment
--                              mix per topic and period) with the topic labels
";

/// The text of `views.sql` for the tables of a run: a plain view for each
/// table written as Parquet (or, failing that, as CSV), then each named
/// view whose tables are all among them.
pub fn views_sql(tables: &[TableInfo]) -> String {
    let mut sql = String::from(HEADER);
    sql.push_str("\n-- Every table by its name.\n");
    let mut have = Vec::new();
    for t in tables {
        let file = |ext: &str| {
            let name = format!("{}.{ext}", t.name);
            t.files.contains(&name).then_some(name)
        };
        let source = match (file("parquet"), file("csv")) {
            (Some(p), _) => format!("read_parquet({})", literal(&p)),
            // Written for a person only (`rejects`): every column is text.
            (None, Some(c)) => format!(
                "read_csv({}, header = true, all_varchar = true)",
                literal(&c)
            ),
            (None, None) => continue,
        };
        sql.push_str(&format!(
            "CREATE OR REPLACE VIEW {} AS SELECT * FROM {source};\n",
            t.name
        ));
        have.push(t.name.as_str());
    }
    for (needs, view) in named_views() {
        if needs.iter().all(|n| have.contains(n)) {
            sql.push('\n');
            sql.push_str(&view);
        }
    }
    sql
}

/// A SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The view `topics_by_period`.
const TOPICS_BY_PERIOD: &str = "\
-- Topics by period with their labels: one row per agg_topic row. The whole run
-- has is_whole_run true (in agg_topic: period IS NULL). A response counts once
-- per topic; shares of overlapping topics do not add up to 100%.
CREATE OR REPLACE VIEW topics_by_period AS
SELECT
    a.topic_id,
    t.label AS topic_label,
    coalesce(a.period, 'whole run') AS period_kind,
    coalesce(a.period_label, 'Whole run') AS period,
    a.period_start_date AS period_start,
    a.period IS NULL AS is_whole_run,
    a.responses,
    a.comments,
    a.mentions,
    100.0 * a.share_of_comments AS share_of_comments_pct,
    a.positive,
    a.neutral,
    a.negative,
    a.net_sentiment,
    a.suppressed AS small_base
FROM agg_topic AS a
LEFT JOIN dim_topic AS t ON t.topic_id = a.topic_id;
";

/// Each named view with the tables it reads.
fn named_views() -> [(&'static [&'static str], String); 5] {
    let no_topic = literal(NO_TOPIC);
    [
        (
            &["agg_nps"],
            "\
-- NPS by period and segment: one row per agg_nps row. The row of all responses
-- over the whole run has is_all_responses and is_whole_run both true (in agg_nps:
-- segment_column IS NULL AND period IS NULL).
CREATE OR REPLACE VIEW nps_by_period_and_segment AS
SELECT
    coalesce(segment_column, 'All responses') AS segment,
    CASE
        WHEN segment_column IS NULL THEN 'All responses'
        WHEN segment_value = '' THEN '(blank)'
        ELSE segment_value
    END AS segment_value,
    coalesce(period, 'whole run') AS period_kind,
    coalesce(period_label, 'Whole run') AS period,
    period_start_date AS period_start,
    segment_column IS NULL AS is_all_responses,
    period IS NULL AS is_whole_run,
    n AS responses,
    promoters,
    passives,
    detractors,
    100.0 * promoters / nullif(n, 0) AS promoters_pct,
    100.0 * passives / nullif(n, 0) AS passives_pct,
    100.0 * detractors / nullif(n, 0) AS detractors_pct,
    nps,
    nps_ci_low,
    nps_ci_high,
    suppressed AS small_base,
    comparison AS compared_with,
    diff AS nps_difference,
    p_value,
    bh_significant AS significant
FROM agg_nps;
"
            .to_string(),
        ),
        (
            &["topic_driver", "dim_topic"],
            "\
-- Topic drivers with their labels: one row per topic_driver row.
CREATE OR REPLACE VIEW drivers_with_topics AS
SELECT
    d.topic_id,
    t.label AS topic_label,
    t.parent_topic_id,
    p.label AS parent_topic_label,
    d.* EXCLUDE (topic_id)
FROM topic_driver AS d
LEFT JOIN dim_topic AS t ON t.topic_id = d.topic_id
LEFT JOIN dim_topic AS p ON p.topic_id = t.parent_topic_id;
"
            .to_string(),
        ),
        (
            &["driver_change", "dim_topic"],
            "\
-- The change in NPS between the last two periods, by topic, with labels: one row
-- per driver_change row (its group is a topic id or '(no topic)').
CREATE OR REPLACE VIEW nps_change_by_topic AS
SELECT
    c.\"group\" AS topic_id,
    t.label AS topic_label,
    c.* EXCLUDE (\"group\")
FROM driver_change AS c
LEFT JOIN dim_topic AS t ON t.topic_id = c.\"group\";
"
            .to_string(),
        ),
        (
            &["fact_response", "bridge_response_topic", "dim_topic"],
            format!(
                "\
-- Each response with each of its topics: one row per bridge_response_topic row,
-- plus one row per response without a topic (no comment, or no topic found),
-- with topic_id {no_topic}, question NULL and allocation_weight 1. question is
-- the open question whose answer holds the topic. allocation_weight sums to 1
-- per response: sum(allocation_weight) counts responses without double counting.
CREATE OR REPLACE VIEW responses_with_topics AS
SELECT
    f.*,
    b.question AS question,
    coalesce(b.topic_id, {no_topic}) AS topic_id,
    t.label AS topic_label,
    b.polarity AS topic_polarity,
    b.confidence AS topic_confidence,
    b.clause_index AS topic_clause_index,
    coalesce(b.allocation_weight, 1.0) AS allocation_weight
FROM fact_response AS f
LEFT JOIN bridge_response_topic AS b ON b.response_id = f.response_id
LEFT JOIN dim_topic AS t ON t.topic_id = coalesce(b.topic_id, {no_topic});
"
            ),
        ),
        (&["agg_topic", "dim_topic"], TOPICS_BY_PERIOD.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, exts: &[&str]) -> TableInfo {
        TableInfo {
            name: name.into(),
            rows: 0,
            files: exts.iter().map(|e| format!("{name}.{e}")).collect(),
            note: None,
        }
    }

    #[test]
    fn plain_views_read_the_files_by_relative_paths_and_named_views_need_their_tables() {
        let sql = views_sql(&[
            table("agg_nps", &["parquet", "csv"]),
            table("rejects", &["csv"]),
            table("topic_driver", &["parquet", "csv"]),
        ]);
        assert!(sql.starts_with("-- views.sql"), "{sql}");
        assert!(sql.contains(
            "CREATE OR REPLACE VIEW agg_nps AS SELECT * FROM read_parquet('agg_nps.parquet');"
        ));
        assert!(sql.contains("CREATE OR REPLACE VIEW rejects AS SELECT * FROM read_csv('rejects.csv', header = true, all_varchar = true);"));
        assert!(sql.contains("VIEW nps_by_period_and_segment AS"));
        // dim_topic is missing: no view that joins it.
        assert!(!sql.contains("VIEW drivers_with_topics"), "{sql}");
        assert!(!sql.contains("VIEW responses_with_topics"), "{sql}");
        // Every file is read by its plain name, relative to the folder.
        let paths: Vec<&str> = ["read_parquet('", "read_csv('"]
            .iter()
            .flat_map(|f| sql.split(f).skip(1))
            .filter_map(|rest| rest.split('\'').next())
            .collect();
        assert!(paths.len() >= 3, "{paths:?}");
        assert!(
            paths.iter().all(|p| super::super::owned::plain_name(p)),
            "{paths:?}"
        );
        assert_eq!(literal("it's"), "'it''s'");
    }
}
