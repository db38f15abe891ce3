//! The CSV tables and the JSON summary of a run.
//!
//! Writers take an [`Analysis`] and any `io::Write`, so tests can write into a
//! `Vec<u8>`. Column names are snake_case and stable; comment text is not
//! written by default (it carries personal data), the `response_id` joins back
//! to the export.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::classify::Taxonomy;
use crate::pipeline::Analysis;

/// `responses.csv`: one row per analysed response.
pub fn write_responses<W: Write>(w: W, a: &Analysis, tax: &Taxonomy) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let mut header: Vec<String> = [
        "response_id",
        "source_line",
        "score",
        "bucket",
        "nps_code",
        "has_comment",
        "sentiment",
        "sentiment_score",
        "sentiment_confidence",
        "clause_count",
        "topic_count",
        "topics",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(
        a.segment_columns
            .iter()
            .map(|c| format!("segment_{}", snake(c))),
    );
    csv.write_record(&header)?;
    for r in &a.responses {
        let mut row = vec![
            r.response.id.clone(),
            r.response.line.to_string(),
            r.response.score.to_string(),
            r.bucket.as_str().to_string(),
            (r.bucket.code() as i32 * 100).to_string(),
            r.analysis.is_some().to_string(),
        ];
        match &r.analysis {
            Some(an) => {
                row.push(an.sentiment.label.as_str().into());
                row.push(format!("{:.4}", an.sentiment.score));
                row.push(format!("{:.4}", an.sentiment.confidence));
                row.push(an.clauses.len().to_string());
                row.push(an.topics.len().to_string());
                row.push(
                    an.topics
                        .iter()
                        .map(|h| tax.topics[h.topic].id.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                );
            }
            None => row.extend(["", "", "", "0", "0", ""].map(String::from)),
        }
        row.extend(r.response.segments.iter().cloned());
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

/// `response_topics.csv`: one row per response × topic.
pub fn write_response_topics<W: Write>(w: W, a: &Analysis, tax: &Taxonomy) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "response_id",
        "topic_id",
        "topic_label",
        "parent_topic_id",
        "polarity",
        "similarity",
        "clause_index",
        "allocation_weight",
        "bucket",
    ])?;
    for r in &a.responses {
        let Some(an) = &r.analysis else { continue };
        let k = an.topics.len().max(1) as f64;
        for h in &an.topics {
            let t = &tax.topics[h.topic];
            csv.write_record([
                r.response.id.as_str(),
                t.id.as_str(),
                t.display_label(),
                t.parent.as_deref().unwrap_or(""),
                h.polarity.as_str(),
                &format!("{:.4}", h.similarity),
                &h.clause.to_string(),
                &format!("{:.4}", 1.0 / k),
                r.bucket.as_str(),
            ])?;
        }
    }
    csv.flush()?;
    Ok(())
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_default()
}

fn opt_share(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// `drivers.csv`: one row per topic and scope (any / negative / positive).
pub fn write_drivers<W: Write>(w: W, a: &Analysis, tax: &Taxonomy) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record([
        "topic_id",
        "topic_label",
        "scope",
        "mentions",
        "share_of_detractors",
        "share_of_promoters",
        "nps_mentions",
        "nps_without",
        "impact",
        "impact_ci_low",
        "impact_ci_high",
        "direction",
        "suppressed",
        "rank_low",
        "rank_high",
    ])?;
    for table in &a.drivers {
        for d in &table.drivers {
            let label = tax
                .topics
                .iter()
                .find(|t| t.id == d.topic)
                .map_or(d.topic.as_str(), |t| t.display_label());
            let rank_of = |list: &[crate::drivers::Driver]| {
                list.iter()
                    .position(|x| x.topic == d.topic)
                    .map(|p| (p + 1).to_string())
                    .unwrap_or_default()
            };
            let direction = serde_json::to_value(d.direction)?;
            csv.write_record([
                d.topic.as_str(),
                label,
                table.scope.as_str(),
                &d.mentions.to_string(),
                &opt_share(d.share_of_detractors),
                &opt_share(d.share_of_promoters),
                &opt(d.nps_mentions),
                &opt(d.nps_without),
                &opt(d.impact),
                &opt(d.impact_ci_low),
                &opt(d.impact_ci_high),
                direction.as_str().unwrap_or(""),
                &d.suppressed.to_string(),
                &rank_of(&table.ranking.low),
                &rank_of(&table.ranking.high),
            ])?;
        }
    }
    csv.flush()?;
    Ok(())
}

/// Facts about the run for `summary.json`.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub tool: String,
    pub started_at: String,
    pub input: String,
    pub input_sha256: String,
    pub read: u64,
    pub analysed: usize,
    pub rejected: usize,
    pub with_comment: usize,
    pub nps: Option<f64>,
    pub nps_ci95: Option<(f64, f64)>,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub model: String,
    pub model_sha256: String,
    pub precision: String,
    pub taxonomy: String,
    pub taxonomy_version: String,
    pub sentiment_prototypes_version: String,
    pub min_n: u64,
    pub topic_threshold: f32,
    pub texts_embedded: usize,
    pub embed_seconds: f64,
    pub texts_per_second: f64,
    pub total_seconds: f64,
}

/// Lower-case snake_case of a column name, for BI tools.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_us = true;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && !prev_us && !out.is_empty() {
                let last = out.chars().last().unwrap_or('_');
                if last.is_lowercase() {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
            prev_us = false;
        } else if !prev_us {
            out.push('_');
            prev_us = true;
        }
    }
    out.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_names() {
        assert_eq!(super::snake("OverallRating"), "overall_rating");
        assert_eq!(super::snake("Agent Name"), "agent_name");
        assert_eq!(super::snake("queue"), "queue");
    }
}
