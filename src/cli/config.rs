//! `verbatim.toml`: the column mapping and settings of a recurring export, so
//! a nightly job's command line stays short and the mapping is versioned
//! next to the job. Every key mirrors a flag of `verbatim analyze`; a flag
//! given on the command line wins over the file.
//!
//! ```toml
//! [input]
//! score_column = "Q1_NPS"
//! text_column = "Q2_Why"
//! id_column = "ResponseID"
//! date_column = "RecordedDate"
//! weight_column = "Weight"   # survey weights: weighted NPS in agg_nps
//! date_format = "dmy"
//! sheet = "Responses"
//! segment_columns = ["Channel", "Queue", "Team"]
//! delimiter = ";"
//! encoding = "windows-1252"
//! format = "csv"
//! scale = "0-10"
//! # or, for an export without a score (support tickets): topics and
//! # sentiment only, instead of score_column, scale and weight_column
//! # no_score = true
//!
//! [analysis]
//! min_n = 30
//! periods = ["week", "month"]
//! fdr = 0.05
//! max_reject_rate = 0.02
//! taxonomy = "taxonomy.toml"   # relative to this file
//! topic_calibration = "calibration.json"   # from `verbatim train topics`
//! sentiment_head = "head.json"   # from `verbatim train sentiment`
//! # or a fine-tuned classifier instead of the head:
//! # sentiment_model = "/opt/models/sentiment"
//! # sentiment_labels = ["neg", "neu", "pos"]
//! model = "/opt/models/multilingual-e5-small"
//! cache = "embeddings.sqlite"  # relative to this file; see `--cache`
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub input: InputSection,
    #[serde(default)]
    pub analysis: AnalysisSection,
}

/// A setting given as one value or as a list (`text_column = "Why"` or
/// `text_column = ["Well", "Improve"]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        Ok(OneOrMany(match Raw::deserialize(d)? {
            Raw::One(s) => vec![s],
            Raw::Many(v) => v,
        }))
    }
}

/// `[input]`: how to read the export.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSection {
    pub score_column: Option<String>,
    /// One column name, or a list for several open questions.
    pub text_column: Option<OneOrMany>,
    pub id_column: Option<String>,
    pub date_column: Option<String>,
    /// `--weight-column`: the survey weight of each response.
    pub weight_column: Option<String>,
    pub date_format: Option<String>,
    pub sheet: Option<String>,
    #[serde(default)]
    pub segment_columns: Vec<String>,
    pub delimiter: Option<char>,
    pub encoding: Option<String>,
    pub format: Option<String>,
    pub scale: Option<String>,
    /// `--no-score`: the export has no score; topics and sentiment only.
    pub no_score: Option<bool>,
}

/// `[analysis]`: statistics and models.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSection {
    /// `--survey`: `customer` or `employee`.
    pub survey: Option<crate::app::analyze::Survey>,
    pub min_n: Option<u64>,
    pub periods: Option<Vec<String>>,
    pub fdr: Option<f64>,
    pub max_reject_rate: Option<f64>,
    pub taxonomy: Option<PathBuf>,
    pub topic_calibration: Option<PathBuf>,
    /// `--sentiment-head`.
    pub sentiment_head: Option<PathBuf>,
    /// `--sentiment-model`.
    pub sentiment_model: Option<PathBuf>,
    /// `--sentiment-labels`, one polarity per class id.
    pub sentiment_labels: Option<Vec<String>>,
    pub model: Option<PathBuf>,
    /// Embedding cache file (`--cache`).
    pub cache: Option<PathBuf>,
}

impl FileConfig {
    /// Reads `path`; relative paths inside it are made relative to its folder.
    pub fn read(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading --config {}", path.display()))?;
        let mut cfg: FileConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("--config {}: {e}", path.display()))?;
        let a = &cfg.analysis;
        if a.sentiment_head.is_some() && a.sentiment_model.is_some() {
            anyhow::bail!(
                "--config {}: `sentiment_head` and `sentiment_model` are alternatives; give one",
                path.display()
            );
        }
        if a.sentiment_labels.is_some() && a.sentiment_model.is_none() {
            anyhow::bail!(
                "--config {}: `sentiment_labels` needs `sentiment_model` (it names that model's classes)",
                path.display()
            );
        }
        let i = &cfg.input;
        if i.no_score == Some(true) {
            let scored = [
                ("score_column", i.score_column.is_some()),
                ("scale", i.scale.is_some()),
                ("weight_column", i.weight_column.is_some()),
            ];
            if let Some((key, _)) = scored.iter().find(|k| k.1) {
                bail_both(path, key)?;
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut cfg.analysis.taxonomy,
            &mut cfg.analysis.topic_calibration,
            &mut cfg.analysis.sentiment_head,
            &mut cfg.analysis.sentiment_model,
            &mut cfg.analysis.model,
            &mut cfg.analysis.cache,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }
}

/// The error for `no_score = true` beside a setting of the score.
fn bail_both(path: &Path, key: &str) -> Result<()> {
    anyhow::bail!(
        "--config {}: `no_score = true` and `{key}` cannot both be set under [input]: \
         an export without a score has no {key}; remove one of them",
        path.display()
    )
}

/// Parses a config value with the type's `FromStr`, naming the key on error.
pub fn parse_value<T: std::str::FromStr>(path: &Path, key: &str, value: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| anyhow::anyhow!("--config {}: `{key}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("verbatim.toml");
        std::fs::write(
            &p,
            "[input]\nscore_column = \"Q1\"\nsegment_columns = [\"Team\"]\n[analysis]\nmin_n = 5\ntaxonomy = \"t.toml\"\ncache = \"c.sqlite\"\n",
        )
        .unwrap();
        let c = FileConfig::read(&p).unwrap();
        assert_eq!(c.input.score_column.as_deref(), Some("Q1"));
        assert_eq!(c.input.segment_columns, ["Team"]);
        assert_eq!(c.analysis.min_n, Some(5));
        assert_eq!(c.analysis.taxonomy.unwrap(), dir.path().join("t.toml"));
        assert_eq!(c.analysis.cache.unwrap(), dir.path().join("c.sqlite"));
    }

    #[test]
    fn sentiment_keys_resolve_and_contradictions_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.toml");
        std::fs::write(
            &p,
            "[analysis]\nsentiment_model = \"m\"\nsentiment_labels = [\"neg\", \"pos\"]\n",
        )
        .unwrap();
        let c = FileConfig::read(&p).unwrap();
        assert_eq!(c.analysis.sentiment_model.unwrap(), dir.path().join("m"));
        assert_eq!(c.analysis.sentiment_labels.unwrap(), ["neg", "pos"]);
        for bad in [
            "[analysis]\nsentiment_model = \"m\"\nsentiment_head = \"h.json\"\n",
            "[analysis]\nsentiment_labels = [\"neg\", \"pos\"]\n",
        ] {
            std::fs::write(&p, bad).unwrap();
            let e = FileConfig::read(&p).unwrap_err().to_string();
            assert!(e.contains("v.toml") && e.contains("sentiment_"), "{e}");
        }
    }

    #[test]
    fn no_score_beside_a_setting_of_the_score_names_the_file_and_both_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.toml");
        std::fs::write(&p, "[input]\nno_score = true\ntext_column = \"Body\"\n").unwrap();
        assert_eq!(FileConfig::read(&p).unwrap().input.no_score, Some(true));
        for key in [
            "score_column = \"Q1\"",
            "scale = \"1-5\"",
            "weight_column = \"W\"",
        ] {
            std::fs::write(&p, format!("[input]\nno_score = true\n{key}\n")).unwrap();
            let e = FileConfig::read(&p).unwrap_err().to_string();
            let name = key.split(' ').next().unwrap_or_default();
            assert!(
                e.contains("v.toml")
                    && e.contains("`no_score = true`")
                    && e.contains(&format!("`{name}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.toml");
        std::fs::write(&p, "[input]\nscore_colum = \"Q1\"\n").unwrap();
        let e = FileConfig::read(&p).unwrap_err().to_string();
        assert!(e.contains("v.toml") && e.contains("score_colum"), "{e}");
    }
}
