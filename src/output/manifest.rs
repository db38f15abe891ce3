//! `manifest.json`: what a run read, used and wrote, for audit and for the
//! BI refresh job (it can check `counts` and `tables` before loading).

use serde::Serialize;

/// The run manifest.
#[derive(Debug, Serialize)]
pub struct RunManifest {
    pub run_id: String,
    pub tool: String,
    pub started_at: String,
    pub finished_at: String,
    pub input: InputInfo,
    pub counts: Counts,
    pub nps: NpsInfo,
    pub model: ModelInfo,
    pub taxonomy: TaxonomyInfo,
    pub sentiment: SentimentInfo,
    pub thresholds: Thresholds,
    pub timings: Timings,
    /// The embedding cache, when `--cache` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheInfo>,
    pub tables: Vec<TableInfo>,
}

/// The embedding cache a run used: texts of the pass (comments and clauses,
/// distinct per chunk) found in it, and embedded anew.
#[derive(Debug, Serialize)]
pub struct CacheInfo {
    pub path: String,
    pub hits: u64,
    pub misses: u64,
}

/// Which sentiment head the run used, and where it came from.
#[derive(Debug, Serialize)]
pub struct SentimentInfo {
    pub origin: crate::classify::head::HeadOrigin,
    pub provenance: crate::classify::head::Provenance,
    pub temperature: f32,
}

impl SentimentInfo {
    /// The head shipped for the default model (for reports built by hand).
    pub fn shipped() -> SentimentInfo {
        let h = crate::classify::head::SentimentHead::default_head();
        SentimentInfo {
            origin: crate::classify::head::HeadOrigin::Shipped,
            provenance: h.provenance,
            temperature: h.temperature,
        }
    }
}

/// The input file and how it was read.
#[derive(Debug, Serialize)]
pub struct InputInfo {
    pub path: String,
    pub sha256: String,
    pub format: String,
    pub encoding: String,
    pub delimiter: Option<String>,
    pub score_column: String,
    pub text_column: String,
    pub id_column: Option<String>,
    pub date_column: Option<String>,
    pub segment_columns: Vec<String>,
    pub aggregated_segment_columns: Vec<String>,
    pub scale: String,
}

/// Row accounting: `read = analysed + rejected`.
#[derive(Debug, Serialize)]
pub struct Counts {
    pub read: u64,
    pub analysed: u64,
    pub rejected: u64,
    pub reject_rate: f64,
    pub with_comment: u64,
    pub unparsed_dates: u64,
    /// Detractors with a positive comment plus promoters with a negative one.
    pub sentiment_mismatch: u64,
    /// Responses that qualified for follow-up, and how many were kept.
    pub followup_candidates: u64,
    pub followups: u64,
    /// Alerts fired in the last period.
    pub alerts: u64,
}

/// NPS of the whole run.
#[derive(Debug, Serialize)]
pub struct NpsInfo {
    pub nps: Option<f64>,
    pub ci95: Option<(f64, f64)>,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
}

/// The encoder.
#[derive(Debug, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub path: String,
    pub sha256: String,
    pub precision: String,
}

/// The taxonomy.
#[derive(Debug, Serialize)]
pub struct TaxonomyInfo {
    pub name: String,
    pub version: String,
    pub topics: usize,
}

/// Thresholds in force.
#[derive(Debug, Serialize)]
pub struct Thresholds {
    pub min_n: u64,
    pub fdr_q: f64,
    pub max_reject_rate: Option<f64>,
    pub topic_threshold: f32,
    pub topic_margin: f32,
    pub topic_min_gap: f32,
}

/// Where the time went.
#[derive(Debug, Serialize)]
pub struct Timings {
    pub texts_embedded: usize,
    pub embed_seconds: f64,
    pub texts_per_second: f64,
    pub total_seconds: f64,
}

/// One written table.
#[derive(Debug, Serialize)]
pub struct TableInfo {
    pub name: String,
    pub rows: usize,
    pub files: Vec<String>,
}
