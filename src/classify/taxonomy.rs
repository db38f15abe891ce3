//! Topic taxonomies: versioned TOML files with stable ids.
//!
//! A topic is defined by what customers write about it: example phrases per
//! language (positive and negative phrasings alike, since the examples say what
//! a comment is about, not how it feels). Ids are strings chosen once and never
//! renumbered, so a dashboard built on `topic_id` survives a new taxonomy
//! version. The file's `version` goes into every output.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

/// The default contact-center taxonomy, compiled in.
pub const DEFAULT_TAXONOMY: &str = include_str!("../../models/taxonomy/contact-center.toml");

/// A taxonomy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "topic")]
    pub topics: Vec<Topic>,
}

/// One topic of a taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub id: String,
    #[serde(default)]
    pub parent: Option<String>,
    /// Label per language code.
    pub label: BTreeMap<String, String>,
    #[serde(default)]
    pub description: String,
    /// Example phrases per language code.
    pub examples: BTreeMap<String, Vec<String>>,
}

impl Topic {
    /// The English label, else any label, else the id.
    pub fn display_label(&self) -> &str {
        self.label
            .get("en")
            .or_else(|| self.label.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }

    /// All example phrases, every language.
    pub fn all_examples(&self) -> impl Iterator<Item = &str> {
        self.examples.values().flatten().map(String::as_str)
    }
}

/// A taxonomy that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("{source_name}: {message}")]
    Parse {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

impl Taxonomy {
    /// Parses and validates TOML text; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Taxonomy, TaxonomyError> {
        let tax: Taxonomy = toml::from_str(text).map_err(|e| TaxonomyError::Parse {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        tax.validate().map_err(|message| TaxonomyError::Invalid {
            source_name: source_name.to_string(),
            message,
        })?;
        Ok(tax)
    }

    /// Reads a taxonomy file.
    pub fn from_file(path: &Path) -> anyhow::Result<Taxonomy> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading taxonomy {}: {e}", path.display()))?;
        Ok(Taxonomy::parse(&text, &path.display().to_string())?)
    }

    /// The compiled-in contact-center taxonomy.
    pub fn default_contact_center() -> Taxonomy {
        Taxonomy::parse(DEFAULT_TAXONOMY, "models/taxonomy/contact-center.toml")
            .expect("the shipped taxonomy is valid")
    }

    fn validate(&self) -> Result<(), String> {
        if self.topics.is_empty() {
            return Err("no [[topic]] tables".into());
        }
        let mut seen = HashSet::new();
        for t in &self.topics {
            let ok = !t.id.is_empty()
                && t.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(format!("topic id `{}` must be snake_case ASCII", t.id));
            }
            if !seen.insert(t.id.as_str()) {
                return Err(format!("topic id `{}` appears twice", t.id));
            }
            if t.all_examples().next().is_none() {
                return Err(format!("topic `{}` has no examples", t.id));
            }
        }
        let parents: HashMap<&str, Option<&str>> = self
            .topics
            .iter()
            .map(|t| (t.id.as_str(), t.parent.as_deref()))
            .collect();
        // Walk up from each topic, but only through topics not yet known to
        // reach a root, so the whole check is linear in the topics (a full
        // walk from every topic took minutes on a 20,000-topic chain).
        // `false`: on the current walk; `true`: reaches a root.
        let mut reaches_root: HashMap<&str, bool> = HashMap::new();
        for t in &self.topics {
            if let Some(p) = &t.parent {
                if !parents.contains_key(p.as_str()) {
                    return Err(format!(
                        "topic `{}` has parent `{p}`, which is not a topic",
                        t.id
                    ));
                }
            }
            let mut walk = Vec::new();
            let mut at = Some(t.id.as_str());
            while let Some(id) = at {
                match reaches_root.insert(id, false) {
                    Some(true) => {
                        reaches_root.insert(id, true);
                        break;
                    }
                    Some(false) => {
                        return Err(format!("topic `{id}` is its own ancestor (parent cycle)"))
                    }
                    None => walk.push(id),
                }
                at = parents.get(id).copied().flatten();
            }
            for id in walk {
                reaches_root.insert(id, true);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_taxonomy_is_valid() {
        let t = Taxonomy::default_contact_center();
        assert!(t.topics.len() >= 10);
        for topic in &t.topics {
            for lang in ["de", "nl", "en", "fr", "es"] {
                assert!(
                    topic.examples.get(lang).is_some_and(|e| !e.is_empty()),
                    "{} {lang}",
                    topic.id
                );
            }
        }
    }

    #[test]
    fn duplicate_ids_and_cycles_are_errors() {
        let dup = r#"
name = "t"
version = "1"
[[topic]]
id = "a"
label = { en = "A" }
examples.en = ["x"]
[[topic]]
id = "a"
label = { en = "A" }
examples.en = ["y"]
"#;
        let e = Taxonomy::parse(dup, "dup.toml").unwrap_err().to_string();
        assert!(e.contains("dup.toml") && e.contains("twice"), "{e}");
        let cycle = r#"
name = "t"
version = "1"
[[topic]]
id = "a"
parent = "b"
label = { en = "A" }
examples.en = ["x"]
[[topic]]
id = "b"
parent = "a"
label = { en = "B" }
examples.en = ["y"]
"#;
        let e = Taxonomy::parse(cycle, "c.toml").unwrap_err().to_string();
        assert!(e.contains("cycle"), "{e}");
    }
}
