//! Topic taxonomies: versioned TOML files with stable ids.
//!
//! A topic is defined by what customers write about it: example phrases per
//! language (positive and negative phrasings alike, since the examples say what
//! a comment is about, not how it feels). Ids are strings chosen once and never
//! renumbered, so a dashboard built on `topic_id` survives a new taxonomy
//! version. The file's `version` goes into every output.
//!
//! ```toml
//! name = "contact-center"
//! version = "2.0.0"                  # required; numbers and dots
//! description = "…"                  # optional
//!
//! [[topic]]
//! id = "self_service"                # lower-case ASCII, digits, `_`; never renamed
//! label = { en = "Self-service", de = "Self-Service" }
//! examples.en = ["could do it all online", "…"]
//! examples.de = ["alles online erledigt", "…"]
//!
//! [[topic]]
//! id = "chatbot"
//! parent = "self_service"            # optional; must be a topic of the file
//! label = { en = "Chatbot", de = "Chatbot" }
//! examples.en = ["the chatbot did not understand me", "…"]
//! examples.de = ["der chatbot versteht nichts", "…"]
//! keywords.en.must = ["chatbot", "bot", "virtual assistant"]
//! keywords.de.must = ["chatbot", "bot*"]
//! keywords.de.exclude = ["robotik"]
//! ```
//!
//! Rules, checked by [`Taxonomy::parse`] (and `verbatim taxonomy check`),
//! each reported with the file, the line where TOML gives one, the topic and
//! the field: `name` and `version` present; at least one topic; ids unique and
//! valid; a parent that exists and no parent cycle (any depth is fine);
//! labels and examples keyed by language codes (`de`, `pt-br`); every
//! language that has a label has examples; no empty phrase; keywords that can
//! match (see [`super::keywords`] for how they match) and none both in `must`
//! and `exclude`. All problems are reported at once, not the first only.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::keywords::{Normalized, Pattern};

/// The default contact-center taxonomy, compiled in.
pub const DEFAULT_TAXONOMY: &str = include_str!("../../models/taxonomy/contact-center.toml");
/// The shipped employee taxonomy, for `--survey employee`.
pub const EMPLOYEE_TAXONOMY: &str = include_str!("../../models/taxonomy/employee.toml");

/// A taxonomy file.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub name: String,
    pub version: String,
    pub description: String,
    pub topics: Vec<Topic>,
    /// Whether a clause that is a generic verdict ("sehr gut") is barred
    /// from the topics (`super::topics::GENERIC_PHRASES`); the file's
    /// `generic_verdicts = false` turns it off.
    pub generic_verdicts: bool,
    /// sha256 of the file's text: a topic calibration belongs to exactly
    /// this file (`super::calibration`).
    pub sha256: String,
    /// Where it was read from (the `--taxonomy` path, or the shipped file's
    /// path in the repository), for messages that suggest a command.
    pub source: String,
}

/// One topic of a taxonomy.
#[derive(Debug, Clone)]
pub struct Topic {
    pub id: String,
    pub parent: Option<String>,
    /// Label per language code.
    pub label: BTreeMap<String, String>,
    pub description: String,
    /// Example phrases per language code.
    pub examples: BTreeMap<String, Vec<String>>,
    /// Keyword rules per language code (may be empty).
    pub keywords: BTreeMap<String, Keywords>,
}

/// Keyword rules of a topic in one language.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keywords {
    /// The topic is assigned only when the comment contains one of these.
    #[serde(default)]
    pub must: Vec<String>,
    /// The topic is never assigned to a clause that contains one of these.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Topic {
    /// The topic's keyword rules, compiled.
    pub fn keyword_filter(&self) -> super::keywords::KeywordFilter {
        super::keywords::KeywordFilter::new(
            self.keywords
                .iter()
                .map(|(l, k)| (l.as_str(), k.must.as_slice(), k.exclude.as_slice())),
        )
    }

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

/// One thing wrong with a taxonomy file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line and column, where the TOML parser gives a position.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The topic's id, or `#N` (its position) when it has no usable id.
    pub topic: Option<String>,
    /// The field, e.g. `parent`, `examples.de`, `keywords.fr.must`.
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    /// The problem as one line, prefixed with `source_name` and the position.
    pub fn render(&self, source_name: &str) -> String {
        let mut s = source_name.to_string();
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.column {
                s.push_str(&format!(":{c}"));
            }
        }
        s.push_str(": ");
        if let Some(t) = &self.topic {
            s.push_str(&format!("topic `{t}`, "));
        }
        if let Some(f) = &self.field {
            s.push_str(&format!("field `{f}`: "));
        }
        s.push_str(&self.message);
        s
    }
}

/// A taxonomy that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// The file could not be read.
    #[error("reading taxonomy {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or type errors, or broken rules: every problem found.
    #[error("{}", render_all(.source_name, .problems))]
    Invalid {
        source_name: String,
        problems: Vec<Problem>,
    },
}

fn render_all(source_name: &str, problems: &[Problem]) -> String {
    match problems {
        [one] => one.render(source_name),
        many => {
            let mut s = format!("{source_name}: {} problems", many.len());
            for p in many {
                s.push_str("\n  ");
                s.push_str(&p.render(source_name));
            }
            s
        }
    }
}

// What the file says, before the rules are checked. Everything a rule
// checks is optional here, so that a missing field is reported with the
// others instead of stopping serde at the first one; leaf values keep their
// position in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    name: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    generic_verdicts: Option<bool>,
    #[serde(default, rename = "topic")]
    topics: Vec<RawTopic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    id: Option<Spanned<String>>,
    parent: Option<Spanned<String>>,
    #[serde(default)]
    label: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    examples: BTreeMap<String, Spanned<Vec<String>>>,
    #[serde(default)]
    keywords: BTreeMap<String, RawKeywords>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeywords {
    must: Option<Spanned<Vec<String>>>,
    exclude: Option<Spanned<Vec<String>>>,
}

/// The key written on the line of byte `offset`: `label` for
/// `label = [...]`, `examples.en` for `examples.en = "x"`, `topic` for a
/// `[topic]` header. `None` where the line is neither.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("").trim();
    let key = if let Some(header) = line.strip_prefix('[') {
        header.trim_start_matches('[').split(']').next()?
    } else {
        line.split_once('=')?.0
    };
    let key: String = key
        .split('.')
        .map(|part| part.trim().trim_matches('"'))
        .collect::<Vec<_>>()
        .join(".");
    (!key.is_empty()).then_some(key)
}

/// The form a taxonomy key takes, for an error about its shape.
fn expected_form(key: &str) -> Option<&'static str> {
    let parts: Vec<&str> = key.split('.').collect();
    Some(match parts.as_slice() {
        ["topic"] => "`[[topic]]` (two brackets: one such header per topic)",
        ["name" | "version" | "description" | "id" | "parent"] => "a quoted string, e.g. `id = \"billing\"`",
        ["label"] => "one label per language: `label = { en = \"Billing\", de = \"Rechnung\" }`",
        ["label", _] => "a quoted string: `label.en = \"Billing\"`",
        ["examples"] | ["examples", _] => {
            "a list per language: `examples.en = [\"wrong invoice\", \"charged twice\"]`"
        }
        ["keywords", ..] => {
            "lists per language: `keywords.en.must = [\"invoice\", \"bill*\"]`, `keywords.en.exclude = [\"signal\"]`"
        }
        _ => return None,
    })
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A language code: `de`, `fra`, `pt-br`.
fn valid_language(code: &str) -> bool {
    let (base, region) = match code.split_once('-') {
        Some((b, r)) => (b, Some(r)),
        None => (code, None),
    };
    (2..=3).contains(&base.len())
        && base.chars().all(|c| c.is_ascii_lowercase())
        && region.is_none_or(|r| {
            !r.is_empty() && r.len() <= 8 && r.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// A version: numbers separated by dots, optionally `-suffix` or `+build`.
fn valid_version(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    !core.is_empty()
        && core
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Edit distance, for "did you mean" on unknown parents.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Collects problems while the raw file is checked.
struct Checker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn at(
        &mut self,
        span: Option<Range<usize>>,
        topic: Option<&str>,
        field: &str,
        message: String,
    ) {
        let (line, column) = span.map(|s| line_col(self.text, s.start)).unzip();
        self.problems.push(Problem {
            line,
            column,
            topic: topic.map(str::to_string),
            field: (!field.is_empty()).then(|| field.to_string()),
            message,
        });
    }
}

impl Taxonomy {
    /// The display label of topic `id` ([`Topic::display_label`]), or the id
    /// itself when no topic has it (a table row of another taxonomy).
    pub fn label_of(&self, id: &str) -> String {
        self.topics
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.display_label().to_string())
    }

    /// Parses and validates TOML text; `source_name` names it in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Taxonomy, TaxonomyError> {
        let invalid = |problems| TaxonomyError::Invalid {
            source_name: source_name.to_string(),
            problems,
        };
        let raw: RawTaxonomy = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unzip();
            let field = e.span().and_then(|s| key_at(text, s.start));
            let mut message = e.message().trim().to_string();
            if let Some(form) = field.as_deref().and_then(expected_form) {
                message.push_str(&format!("; write it as {form}"));
            }
            invalid(vec![Problem {
                line,
                column,
                topic: None,
                field,
                message,
            }])
        })?;
        let mut c = Checker {
            text,
            problems: Vec::new(),
        };
        let mut tax = check(raw, &mut c);
        if c.problems.is_empty() {
            tax.sha256 = crate::model::manifest::sha256_bytes(text.as_bytes());
            tax.source = source_name.to_string();
            Ok(tax)
        } else {
            c.problems.sort_by_key(|p| p.line.unwrap_or(0));
            Err(invalid(c.problems))
        }
    }

    /// Reads and validates a taxonomy file.
    pub fn from_file(path: &Path) -> Result<Taxonomy, TaxonomyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TaxonomyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Taxonomy::parse(&text, &path.display().to_string())
    }

    /// The compiled-in contact-center taxonomy.
    pub fn default_contact_center() -> Taxonomy {
        Taxonomy::parse(DEFAULT_TAXONOMY, "models/taxonomy/contact-center.toml")
            .expect("the shipped taxonomy is valid")
    }

    /// The compiled-in employee taxonomy (eNPS surveys, `--survey employee`).
    pub fn default_employee() -> Taxonomy {
        Taxonomy::parse(EMPLOYEE_TAXONOMY, "models/taxonomy/employee.toml")
            .expect("the shipped employee taxonomy is valid")
    }

    /// `--taxonomy` and the file it was read from, quoted where a shell
    /// would split or expand it, for a command a message suggests.
    pub fn taxonomy_arg(&self) -> String {
        let quoted = shlex::try_quote(&self.source)
            .map(|q| q.into_owned())
            .unwrap_or_else(|_| self.source.clone());
        format!("--taxonomy {quoted}")
    }

    /// Index of the topic with `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.topics.iter().position(|t| t.id == id)
    }

    /// Level of each topic: 1 for a topic without parent, 2 for its
    /// children, and so on.
    pub fn levels(&self) -> Vec<usize> {
        let index: HashMap<&str, usize> = self
            .topics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        // Memoised walk up, so a deep hierarchy costs linear time.
        // Validated: parents exist and there is no cycle; the bound on the
        // walk is a guard for hand-built values.
        let n = self.topics.len();
        let mut level: Vec<usize> = vec![0; n];
        for i in 0..n {
            let mut chain = vec![i];
            let mut at = i;
            let base = loop {
                match self.topics[at].parent.as_deref().and_then(|p| index.get(p)) {
                    Some(&p) if level[p] > 0 => break level[p],
                    Some(&p) if chain.len() <= n => {
                        chain.push(p);
                        at = p;
                    }
                    _ => break 0,
                }
            };
            for (k, &t) in chain.iter().rev().enumerate() {
                if level[t] == 0 {
                    level[t] = base + k + 1;
                }
            }
        }
        level
    }

    /// Things that are allowed but probably not meant: `must` keywords that
    /// leave some example languages unrestricted, a topic's example that its
    /// own keywords would refuse, and the same example phrase in two topics
    /// (a clause close to it is then assigned to both).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.topics {
            let must: BTreeSet<&str> = t
                .keywords
                .iter()
                .filter(|(_, k)| !k.must.is_empty())
                .map(|(l, _)| l.as_str())
                .collect();
            if must.is_empty() {
                continue;
            }
            let without: Vec<&str> = t
                .examples
                .keys()
                .map(String::as_str)
                .filter(|l| !must.contains(l))
                .collect();
            if !without.is_empty() {
                out.push(format!(
                    "topic `{}`: `must` keywords for {} but not for {}: comments detected in {} are not restricted by them",
                    t.id,
                    must.iter().copied().collect::<Vec<_>>().join(", "),
                    without.join(", "),
                    if without.len() == 1 { "that language" } else { "those languages" },
                ));
            }
        }
        // A topic's own examples should pass its keyword rules: an example
        // without a `must` word, or with an `exclude` word, describes
        // comments the topic can never be assigned to.
        for t in &self.topics {
            let rules = t.keyword_filter();
            if rules.is_empty() {
                continue;
            }
            for (lang, examples) in &t.examples {
                for e in examples {
                    let n = Normalized::new(e);
                    if !rules.must_allows(&n, Some(lang)) {
                        out.push(format!(
                            "topic `{}`: example \"{e}\" ({lang}) contains none of the topic's `must` keywords",
                            t.id
                        ));
                    }
                    if !rules.exclude_allows(&n) {
                        out.push(format!(
                            "topic `{}`: example \"{e}\" ({lang}) contains one of the topic's `exclude` keywords",
                            t.id
                        ));
                    }
                }
            }
        }
        let mut seen: HashMap<String, &str> = HashMap::new();
        for t in &self.topics {
            let mut own = BTreeSet::new();
            for e in t.all_examples() {
                let n = Normalized::new(e).as_str().trim().to_string();
                if !own.insert(n.clone()) {
                    continue;
                }
                match seen.get(&n) {
                    Some(other) => out.push(format!(
                        "example \"{e}\" is in both `{other}` and `{}`",
                        t.id
                    )),
                    None => {
                        seen.insert(n, &t.id);
                    }
                }
            }
        }
        out
    }
}

/// Levels a taxonomy may have. Real ones have two to four; the bound keeps
/// a generated or broken file from making every tree that is printed or
/// walked grow with its depth (`taxonomy check` printed 1.8 GB for a
/// 30,000-deep chain).
pub const MAX_LEVELS: usize = 32;

/// Over-deep topics reported one by one; the rest are counted.
const DEEP_REPORTED: usize = 10;

/// Reports each topic at level [`MAX_LEVELS`] + 1 (the first one too deep
/// on its branch; those below it follow from it), with its parent chain
/// shortened. Linear: each topic's level is worked out once. Chains that
/// end in a cycle or an unknown parent are reported elsewhere and skipped.
fn too_deep(names: &[String], parent_of: &HashMap<&str, (&str, Range<usize>)>, c: &mut Checker) {
    // 0: not known yet; usize::MAX: not rooted (a cycle, an unknown parent).
    let mut level: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    let known: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut deep: Vec<&str> = Vec::new();
    for start in names {
        let mut path: Vec<&str> = Vec::new();
        let mut on_path: HashSet<&str> = HashSet::new();
        let mut at = start.as_str();
        let base = loop {
            if let Some(&l) = level.get(at) {
                break l;
            }
            if !on_path.insert(at) {
                break usize::MAX;
            }
            path.push(at);
            match parent_of.get(at) {
                None => break 0,
                Some((p, _)) if known.contains(p) && *p != at => at = p,
                Some(_) => break usize::MAX,
            }
        };
        for (k, t) in path.iter().rev().enumerate() {
            let l = if base == usize::MAX {
                usize::MAX
            } else {
                base + k + 1
            };
            level.insert(t, l);
            if l == MAX_LEVELS + 1 {
                deep.push(t);
            }
        }
    }
    // File order, as the other problems.
    let order: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    deep.sort_by_key(|t| order.get(t).copied().unwrap_or(usize::MAX));
    for t in deep.iter().take(DEEP_REPORTED) {
        let mut ring = vec![*t];
        let mut at = *t;
        while let Some((p, _)) = parent_of.get(at) {
            ring.push(p);
            at = p;
        }
        let shown = if ring.len() > 6 {
            format!(
                "{} → … → {}",
                ring[..3].join(" → "),
                ring[ring.len() - 2..].join(" → ")
            )
        } else {
            ring.join(" → ")
        };
        let span = parent_of.get(t).map(|(_, s)| s.clone());
        c.at(
            span,
            Some(t),
            "parent",
            format!(
                "the topic is at level {} of the hierarchy ({shown}), deeper than the \
                 {MAX_LEVELS} levels a taxonomy may have; give it a parent higher up",
                MAX_LEVELS + 1
            ),
        );
    }
    if deep.len() > DEEP_REPORTED {
        c.at(
            None,
            None,
            "parent",
            format!(
                "{} more topics are deeper than {MAX_LEVELS} levels",
                deep.len() - DEEP_REPORTED
            ),
        );
    }
}

/// Checks the raw file, recording every problem in `c`, and returns the
/// taxonomy (only meaningful when no problem was found). Problems come in
/// file order: the header, the ids, each topic's fields, then the parent
/// chains.
fn check(raw: RawTaxonomy, c: &mut Checker) -> Taxonomy {
    let (name, version) = check_header(&raw, c);
    // Ids first: the other rules name topics by id.
    let (names, first_line) = check_ids(&raw.topics, c);
    let ids: BTreeSet<&str> = first_line.keys().map(String::as_str).collect();
    for (t, who) in raw.topics.iter().zip(&names) {
        let who = Some(who.as_str());
        check_parent(t, who, &ids, c);
        check_labels_and_examples(t, who, c);
        check_keywords(t, who, c);
    }
    check_parent_chains(&raw.topics, &names, c);
    Taxonomy {
        name,
        version,
        description: raw.description,
        generic_verdicts: raw.generic_verdicts.unwrap_or(true),
        topics: build_topics(raw.topics, names),
        sha256: String::new(),
        source: String::new(),
    }
}

/// The taxonomy's name and version, each checked.
fn check_header(raw: &RawTaxonomy, c: &mut Checker) -> (String, String) {
    let name = match &raw.name {
        None => {
            c.at(
                None,
                None,
                "name",
                "missing; add `name = \"…\"` before the first [[topic]]".into(),
            );
            String::new()
        }
        Some(n) => {
            if n.get_ref().trim().is_empty() {
                c.at(Some(n.span()), None, "name", "is empty".into());
            }
            n.get_ref().clone()
        }
    };
    let version = match &raw.version {
        None => {
            c.at(None, None, "version", "missing; add `version = \"1.0.0\"` before the first [[topic]] and raise it with every change".into());
            String::new()
        }
        Some(v) => {
            if !valid_version(v.get_ref()) {
                c.at(
                    Some(v.span()),
                    None,
                    "version",
                    format!(
                        "`{}` is not a version; use numbers and dots, e.g. \"1.2.0\"",
                        v.get_ref()
                    ),
                );
            }
            v.get_ref().clone()
        }
    };
    if raw.topics.is_empty() {
        c.at(None, None, "topic", "no [[topic]] tables".into());
    }

    (name, version)
}

/// Each topic's id (or `#N` where it has no valid one), and where each id
/// is first defined; missing, invalid and repeated ids are problems.
fn check_ids(
    topics: &[RawTopic],
    c: &mut Checker,
) -> (Vec<String>, HashMap<String, Option<Range<usize>>>) {
    let mut first_line: HashMap<String, Option<Range<usize>>> = HashMap::new();
    let mut names = Vec::with_capacity(topics.len());
    for (i, t) in topics.iter().enumerate() {
        let pos = format!("#{}", i + 1);
        let any_span = t
            .parent
            .as_ref()
            .map(|p| p.span())
            .or_else(|| t.label.values().next().map(|l| l.span()))
            .or_else(|| t.examples.values().next().map(|e| e.span()));
        let name = match &t.id {
            None => {
                c.at(
                    any_span,
                    Some(&pos),
                    "id",
                    "missing; every topic needs a stable id".into(),
                );
                pos
            }
            Some(id) => {
                let s = id.get_ref();
                if !valid_id(s) {
                    c.at(
                        Some(id.span()),
                        Some(&pos),
                        "id",
                        format!("`{s}` is not a valid id; use lower-case ASCII letters, digits and `_` (snake_case)"),
                    );
                    pos
                } else {
                    match first_line.get(s) {
                        Some(first) => {
                            let first = first
                                .clone()
                                .map(|r| {
                                    format!(" (first at line {})", line_col(c.text, r.start).0)
                                })
                                .unwrap_or_default();
                            c.at(
                                Some(id.span()),
                                Some(s),
                                "id",
                                format!("appears twice{first}; ids must be unique"),
                            );
                        }
                        None => {
                            first_line.insert(s.clone(), Some(id.span()));
                        }
                    }
                    s.clone()
                }
            }
        };
        names.push(name);
    }

    (names, first_line)
}

/// The parent exists and is not the topic itself.
fn check_parent(t: &RawTopic, who: Option<&str>, ids: &BTreeSet<&str>, c: &mut Checker) {
    if let Some(p) = &t.parent {
        let ps = p.get_ref();
        if Some(ps.as_str()) == who {
            c.at(
                Some(p.span()),
                who,
                "parent",
                "a topic cannot be its own parent (parent cycle)".into(),
            );
        } else if !ids.contains(ps.as_str()) {
            let near = ids
                .iter()
                .map(|id| (distance(ps, id), *id))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, id)| format!(" (did you mean `{id}`?)"))
                .unwrap_or_default();
            c.at(
                Some(p.span()),
                who,
                "parent",
                format!("`{ps}` is not a topic id of this file{near}"),
            );
        }
    }
}

/// Labels and examples: present, valid language codes, not empty, and no
/// label without examples in its language.
fn check_labels_and_examples(t: &RawTopic, who: Option<&str>, c: &mut Checker) {
    if t.label.is_empty() {
        let span = t.id.as_ref().map(|i| i.span());
        c.at(
            span,
            who,
            "label",
            "missing; give at least one language, e.g. label = { en = \"…\" }".into(),
        );
    }
    for (lang, l) in &t.label {
        if !valid_language(lang) {
            c.at(
                Some(l.span()),
                who,
                &format!("label.{lang}"),
                format!("`{lang}` is not a language code like `de` or `pt-br`"),
            );
        }
        if l.get_ref().trim().is_empty() {
            c.at(
                Some(l.span()),
                who,
                &format!("label.{lang}"),
                "is empty".into(),
            );
        }
    }
    if t.examples.values().all(|e| e.get_ref().is_empty()) {
        let span = t.id.as_ref().map(|i| i.span());
        c.at(
            span,
            who,
            "examples",
            "no example phrases; a topic is defined by its examples".into(),
        );
    }
    for (lang, ex) in &t.examples {
        let field = format!("examples.{lang}");
        if !valid_language(lang) {
            c.at(
                Some(ex.span()),
                who,
                &field,
                format!("`{lang}` is not a language code like `de` or `pt-br`"),
            );
        }
        if ex.get_ref().iter().any(|e| e.trim().is_empty()) {
            c.at(
                Some(ex.span()),
                who,
                &field,
                "contains an empty phrase".into(),
            );
        }
    }
    for (lang, l) in &t.label {
        if t.examples.get(lang).is_none_or(|e| e.get_ref().is_empty()) {
            c.at(
                Some(l.span()),
                who,
                &format!("examples.{lang}"),
                format!("the topic has a `{lang}` label but no `{lang}` examples; add examples.{lang} = [\"…\"] or drop the label"),
            );
        }
    }
}

/// Keyword rules that can match, none both `must` and `exclude`.
fn check_keywords(t: &RawTopic, who: Option<&str>, c: &mut Checker) {
    for (lang, kw) in &t.keywords {
        let span = kw.must.as_ref().or(kw.exclude.as_ref()).map(|s| s.span());
        if !valid_language(lang) {
            c.at(
                span.clone(),
                who,
                &format!("keywords.{lang}"),
                format!("`{lang}` is not a language code like `de` or `pt-br`"),
            );
        }
        let mut must_norm = BTreeSet::new();
        for (kind, list) in [("must", &kw.must), ("exclude", &kw.exclude)] {
            let Some(list) = list else { continue };
            let field = format!("keywords.{lang}.{kind}");
            for k in list.get_ref() {
                match Pattern::parse(k) {
                    Err(m) => c.at(Some(list.span()), who, &field, m),
                    Ok(p) if kind == "must" => {
                        must_norm.insert(p.key().to_string());
                    }
                    Ok(p) => {
                        if must_norm.contains(p.key()) {
                            c.at(
                                Some(list.span()),
                                who,
                                &field,
                                format!("`{k}` is also a `must` keyword; it cannot be both"),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Parent cycles of any length, each reported once on its smallest id, and
/// chains deeper than [`MAX_LEVELS`].
fn check_parent_chains(topics: &[RawTopic], names: &[String], c: &mut Checker) {
    let parent_of: HashMap<&str, (&str, Range<usize>)> = topics
        .iter()
        .zip(names)
        .filter_map(|(t, n)| {
            t.parent
                .as_ref()
                .map(|p| (n.as_str(), (p.get_ref().as_str(), p.span())))
        })
        .collect();
    let mut reported = BTreeSet::new();
    // Linear in the topics: every topic is walked once. `done` holds the
    // topics whose ancestry is settled (reaches a root, or a cycle already
    // reported); `on_path` the positions on the current walk.
    let mut done: HashSet<&str> = HashSet::new();
    for start in names {
        let mut path: Vec<&str> = Vec::new();
        let mut on_path: HashMap<&str, usize> = HashMap::new();
        let mut at = start.as_str();
        loop {
            if done.contains(at) {
                break;
            }
            if let Some(&k) = on_path.get(at) {
                let cycle = &path[k..];
                let min = cycle.iter().min().copied().unwrap_or(at);
                if cycle.len() > 1 && reported.insert(min.to_string()) {
                    let r = cycle.iter().position(|x| *x == min).unwrap_or(0);
                    let mut ring: Vec<&str> =
                        cycle[r..].iter().chain(&cycle[..r]).copied().collect();
                    ring.push(min);
                    let span = parent_of.get(min).map(|(_, s)| s.clone());
                    c.at(
                        span,
                        Some(min),
                        "parent",
                        format!("parent cycle: {}", ring.join(" → ")),
                    );
                }
                break;
            }
            on_path.insert(at, path.len());
            path.push(at);
            match parent_of.get(at) {
                Some((p, _)) if *p != at => at = p,
                _ => break, // a root, or its own parent (reported above)
            }
        }
        done.extend(path);
    }
    too_deep(names, &parent_of, c);
}

/// The checked topics as the library uses them.
fn build_topics(raw: Vec<RawTopic>, names: Vec<String>) -> Vec<Topic> {
    raw.into_iter()
        .zip(names)
        .map(|(t, id)| Topic {
            id,
            parent: t.parent.map(Spanned::into_inner),
            label: t
                .label
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect(),
            description: t.description,
            examples: t
                .examples
                .into_iter()
                .map(|(k, v)| (k, v.into_inner()))
                .collect(),
            keywords: t
                .keywords
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        Keywords {
                            must: v.must.map(Spanned::into_inner).unwrap_or_default(),
                            exclude: v.exclude.map(Spanned::into_inner).unwrap_or_default(),
                        },
                    )
                })
                .collect(),
        })
        .collect()
}

impl fmt::Display for Taxonomy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({} topics)",
            self.name,
            self.version,
            self.topics.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        match Taxonomy::parse(text, "t.toml") {
            Err(TaxonomyError::Invalid { problems, .. }) => problems,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("accepted:\n{text}"),
        }
    }

    const HEAD: &str = "name = \"t\"\nversion = \"1\"\n";

    fn topic(id: &str, parent: Option<&str>) -> String {
        let parent = parent.map_or(String::new(), |p| format!("parent = \"{p}\"\n"));
        format!("[[topic]]\nid = \"{id}\"\n{parent}label = {{ en = \"{id}\" }}\nexamples.en = [\"{id} example\"]\n")
    }

    #[test]
    fn a_suggested_command_names_the_file_it_was_read_from() {
        let text = format!("{HEAD}{}", topic("a", None));
        let plain = Taxonomy::parse(&text, "conf/topics-v2.toml").unwrap();
        assert_eq!(plain.taxonomy_arg(), "--taxonomy conf/topics-v2.toml");
        // Quoted where a shell would split or expand it.
        let odd = Taxonomy::parse(&text, "my topics/it's.toml").unwrap();
        let arg = odd.taxonomy_arg();
        assert_eq!(
            shlex::split(&arg).unwrap(),
            ["--taxonomy", "my topics/it's.toml"]
        );
        assert_eq!(
            Taxonomy::default_contact_center().source,
            "models/taxonomy/contact-center.toml"
        );
    }

    #[test]
    fn shipped_taxonomy_is_valid() {
        let t = Taxonomy::default_contact_center();
        assert!(t.topics.len() >= 10);
        for topic in &t.topics {
            for lang in ["de", "nl", "en", "fr", "es"] {
                assert!(
                    topic.examples.get(lang).is_some_and(|e| e.len() >= 6),
                    "{} {lang}",
                    topic.id
                );
            }
        }
    }

    #[test]
    fn shipped_billing_needs_a_word_for_a_bill_or_a_payment() {
        // 2.3.0: a wait blamed on the company is not billing unless it names
        // a bill, a payment or a refund; compounds match by their last part.
        let t = Taxonomy::default_contact_center();
        let billing = t.topics.iter().find(|t| t.id == "billing").unwrap();
        let f = billing.keyword_filter();
        let allows = |text: &str, lang: &str| {
            f.must_allows(
                &crate::classify::keywords::Normalized::new(text),
                Some(lang),
            )
        };
        for (text, lang) in [
            (
                "I am having to wait another month because there was an error on your behalf",
                "en",
            ),
            ("5 months wait", "en"),
            (
                "wegen eines Fehlers Ihrerseits muss ich noch einen Monat warten",
                "de",
            ),
            (
                "door een fout van jullie kant moet ik nog een maand wachten",
                "nl",
            ),
            (
                "à cause d'une erreur de votre part je dois encore attendre un mois",
                "fr",
            ),
            ("por un error suyo tengo que esperar otro mes más", "es"),
        ] {
            assert!(!allows(text, lang), "{text}");
        }
        for (text, lang) in [
            ("you charged me for March twice", "en"),
            ("still waiting for my refund", "en"),
            ("Handyrechnung viel zu hoch", "de"),
            ("doppelt abgebucht", "de"),
            ("Rückerstattung kam nie", "de"),
            ("jaarafrekening klopt niet", "nl"),
            ("voorschotbedrag te hoog", "nl"),
            ("prélevé deux fois", "fr"),
            ("me cobraron dos veces", "es"),
        ] {
            assert!(allows(text, lang), "{text}");
        }
    }

    #[test]
    fn generic_verdicts_are_on_unless_the_file_turns_them_off() {
        assert!(Taxonomy::default_contact_center().generic_verdicts);
        let on = Taxonomy::parse(&format!("{HEAD}{}", topic("a", None)), "t.toml").unwrap();
        assert!(on.generic_verdicts);
        let off = format!("{HEAD}generic_verdicts = false\n{}", topic("a", None));
        assert!(!Taxonomy::parse(&off, "t.toml").unwrap().generic_verdicts);
        let bad = format!("{HEAD}generic_verdicts = \"no\"\n{}", topic("a", None));
        assert!(Taxonomy::parse(&bad, "t.toml").is_err());
    }

    #[test]
    fn duplicate_ids_and_cycles_are_errors() {
        let dup = format!("{HEAD}{}{}", topic("a", None), topic("a", None));
        let p = problems(&dup);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].topic.as_deref(), Some("a"));
        assert_eq!(p[0].field.as_deref(), Some("id"));
        // The second `id = "a"` is on line 8 (3 header-ish lines per topic
        // after the two head lines: [[topic]], id, label, examples).
        assert_eq!(p[0].line, Some(8));
        assert!(p[0].message.contains("first at line 4"), "{}", p[0].message);
        let e = Taxonomy::parse(&dup, "dup.toml").unwrap_err().to_string();
        assert!(e.starts_with("dup.toml:8:"), "{e}");

        let cycle = format!(
            "{HEAD}{}{}{}",
            topic("a", Some("c")),
            topic("b", Some("a")),
            topic("c", Some("b"))
        );
        let p = problems(&cycle);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].message, "parent cycle: a → c → b → a");
        assert_eq!(p[0].topic.as_deref(), Some("a"));
        assert_eq!(p[0].line, Some(5), "the parent line of `a`");

        let own = format!("{HEAD}{}", topic("a", Some("a")));
        let p = problems(&own);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].message.contains("own parent"));
    }

    #[test]
    fn deep_hierarchies_are_fine_and_levels_count_from_one() {
        let text = format!(
            "{HEAD}{}{}{}{}",
            topic("a", None),
            topic("b", Some("a")),
            topic("c", Some("b")),
            topic("d", Some("c"))
        );
        let t = Taxonomy::parse(&text, "t.toml").unwrap();
        assert_eq!(t.levels(), vec![1, 2, 3, 4]);
        assert_eq!(t.index_of("c"), Some(2));
    }

    #[test]
    fn every_problem_is_reported_with_topic_field_and_line() {
        let text = "name = \"t\"\n\
[[topic]]\n\
id = \"Wait-Time\"\n\
label = { en = \"W\" }\n\
examples.en = [\"x\"]\n\
[[topic]]\n\
id = \"agent\"\n\
parent = \"agnet_x\"\n\
label = { en = \"A\", de = \"M\" }\n\
examples.en = [\"y\", \"  \"]\n\
keywords.en.must = [\"b*ot\"]\n\
keywords.en.exclude = [\"\"]\n\
[[topic]]\n\
id = \"agents\"\n\
parent = \"agent\"\n\
label = { en = \"A\" }\n\
examples.en = []\n";
        let p = problems(text);
        let find = |field: &str| {
            p.iter()
                .find(|x| x.field.as_deref() == Some(field))
                .unwrap_or_else(|| panic!("no problem on {field}: {p:#?}"))
        };
        assert_eq!(find("version").line, None);
        assert!(find("version").message.starts_with("missing"));
        let id = find("id");
        assert_eq!((id.line, id.topic.as_deref()), (Some(3), Some("#1")));
        let parent = find("parent");
        assert_eq!(
            (parent.line, parent.topic.as_deref()),
            (Some(8), Some("agent"))
        );
        assert!(
            parent.message.contains("`agnet_x` is not a topic id"),
            "{}",
            parent.message
        );
        let de = find("examples.de");
        assert_eq!(de.line, Some(9));
        assert!(de.message.contains("`de` label but no `de` examples"));
        assert_eq!(find("examples.en").line, Some(10));
        assert!(find("keywords.en.must")
            .message
            .contains("only allowed at the start"));
        assert!(find("keywords.en.exclude").message.contains("no letters"));
        let empty = find("examples");
        assert_eq!(empty.topic.as_deref(), Some("agents"));
        assert_eq!(p.len(), 9, "{p:#?}");
        // Sorted by line; the rendered error lists them all.
        let lines: Vec<usize> = p.iter().map(|x| x.line.unwrap_or(0)).collect();
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
        let e = Taxonomy::parse(text, "t.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("t.toml: 9 problems\n  t.toml: field `version`: missing"),
            "{e}"
        );
        assert!(
            e.contains("\n  t.toml:8:10: topic `agent`, field `parent`: `agnet_x`"),
            "{e}"
        );
    }

    #[test]
    fn did_you_mean_on_a_near_parent() {
        let text = format!(
            "{HEAD}{}{}",
            topic("billing", None),
            topic("fees", Some("biling"))
        );
        let p = problems(&text);
        assert!(
            p[0].message.ends_with("(did you mean `billing`?)"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn toml_errors_keep_their_line() {
        let text = format!(
            "{HEAD}[[topic]]\nid = \"a\"\nlabel = {{ en = \"A\" }}\nexamples.en = \"not a list\"\n"
        );
        let p = problems(&text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, Some(6), "{p:?}");
        let text = format!("{HEAD}{}keywords.en.mustt = [\"x\"]\n", topic("a", None));
        let p = problems(&text);
        assert_eq!(p[0].line, Some(7), "{p:?}");
        assert!(
            p[0].message.contains("unknown field `mustt`"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn keywords_are_read_and_contradictions_refused() {
        let ok = format!("{HEAD}{}keywords.en.must = [\"chatbot\", \"bot*\"]\nkeywords.en.exclude = [\"robot\"]\n", topic("a", None));
        let t = Taxonomy::parse(&ok, "t.toml").unwrap();
        assert_eq!(
            t.topics[0].keywords["en"],
            Keywords {
                must: vec!["chatbot".into(), "bot*".into()],
                exclude: vec!["robot".into()]
            }
        );
        let both = format!(
            "{HEAD}{}keywords.en.must = [\"Bot\"]\nkeywords.en.exclude = [\"bot\"]\n",
            topic("a", None)
        );
        let p = problems(&both);
        assert!(p[0].message.contains("also a `must` keyword"), "{p:?}");
    }

    #[test]
    fn versions_and_language_codes() {
        for v in ["1", "1.0.0", "2.1", "2.0.0-rc.1", "1.0.0+build5"] {
            assert!(valid_version(v), "{v}");
        }
        for v in ["", "v1", "1..0", "one", "1.0 beta"] {
            assert!(!valid_version(v), "{v}");
        }
        for l in ["de", "fra", "pt-br", "zh-hans"] {
            assert!(valid_language(l), "{l}");
        }
        for l in ["", "d", "DE", "german", "pt_br", "pt-"] {
            assert!(!valid_language(l), "{l}");
        }
    }

    #[test]
    fn warnings_name_uncovered_languages_and_shared_examples() {
        let text = format!(
            "{HEAD}[[topic]]\nid = \"a\"\nlabel = {{ en = \"A\", de = \"A\" }}\nexamples.en = [\"same thing\"]\nexamples.de = [\"etwas\"]\nkeywords.en.must = [\"thing\"]\n{}",
            "[[topic]]\nid = \"b\"\nlabel = { en = \"B\" }\nexamples.en = [\"Same   THING!\"]\n"
        );
        let w = Taxonomy::parse(&text, "t.toml").unwrap().warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("topic `a`: `must` keywords for en but not for de"),
            "{}",
            w[0]
        );
        assert!(w[1].contains("in both `a` and `b`"), "{}", w[1]);
        let refused = format!(
            "{HEAD}[[topic]]\nid = \"a\"\nlabel = {{ en = \"A\" }}\nexamples.en = [\"the bot\", \"the menu\", \"a robot arm\"]\nkeywords.en.must = [\"bot\", \"robot\"]\nkeywords.en.exclude = [\"arm\"]\n"
        );
        let w = Taxonomy::parse(&refused, "t.toml").unwrap().warnings();
        assert_eq!(
            w,
            vec![
                "topic `a`: example \"the menu\" (en) contains none of the topic's `must` keywords".to_string(),
                "topic `a`: example \"a robot arm\" (en) contains one of the topic's `exclude` keywords".to_string(),
            ]
        );
    }

    #[test]
    fn shape_mistakes_name_the_key_and_show_its_form() {
        let head = "name = \"x\"\nversion = \"1\"\n";
        let cases = [
            (
                "[[topic]]\nid = \"a\"\nlabel = [\"A\"]\n",
                "t.toml:5:9: field `label`: invalid type: sequence, expected a map; write it as one label per language: `label = { en = \"Billing\", de = \"Rechnung\" }`",
            ),
            (
                "[[topic]]\nid = \"a\"\nlabel.en = \"A\"\nexamples = [\"x\"]\n",
                "field `examples`: invalid type: sequence, expected a map; write it as a list per language: `examples.en = [",
            ),
            (
                "[[topic]]\nid = \"a\"\nlabel.en = \"A\"\nexamples.en = \"x\"\n",
                "field `examples.en`: invalid type: string \"x\", expected a sequence; write it as a list per language",
            ),
            (
                "[[topic]]\nid = \"a\"\nlabel.en = \"A\"\nkeywords.must = [\"a\"]\n",
                "field `keywords.must`: ",
            ),
            (
                "[topic]\nid = \"a\"\n",
                "field `topic`: invalid type: map, expected a sequence; write it as `[[topic]]`",
            ),
        ];
        for (body, want) in cases {
            let e = Taxonomy::parse(&format!("{head}{body}"), "t.toml").unwrap_err();
            let TaxonomyError::Invalid { problems, .. } = &e else {
                panic!("{e}")
            };
            let got = problems[0].render("t.toml");
            assert!(got.contains(want), "{body}\n{got}");
        }
    }
}
