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
    /// `nps`, or `topics_only` for a run without scores (`--no-score`).
    pub mode: crate::input::Mode,
    /// What a `topics_only` run left out and why; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_note: Option<String>,
    pub input: InputInfo,
    pub counts: Counts,
    /// Null in a run without scores.
    pub nps: Option<NpsInfo>,
    pub model: ModelInfo,
    pub taxonomy: TaxonomyInfo,
    pub sentiment: SentimentInfo,
    pub topics: TopicsInfo,
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

/// Where the run's sentiment came from: `"kind": "head"` with the head's
/// origin and provenance, or `"kind": "model"` with the sentiment model's
/// folder, checksums and label mapping (`--sentiment-model`).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SentimentInfo {
    /// The logistic-regression head on the encoder's vectors.
    Head {
        origin: crate::classify::head::HeadOrigin,
        provenance: crate::classify::head::Provenance,
        temperature: f32,
    },
    /// A fine-tuned classification model.
    Model(crate::classify::sentiment_model::SentimentModelInfo),
}

impl SentimentInfo {
    /// The head shipped for the default model (for reports built by hand).
    pub fn shipped() -> SentimentInfo {
        let h = crate::classify::head::SentimentHead::default_head();
        SentimentInfo::Head {
            origin: crate::classify::head::HeadOrigin::Shipped,
            provenance: h.provenance,
            temperature: h.temperature,
        }
    }
}

/// How topics were decided: the calibration and where it came from, or
/// the similarity rule (`thresholds.topic_*`) when none applied.
#[derive(Debug, Serialize)]
pub struct TopicsInfo {
    /// `calibrated` or `similarity`.
    pub rule: String,
    pub calibration: crate::classify::calibration::CalibrationOrigin,
    pub provenance: Option<crate::classify::calibration::CalibrationProvenance>,
    /// Each topic's threshold on the calibrated probability.
    pub thresholds: Option<std::collections::BTreeMap<String, f32>>,
    /// `--topic-threshold`, which replaces every topic's threshold.
    pub threshold_override: Option<f32>,
    /// The generic verdicts that bar a clause from a topic; null where the
    /// taxonomy turns them off (`generic_verdicts = false`).
    pub generic_phrases: Option<crate::classify::topics::GenericInfo>,
    /// The fine-tuned topic model that decided topics instead of the
    /// calibration, when one did.
    pub topic_model: Option<TopicModelInfo>,
}

/// The manifest's record of a fine-tuned topic model.
#[derive(Debug, Serialize)]
pub struct TopicModelInfo {
    /// `shipped` (for the default taxonomy and model) or `file`
    /// (`--topic-model DIR`).
    pub kind: &'static str,
    pub folder: String,
    pub weights_sha256: String,
    /// Tuned top layers.
    pub layers: usize,
    /// The folder's threshold (`threshold_override` replaces it).
    pub threshold: f32,
    pub training: Vec<crate::classify::head::TrainingSource>,
    pub labelled_rows: usize,
    pub example_rows: usize,
    /// Out-of-fold micro precision, recall and F1 on the labelled comments.
    pub held_out_micro: Option<[f64; 3]>,
    /// The calibrated probability at which the calibration (`calibration`)
    /// adds a topic the branch missed; null without a calibration.
    pub calibration_backup_at: Option<f32>,
    /// Whether the taxonomy's `must` keywords gate the model's topics, and
    /// how that was chosen (`topic-model.json`).
    pub must_gates: bool,
    pub must_gates_rule: String,
}

impl TopicModelInfo {
    pub fn new(
        kind: &'static str,
        folder: String,
        m: &crate::classify::finetune::TopicModelFile,
    ) -> TopicModelInfo {
        TopicModelInfo {
            kind,
            folder,
            weights_sha256: m.weights_sha256.clone(),
            layers: m.settings.layers,
            threshold: m.threshold,
            training: m.training.clone(),
            labelled_rows: m.labelled_rows,
            example_rows: m.example_rows,
            held_out_micro: m
                .held_out
                .as_ref()
                .map(|h| [h.micro_precision, h.micro_recall, h.micro_f1]),
            calibration_backup_at: None,
            must_gates: m.must_gates,
            must_gates_rule: m.must_gates_rule.clone(),
        }
    }
}

impl TopicsInfo {
    /// The record of a run on `taxonomy` that used `calibration` (None: the
    /// similarity rule).
    pub fn new(
        taxonomy: &crate::classify::Taxonomy,
        origin: crate::classify::calibration::CalibrationOrigin,
        calibration: Option<&crate::classify::TopicCalibration>,
        threshold_override: Option<f32>,
    ) -> TopicsInfo {
        TopicsInfo {
            rule: if calibration.is_some() {
                "calibrated"
            } else {
                "similarity"
            }
            .into(),
            calibration: origin,
            provenance: calibration.map(|c| c.provenance.clone()),
            thresholds: calibration.map(|c| c.thresholds()),
            threshold_override,
            generic_phrases: crate::classify::topics::GenericInfo::of(taxonomy),
            topic_model: None,
        }
    }

    /// The similarity rule on the default taxonomy, for reports built by
    /// hand.
    pub fn similarity_rule() -> TopicsInfo {
        TopicsInfo::new(
            &crate::classify::Taxonomy::default_contact_center(),
            crate::classify::calibration::CalibrationOrigin::None {
                reason: "no topic calibration".into(),
            },
            None,
            None,
        )
    }
}

/// A value of the date column that was not read as a date.
#[derive(Debug, Serialize)]
pub struct UnparsedDate {
    pub line: u64,
    pub value: String,
}

/// The input file and how it was read.
#[derive(Debug, Serialize)]
pub struct InputInfo {
    pub path: String,
    pub sha256: String,
    /// `csv`, `jsonl`, or a spreadsheet's extension (`xlsx`, `ods`…).
    pub format: String,
    /// The sheet read, for a spreadsheet.
    pub sheet: Option<String>,
    pub encoding: String,
    pub delimiter: Option<String>,
    /// Null in a run without scores (`--no-score`).
    pub score_column: Option<String>,
    pub text_column: String,
    /// Every open question's column (`--text-column`, repeatable), the
    /// comment column first: the `question` of `fact_answer` and
    /// `bridge_response_topic`.
    pub questions: Vec<String>,
    pub id_column: Option<String>,
    pub date_column: Option<String>,
    /// How the date column was chosen: `flag`, `name`, `name_like` (a name
    /// that starts or ends with a date word) or `content`.
    pub date_column_found_by: Option<String>,
    /// How its values were read (`dmy`, `mdy`, `excel`, `unix`, `unix-ms`
    /// or a strftime pattern) and what decided it: `flag`, `values`, or
    /// `default` (nothing in the values told).
    pub date_format: Option<String>,
    pub date_format_decided_by: Option<String>,
    /// The first value of the date column that the format did not read.
    pub first_unparsed_date: Option<UnparsedDate>,
    pub segment_columns: Vec<String>,
    /// The segment columns `agg_nps` has rows for; empty without scores.
    pub aggregated_segment_columns: Vec<String>,
    /// The score's answer scale; null in a run without scores.
    pub scale: Option<String>,
    /// Columns that are no segment although they could be: their values
    /// are personal data (masked in the tables unless `--no-redact`), or
    /// they have too many distinct values.
    pub left_out_columns: Vec<LeftOutColumn>,
    /// Each of `segment_columns`: where it is in the input, its header as
    /// read, the name the outputs use (`agg_nps.segment_column`, flags) and
    /// its column in `fact_response` and `followup`.
    pub segment_column_names: Vec<SegmentColumnName>,
}

/// A column left out of the segments, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOutColumn {
    pub column: String,
    pub reason: String,
    /// Its values are masked in `fact_response` and `followup`.
    pub masked: bool,
}

/// Original and output names of a segment column.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentColumnName {
    /// 1-based position in the header (JSON Lines: among the keys).
    pub position: usize,
    /// The header as read; may be empty or repeat another.
    pub header: String,
    /// The unique, non-empty name used in the outputs.
    pub name: String,
    /// Its column in `fact_response` and `followup`; none for the date
    /// column.
    pub output: Option<String>,
}

/// Row accounting: `read = analysed + rejected`.
#[derive(Debug, Serialize)]
pub struct Counts {
    pub read: u64,
    pub analysed: u64,
    pub rejected: u64,
    pub reject_rate: f64,
    pub with_comment: u64,
    /// Responses whose only text was a placeholder ("n/a", "-"), counted
    /// as without a comment.
    pub placeholder_comments: u64,
    pub unparsed_dates: u64,
    /// Detractors with a positive comment plus promoters with a negative one;
    /// null in a run without scores, as the next two.
    pub sentiment_mismatch: Option<u64>,
    /// Responses that qualified for follow-up, and how many were kept.
    pub followup_candidates: Option<u64>,
    pub followups: Option<u64>,
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

/// Thresholds in force. `topic_threshold`, `topic_margin`, `topic_min_gap`
/// and `topic_keyword_gap` are the similarity rule's (`topics.rule` says
/// whether it decided); `topic_threshold` is `--topic-threshold` when given.
#[derive(Debug, Serialize)]
pub struct Thresholds {
    pub min_n: u64,
    pub fdr_q: f64,
    pub max_reject_rate: Option<f64>,
    pub topic_threshold: f32,
    pub topic_margin: f32,
    pub topic_min_gap: f32,
    pub topic_keyword_gap: f32,
}

/// Where the time went.
#[derive(Debug, Serialize)]
pub struct Timings {
    /// Distinct texts (comments and clauses) the model embedded in this
    /// run; those read from the cache are in `texts_from_cache`.
    pub texts_embedded: usize,
    pub texts_from_cache: usize,
    pub embed_seconds: f64,
    /// `texts_embedded` per second of embedding (0 when none was embedded).
    pub texts_per_second: f64,
    pub total_seconds: f64,
    /// Comments analysed per second of the whole run.
    pub comments_per_second: f64,
}

/// One written table.
#[derive(Debug, Serialize)]
pub struct TableInfo {
    pub name: String,
    pub rows: usize,
    pub files: Vec<String>,
    /// Something a reader of the table should know: on `dim_date`, a span of
    /// response dates over ten years; on the NPS tables of a run without
    /// scores, that they are left empty and why (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `manifest.json` holds: the [`RunManifest`] and, under `settings`,
/// the rest of what a rerun needs to give the same tables. (A separate
/// struct, so that the reports built by hand from a [`RunManifest`] need
/// not fill it in.) The survey weights are written into the run's own
/// sections: `input.weight_column` and `nps.weighted` /
/// `nps.weighted_scope` (null without a weight column).
#[derive(Debug)]
pub struct ManifestFile<'a> {
    pub run: &'a RunManifest,
    pub settings: RunSettings,
    /// The weighted NPS of the whole run (`--weight-column`).
    pub weights: Option<WeightsInfo>,
    /// The parts of a split run (`--from-parts`); `parts` is null otherwise.
    pub parts: Option<PartsInfo>,
}

/// The parts a split run's statistics stage read (`--from-parts`).
#[derive(Debug, Clone, Serialize)]
pub struct PartsInfo {
    /// The folder, as given.
    pub folder: String,
    /// The number of parts.
    pub count: u32,
    /// Rows the parts read, summed: the export's `counts.read`.
    pub read: u64,
    pub analysed: u64,
    pub rejected: u64,
    /// Each part, in order.
    pub parts: Vec<PartInfo>,
}

/// One part of a split run.
#[derive(Debug, Clone, Serialize)]
pub struct PartInfo {
    /// K of `--part K/N`.
    pub part: u32,
    /// Its analyses file and that file's sha256.
    pub file: String,
    pub sha256: String,
    /// The sha256 of the partition it read.
    pub input_sha256: String,
    pub read: u64,
    pub analysed: u64,
    pub rejected: u64,
}

/// The survey weights of a run and the weighted NPS of all its responses
/// (`docs/METHODS.md`, "Survey weights").
#[derive(Debug, Clone, Serialize)]
pub struct WeightsInfo {
    /// `--weight-column`, as the outputs name it.
    #[serde(skip)]
    pub column: String,
    /// 100·(Σw·[promoter] − Σw·[detractor])/Σw; null when Σw = 0.
    pub nps: Option<f64>,
    /// Adjusted-Wald 95% interval with Kish's n_eff in place of N.
    pub ci95: Option<(f64, f64)>,
    /// Kish's effective sample size (Σw)²/Σw².
    pub n_effective: Option<f64>,
    /// Σw.
    pub weight_sum: f64,
    /// `n_effective < --min-n`: the weighted figures rest on a small base.
    pub suppressed: bool,
}

/// `nps.weighted_scope`: which outputs the weights change.
pub const WEIGHTED_SCOPE: &str = "agg_nps and nps only; drivers unweighted";

impl Serialize for ManifestFile<'_> {
    /// The run's sections, `settings`, and the weights put into `input` and
    /// `nps`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        #[derive(Serialize)]
        struct Plain<'b> {
            #[serde(flatten)]
            run: &'b RunManifest,
            settings: &'b RunSettings,
        }
        // Through text, not `to_value`: an f32 such as 0.7 then stays 0.7
        // (a `Value` holds it as the f64 0.699999988079071).
        let text = serde_json::to_string(&Plain {
            run: self.run,
            settings: &self.settings,
        })
        .map_err(S::Error::custom)?;
        let mut v: serde_json::Value = serde_json::from_str(&text).map_err(S::Error::custom)?;
        let w = self.weights.as_ref();
        if let Some(input) = v.get_mut("input").and_then(|i| i.as_object_mut()) {
            input.insert(
                "weight_column".into(),
                w.map_or(serde_json::Value::Null, |w| w.column.clone().into()),
            );
        }
        if let Some(nps) = v.get_mut("nps").and_then(|n| n.as_object_mut()) {
            let weighted = serde_json::to_value(w).map_err(S::Error::custom)?;
            nps.insert("weighted".into(), weighted);
            nps.insert(
                "weighted_scope".into(),
                w.map_or(serde_json::Value::Null, |_| WEIGHTED_SCOPE.into()),
            );
        }
        if let Some(top) = v.as_object_mut() {
            let parts = serde_json::to_value(&self.parts).map_err(S::Error::custom)?;
            top.insert("parts".into(), parts);
        }
        v.serialize(s)
    }
}

/// The settings of a run that the other sections do not record.
#[derive(Debug, Serialize)]
pub struct RunSettings {
    /// `--survey`: `customer` (NPS) or `employee` (eNPS; groups below
    /// `min_n` withheld in `agg_nps` and `segment_driver`, no follow-ups).
    pub survey: String,
    /// `--periods`: the period kinds of `agg_nps`, as given.
    pub periods: Vec<crate::stats::aggregate::Period>,
    /// `--alert-z`: how far from its history a topic's last period must be
    /// to fire an alert.
    pub alert_z: f64,
    /// `--bootstrap-replicates`.
    pub bootstrap_replicates: usize,
    /// `--seed` of the bootstrap (the default one when not given).
    pub seed: u64,
    /// `--device` as given: `cpu`, `cuda` or `auto`.
    pub device: String,
    /// Where the encoder ran: `cpu`, `cuda:0`…
    pub device_used: String,
    /// `--taxonomy`, when given (null: the shipped taxonomy).
    pub taxonomy_file: Option<FileInfo>,
    /// Whether `thresholds.topic_threshold` decided topics: true under the
    /// similarity rule, or with `--topic-threshold` (which then replaces
    /// every calibrated threshold); false when each topic's calibrated
    /// threshold (`topics.thresholds`) decided.
    pub topic_threshold_applies: bool,
    /// `topic_threshold_applies` in words.
    pub topic_threshold_note: String,
}

impl RunSettings {
    /// [`RunSettings::topic_threshold_applies`] and its note, for a run whose
    /// topics were decided by `topics`.
    pub fn topic_threshold(topics: &TopicsInfo) -> (bool, String) {
        if let Some(m) = &topics.topic_model {
            let backup = match m.calibration_backup_at {
                Some(p) => format!(", and the calibration where it was at least {p} sure"),
                None => String::new(),
            };
            return match topics.threshold_override {
                Some(_) => (
                    true,
                    format!("--topic-threshold replaced the topic model's threshold (topics.topic_model.threshold){backup}"),
                ),
                None => (
                    false,
                    format!("the topic model's threshold (topics.topic_model.threshold) decided{backup}; thresholds.topic_threshold was not used"),
                ),
            };
        }
        match (topics.thresholds.is_some(), topics.threshold_override) {
            (false, _) => (
                true,
                "the similarity rule decided topics with thresholds.topic_threshold".into(),
            ),
            (true, Some(_)) => (
                true,
                "--topic-threshold replaced every topic's calibrated threshold".into(),
            ),
            (true, None) => (
                false,
                "each topic's calibrated threshold (topics.thresholds) decided; \
                 thresholds.topic_threshold was not used"
                    .into(),
            ),
        }
    }
}

/// A file a run read: its full path and checksum.
#[derive(Debug, Serialize)]
pub struct FileInfo {
    pub path: String,
    pub sha256: String,
}
