//! The architecture invariants ARCHITECTURE.md states about modules, read
//! off the source: the top-level modules form layers and each depends only
//! on layers below it, and within a module no two files depend on each
//! other in a loop. Reading the paths a file names (`use` trees and
//! `crate::`/`super::` paths in code) is enough; comments and test code
//! (from `#[cfg(test)]` on, and test-only files) are left out.

use crate::support::repo;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, lowest first. A module uses only modules of lower layers;
/// the modules of one layer do not know each other.
const LAYERS: &[&[&str]] = &[
    &["hint"],
    &["model"],
    &["random"],
    // The Supervisor's API objects and the messages its parts exchange.
    &["api"],
    &["event"],
    &["actor"],
    &["placement"],
    &["scenario"],
    &["inputs"],
    &["sim"],
    &["supervisor"],
    &["actors"],
    &["world"],
    &["check", "report", "store"],
    &["run"],
    &["import", "live", "plan"],
    &["fuzz"],
    &["trace"],
    // The live Supervisor: the engine over the whole simulator, and its
    // HTTPS shell.
    &["serve"],
];

/// Files compiled only for tests.
const TEST_FILES: &[&str] = &["tests.rs", "testkit.rs", "testutil.rs"];

/// A source file's module path (`supervisor/api_server` for
/// `src/supervisor/api_server/mod.rs`) and its code without comments and
/// tests.
fn sources() -> BTreeMap<Vec<String>, String> {
    let mut out = BTreeMap::new();
    collect(&repo().join("src"), &mut Vec::new(), &mut out);
    out
}

fn collect(dir: &Path, at: &mut Vec<String>, out: &mut BTreeMap<Vec<String>, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            at.push(name);
            collect(&path, at, out);
            at.pop();
        } else if name.ends_with(".rs") && !TEST_FILES.contains(&name.as_str()) {
            let mut module = at.clone();
            match name.as_str() {
                "mod.rs" => {}
                "lib.rs" | "main.rs" if at.is_empty() => continue,
                _ => module.push(name.trim_end_matches(".rs").to_string()),
            }
            if module.first().is_some_and(|m| m == "cli") {
                continue;
            }
            out.insert(module, code_of(&std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The text without `//` comments and without everything from the first
/// `#[cfg(test)]` on (tests sit at the end of a file).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a file names from `crate`, `super` or `self`, with `use`
/// trees expanded (`use super::{a, b::c}` names `super::a` and
/// `super::b::c`).
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || "_:".contains(chars[i - 1]));
        let starts = ["crate::", "super::", "self::"].iter().any(|p| {
            p.chars()
                .enumerate()
                .all(|(k, c)| chars.get(i + k) == Some(&c))
        });
        if starts && !after_word {
            let (tree, end) = use_tree(&chars, i);
            out.extend(tree);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Parses a path (and a brace group after `::`, recursively) from `i`.
fn use_tree(s: &[char], mut i: usize) -> (Vec<String>, usize) {
    let mut prefix = String::new();
    loop {
        let start = i;
        while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
            i += 1;
        }
        prefix.extend(&s[start..i]);
        if i + 2 < s.len() && s[i] == ':' && s[i + 1] == ':' {
            i += 2;
            if s[i] == '{' {
                let mut out = Vec::new();
                i += 1;
                loop {
                    while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
                        i += 1;
                    }
                    if i >= s.len() || s[i] == '}' {
                        return (out, i + 1);
                    }
                    let (inner, end) = use_tree(s, i);
                    out.extend(inner.into_iter().map(|p| format!("{prefix}::{p}")));
                    i = end;
                    // Skip `as name` and anything up to the next item.
                    while i < s.len() && s[i] != ',' && s[i] != '}' {
                        i += 1;
                    }
                }
            }
            prefix.push_str("::");
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The module a path points into: the longest prefix that is a file.
fn resolve(
    from: &[String],
    path: &str,
    modules: &BTreeMap<Vec<String>, String>,
) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<String> = match *segs.first()? {
        "crate" => Vec::new(),
        "self" | "super" => from.to_vec(),
        _ => return None,
    };
    while segs.first() == Some(&"super") {
        base.pop();
        segs.remove(0);
    }
    if matches!(segs.first(), Some(&"crate") | Some(&"self")) {
        segs.remove(0);
    }
    (0..=segs.len()).rev().find_map(|k| {
        let mut m = base.clone();
        m.extend(segs[..k].iter().map(|s| s.to_string()));
        modules.contains_key(&m).then_some(m)
    })
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// (from, to) module-path edges between different files.
fn edges() -> BTreeSet<(Vec<String>, Vec<String>)> {
    let modules = sources();
    let mut out = BTreeSet::new();
    for (from, code) in &modules {
        for path in paths(code) {
            if let Some(to) = resolve(from, &path, &modules)
                && to != *from
            {
                out.insert((from.clone(), to));
            }
        }
    }
    out
}

#[test]
fn top_level_modules_depend_only_on_lower_layers() {
    let mut wrong = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for (from, to) in edges() {
        let (Some(a), Some(b)) = (from.first(), to.first()) else {
            continue;
        };
        if a == b {
            continue;
        }
        match (layer_of(a), layer_of(b)) {
            (Some(la), Some(lb)) if lb < la => {}
            (Some(_), Some(_)) => {
                wrong.insert(format!("{} -> {}", from.join("/"), to.join("/")));
            }
            _ => {
                unknown.insert(if layer_of(a).is_none() {
                    a.clone()
                } else {
                    b.clone()
                });
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules missing from LAYERS: {unknown:?}"
    );
    assert!(
        wrong.is_empty(),
        "imports against the layers (ARCHITECTURE.md, \"Layers\"):\n  {}",
        wrong.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn files_within_a_module_do_not_depend_on_each_other_in_a_loop() {
    // Edges between files of one top-level module, leaving out a file's
    // use of its own ancestors (a `mod.rs` and what it declares).
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (from, to) in edges() {
        let ancestor = to.len() < from.len() && from[..to.len()] == to[..];
        if from.first() == to.first() && !ancestor {
            graph.entry(from).or_default().insert(to);
        }
    }
    let mut loops = Vec::new();
    for start in graph.keys() {
        // A loop through `start` back to itself, found by a depth-first walk.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for next in graph.get(&at).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = trail.iter().map(|m| m.join("/")).collect();
                    loops.push(names.join(" -> "));
                } else if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next.clone(), t));
                }
            }
        }
    }
    loops.sort();
    loops.dedup();
    assert!(
        loops.is_empty(),
        "files in a loop:\n  {}",
        loops.join("\n  ")
    );
}

/// The reader finds what it must, so that the tests above cannot pass by
/// reading nothing.
#[test]
fn the_reader_expands_use_trees_and_resolves_super() {
    let found = paths("use super::{a, b::{c, d as e}};\nlet x = crate::model::SimTime(1);");
    assert_eq!(
        found,
        [
            "super::a",
            "super::b::c",
            "super::b::d",
            "crate::model::SimTime"
        ]
    );
    let e = edges();
    assert!(
        e.contains(&(vec!["run".into()], vec!["sim".into()])),
        "run uses sim"
    );
    assert!(e.len() > 200, "only {} edges read", e.len());
}
