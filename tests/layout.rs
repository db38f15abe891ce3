//! The shape of the source tree, checked: the modules import one way only
//! (the layers below, lowest first), no module imports its caller, the
//! import graph between files has no cycle, and no function outside test
//! code runs over 120 lines. Reads `src/` as text: `crate::` paths and
//! `super::` paths outside comments and `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, lowest layer first; a module may import from its
/// own layer and the ones before it, never from a later one. Modules of one
/// layer do not import each other (checked by the cycle test only).
const LAYERS: &[&[&str]] = &[
    &["text", "input"],
    &["model"],
    &["classify"],
    &["stats"],
    &["pipeline", "exit_codes"],
    &["output"],
    &["report"],
    &["app"],
    &["cli"],
];

/// Longest function allowed outside tests, in lines from `fn` to its `}`.
const MAX_FUNCTION_LINES: usize = 120;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Module path of a file: `src/stats/nps.rs` → `stats::nps`,
/// `src/stats/mod.rs` → `stats`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The lines of a file without its test modules, and without comment lines
/// unless `comments`.
fn code_lines(text: &str, comments: bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        let t = l.trim_start();
        if t.starts_with("#[cfg(test)]") {
            // Skip the item that follows: up to the line that closes it at
            // the same indentation (a `mod tests { … }` or a one-line `mod x;`).
            let indent = &l[..l.len() - t.len()];
            if let Some(next) = lines.next() {
                if !next.trim_end().ends_with(';') {
                    for inner in lines.by_ref() {
                        if inner == format!("{indent}}}") {
                            break;
                        }
                    }
                }
            }
            continue;
        }
        if !comments && t.starts_with("//") {
            continue;
        }
        out.push(l);
    }
    out
}

/// Every path after `crate::` or `super::` in `line`, as written.
fn paths_in(line: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: Vec<String> = rest
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("")
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

/// The files' modules and, for each, the modules it imports.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .filter(|f| !["lib.rs", "main.rs"].contains(&f.file_name().unwrap().to_str().unwrap()))
        .map(|f| (module_of(f), f.clone()))
        .collect();
    let resolve = |path: &[String]| -> Option<String> {
        (1..=path.len())
            .rev()
            .map(|k| path[..k].join("::"))
            .find(|m| modules.contains_key(m))
    };
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let is_mod_rs = file.file_name().unwrap() == "mod.rs";
        // `super::` of `a::b` (a file) is `a`; of `a` (a mod.rs) it is the root.
        let parent: Vec<String> = {
            let mut p: Vec<String> = module.split("::").map(str::to_string).collect();
            p.pop();
            p
        };
        let text = std::fs::read_to_string(file).unwrap();
        let mut imports = BTreeSet::new();
        for line in code_lines(&text, false) {
            for path in paths_in(line, "crate::") {
                imports.extend(resolve(&path));
            }
            for path in paths_in(line, "super::") {
                let base = if is_mod_rs {
                    let mut p = parent.clone();
                    p.pop();
                    p
                } else {
                    parent.clone()
                };
                let full: Vec<String> = base.into_iter().chain(path).collect();
                imports.extend(resolve(&full));
            }
        }
        imports.remove(module);
        graph.insert(module.clone(), imports);
    }
    graph
}

fn layer_of(module: &str) -> usize {
    let top = module.split("::").next().unwrap();
    LAYERS
        .iter()
        .position(|l| l.contains(&top))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer of tests/layout.rs"))
}

#[test]
fn modules_import_only_from_lower_layers() {
    let mut back = Vec::new();
    for (module, imports) in import_graph() {
        let top = module.split("::").next().unwrap();
        for i in imports {
            let other = i.split("::").next().unwrap();
            if other != top && layer_of(&i) >= layer_of(&module) {
                back.push(format!("{module} → {i}"));
            }
        }
    }
    assert!(
        back.is_empty(),
        "imports that point up or sideways (layers, lowest first: {LAYERS:?}):\n{}",
        back.join("\n")
    );
}

#[test]
fn the_import_graph_has_no_cycle() {
    let graph = import_graph();
    // Depth-first search with colours: a grey node met again is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, Colour> =
        graph.keys().map(|k| (k.as_str(), Colour::White)).collect();
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<&'a str, Colour>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        colour.insert(m, Colour::Grey);
        stack.push(m);
        for next in &graph[m] {
            match colour[next.as_str()] {
                Colour::Grey => {
                    let from = stack.iter().position(|s| s == next).unwrap();
                    let mut cycle: Vec<String> =
                        stack[from..].iter().map(|s| s.to_string()).collect();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Colour::White => {
                    if let Some(c) = visit(next, graph, colour, stack) {
                        return Some(c);
                    }
                }
                Colour::Black => {}
            }
        }
        stack.pop();
        colour.insert(m, Colour::Black);
        None
    }
    for m in graph.keys() {
        if colour[m.as_str()] == Colour::White {
            let cycle = visit(m, &graph, &mut colour, &mut Vec::new());
            assert!(
                cycle.is_none(),
                "import cycle: {}",
                cycle.unwrap().join(" → ")
            );
        }
    }
}

#[test]
fn no_function_outside_tests_is_longer_than_the_limit() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut long = Vec::new();
    // Test modules kept in files of their own (`#[cfg(test)] mod tests;`).
    files.retain(|f| {
        let name = f.file_name().unwrap().to_string_lossy();
        name != "tests.rs" && !name.ends_with("_tests.rs")
    });
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = code_lines(&text, true);
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            let signature = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "const fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if !signature || t.ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            if let Some(end) = lines[i + 1..].iter().position(|x| **x == close) {
                let n = end + 2;
                if n > MAX_FUNCTION_LINES {
                    long.push(format!("{} lines: {} `{}`", n, file.display(), t));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checks_see_real_edges() {
    // The graph is not trivially empty: the pipeline reads the classifier
    // and the statistics, the command line the app.
    let g = import_graph();
    assert!(
        g["pipeline"].contains("classify::embed"),
        "{:?}",
        g["pipeline"]
    );
    assert!(g["pipeline"].iter().any(|m| m.starts_with("stats")));
    assert!(g["cli::analyze"].contains("app::analyze"));
}
