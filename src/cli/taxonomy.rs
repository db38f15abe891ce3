//! `verbatim taxonomy check`: validate taxonomy files and summarize them.
//!
//! Meant for the person who edits a taxonomy and for CI: every problem of a
//! file is listed (file, line, topic, field), and a valid file gets a summary
//! that shows at a glance whether a language or a branch is thin.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::classify::taxonomy::{Taxonomy, TaxonomyError};
use crate::exit_codes::ExitCode;

/// Arguments of `verbatim taxonomy`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

/// What to do with taxonomies.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Check taxonomy files and print a summary of each valid one.
    ///
    /// Lists every problem of a file at once, each with file, line, topic and
    /// field: missing name or version, invalid or duplicate ids, a parent that
    /// is not a topic, a parent cycle or more than 32 levels, a label language without examples,
    /// empty phrases, keywords that can never match or that are both `must`
    /// and `exclude`. A valid file gets its name and version, the topics per
    /// level of the hierarchy, example phrases and keywords per language, the
    /// topic tree, and warnings (allowed, but probably not meant).
    ///
    /// Exit codes: 0 every file is valid (warnings do not count); 2 at least
    /// one file is not a valid taxonomy; 1 a file could not be read.
    ///
    /// Example: verbatim taxonomy check models/taxonomy/*.toml
    #[command(verbatim_doc_comment)]
    Check {
        /// Taxonomy TOML files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Leave out the topic tree.
        #[arg(long)]
        brief: bool,
    },
}

/// Runs `verbatim taxonomy`.
pub fn run(args: Args) -> Result<ExitCode> {
    match args.action {
        Action::Check { files, brief } => {
            let mut code = ExitCode::Success;
            for (i, file) in files.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                match Taxonomy::from_file(file) {
                    Ok(tax) => print!(
                        "{}",
                        render_summary(&tax, &file.display().to_string(), !brief)
                    ),
                    Err(e @ TaxonomyError::Read { .. }) => {
                        eprintln!("error: {e}");
                        code = ExitCode::Error;
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        if code == ExitCode::Success {
                            code = ExitCode::Usage;
                        }
                    }
                }
            }
            Ok(code)
        }
    }
}

/// Counts shown by `taxonomy check`.
#[derive(Debug, Default, PartialEq)]
pub struct Summary {
    /// Topics per level (index 0: level 1).
    pub per_level: Vec<usize>,
    /// Example phrases per language, and the fewest any topic has in it.
    pub examples: BTreeMap<String, (usize, usize)>,
    /// Topics with a label per language.
    pub labels: BTreeMap<String, usize>,
    /// `must` and `exclude` keywords per language.
    pub keywords: BTreeMap<String, (usize, usize)>,
    /// Topics with any keyword.
    pub topics_with_keywords: usize,
}

/// The counts of a taxonomy.
pub fn summarize(tax: &Taxonomy) -> Summary {
    let mut s = Summary::default();
    for level in tax.levels() {
        if s.per_level.len() < level {
            s.per_level.resize(level, 0);
        }
        s.per_level[level - 1] += 1;
    }
    for t in &tax.topics {
        for (lang, ex) in &t.examples {
            let e = s.examples.entry(lang.clone()).or_insert((0, usize::MAX));
            e.0 += ex.len();
            e.1 = e.1.min(ex.len());
        }
        for lang in t.label.keys() {
            *s.labels.entry(lang.clone()).or_default() += 1;
        }
        let mut any = false;
        for (lang, k) in &t.keywords {
            let e = s.keywords.entry(lang.clone()).or_default();
            e.0 += k.must.len();
            e.1 += k.exclude.len();
            any |= !k.must.is_empty() || !k.exclude.is_empty();
        }
        s.topics_with_keywords += usize::from(any);
    }
    // A language missing from some topic has a minimum of 0 there.
    for (lang, e) in s.examples.iter_mut() {
        if tax.topics.iter().any(|t| !t.examples.contains_key(lang)) {
            e.1 = 0;
        }
    }
    s
}

/// The text printed for a valid taxonomy.
pub fn render_summary(tax: &Taxonomy, source: &str, tree: bool) -> String {
    let s = summarize(tax);
    let mut out = format!("{source}: valid\n");
    out.push_str(&format!(
        "  name:      {}\n  version:   {}\n",
        tax.name, tax.version
    ));
    let levels: Vec<String> = s
        .per_level
        .iter()
        .enumerate()
        .map(|(i, n)| format!("level {}: {n}", i + 1))
        .collect();
    out.push_str(&format!(
        "  topics:    {} ({})\n",
        tax.topics.len(),
        levels.join(", ")
    ));
    out.push_str("  examples:  ");
    out.push_str(
        &s.examples
            .iter()
            .map(|(l, (n, min))| format!("{l} {n} (min {min}/topic)"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push('\n');
    out.push_str("  labels:    ");
    out.push_str(
        &s.labels
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    out.push('\n');
    if s.keywords.is_empty() {
        out.push_str("  keywords:  none\n");
    } else {
        out.push_str(&format!(
            "  keywords:  {} topics; must/exclude per language: {}\n",
            s.topics_with_keywords,
            s.keywords
                .iter()
                .map(|(l, (m, e))| format!("{l} {m}/{e}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if tree {
        out.push_str("  tree:\n");
        let levels = tax.levels();
        let mut order = Vec::new();
        push_subtree(tax, None, &mut order);
        // Labels line up after the ids, but a long id pads no line but its
        // own (every line padded to it made the tree its size times the
        // topics).
        let width = tax
            .topics
            .iter()
            .zip(&levels)
            .map(|(t, l)| t.id.len() + 2 * l)
            .max()
            .unwrap_or(0)
            .min(TREE_ALIGN);
        for i in order {
            let t = &tax.topics[i];
            let indent = "  ".repeat(levels[i]);
            let n: usize = t.examples.values().map(Vec::len).sum();
            let kw: usize = t
                .keywords
                .values()
                .map(|k| k.must.len() + k.exclude.len())
                .sum();
            let kw = if kw > 0 {
                format!(", {kw} keywords")
            } else {
                String::new()
            };
            let pad = width.saturating_sub(t.id.len() + 2 * levels[i]);
            out.push_str(&format!(
                "  {indent}{}{} {} ({n} examples{kw})\n",
                t.id,
                " ".repeat(pad),
                t.display_label()
            ));
        }
    }
    let warnings = tax.warnings();
    if !warnings.is_empty() {
        out.push_str(&format!("  warnings:  {}\n", warnings.len()));
        for w in warnings {
            out.push_str(&format!("    {w}\n"));
        }
    }
    out
}

/// Column up to which the tree pads ids so that labels line up.
const TREE_ALIGN: usize = 48;

/// Topics in tree order: each parent followed by its children, file order.
fn push_subtree(tax: &Taxonomy, parent: Option<&str>, out: &mut Vec<usize>) {
    for (i, t) in tax.topics.iter().enumerate() {
        if t.parent.as_deref() == parent {
            out.push(i);
            push_subtree(tax, Some(&t.id), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_levels_examples_and_keywords() {
        let text = r#"
name = "t"
version = "1.2.0"
[[topic]]
id = "a"
label = { en = "A", de = "A" }
examples.en = ["one", "two", "three"]
examples.de = ["eins"]
[[topic]]
id = "b"
parent = "a"
label = { en = "B" }
examples.en = ["four"]
keywords.en.must = ["four", "4"]
keywords.de.exclude = ["vier"]
[[topic]]
id = "c"
parent = "b"
label = { en = "C" }
examples.en = ["five", "six"]
"#;
        let tax = Taxonomy::parse(text, "t.toml").unwrap();
        let s = summarize(&tax);
        assert_eq!(s.per_level, vec![1, 1, 1]);
        assert_eq!(s.examples["en"], (6, 1));
        assert_eq!(s.examples["de"], (1, 0), "b and c have no de examples");
        assert_eq!(s.labels["en"], 3);
        assert_eq!(s.keywords["en"], (2, 0));
        assert_eq!(s.keywords["de"], (0, 1));
        assert_eq!(s.topics_with_keywords, 1);
        let r = render_summary(&tax, "t.toml", true);
        assert!(
            r.contains("  topics:    3 (level 1: 1, level 2: 1, level 3: 1)\n"),
            "{r}"
        );
        // Tree: children indented under their parent.
        let a = r.find("\n    a").unwrap();
        let b = r.find("\n      b").unwrap();
        let c = r.find("\n        c").unwrap();
        assert!(a < b && b < c, "{r}");
        assert!(r.contains("(1 examples, 3 keywords)"), "{r}");
    }
}
