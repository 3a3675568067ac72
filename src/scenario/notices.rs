//! Parse-time notices: what a scenario may do but deserves a line on
//! stderr, such as a manifest with real fields pacsim does not model.
//!
//! They are collected in a thread-local during one [`collect`] (one
//! `parse_scenario`), so that the many small field parsers need no extra
//! parameter; outside a collection nothing is recorded. Parsing is
//! single-threaded and a collection restores the one it interrupted, so
//! nested parses (a log's stored scenario) stay apart.

use super::model::Location;
use std::cell::RefCell;

#[derive(Default)]
struct State {
    /// The file being read: the scenario, or an `include:` inside it.
    files: Vec<String>,
    notices: Vec<String>,
    /// While one manifest is parsed: the paths of the fields it carries
    /// that are accepted without being modelled.
    unmodelled: Option<Vec<String>>,
    /// While an API body is parsed under `fieldValidation=Warn` or
    /// `Ignore`: the fields that look like typos of modelled ones, which
    /// are then dropped instead of refused.
    typos: Option<Vec<String>>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `parse` for `file`, returning its result and the notices it made,
/// each `file:line:col: message`.
pub(crate) fn collect<T>(file: &str, parse: impl FnOnce() -> T) -> (T, Vec<String>) {
    let fresh = State {
        files: vec![file.to_string()],
        ..State::default()
    };
    let outer = STATE.with(|s| s.borrow_mut().replace(fresh));
    let result = parse();
    let mine = STATE.with(|s| std::mem::replace(&mut *s.borrow_mut(), outer));
    (result, mine.map(|s| s.notices).unwrap_or_default())
}

/// Runs `read` with notices located in `file` (an `include:`).
pub(crate) fn in_file<T>(file: &str, read: impl FnOnce() -> T) -> T {
    with(|s| s.files.push(file.to_string()));
    let result = read();
    with(|s| {
        s.files.pop();
    });
    result
}

/// A notice at `loc` of the current file.
pub(crate) fn push(loc: Location, message: String) {
    with(|s| {
        let file = s.files.last().cloned().unwrap_or_default();
        s.notices
            .push(format!("{file}:{}:{}: {message}", loc.line, loc.col));
    });
}

/// Runs `parse` (one manifest), returning the fields it accepted without
/// modelling them ([`accept_unmodelled`]), in the order met.
pub(crate) fn unmodelled_fields<T>(parse: impl FnOnce() -> T) -> (T, Vec<String>) {
    let outer = with(|s| s.unmodelled.replace(Vec::new())).flatten();
    let result = parse();
    let fields = with(|s| std::mem::replace(&mut s.unmodelled, outer)).flatten();
    (result, fields.unwrap_or_default())
}

/// Runs `parse` (one API body) with fields that look like typos dropped
/// instead of refused, returning their paths in the order met.
pub(crate) fn accepting_typos<T>(parse: impl FnOnce() -> T) -> (T, Vec<String>) {
    let outer = with(|s| s.typos.replace(Vec::new())).flatten();
    let result = parse();
    let typos = with(|s| std::mem::replace(&mut s.typos, outer)).flatten();
    (result, typos.unwrap_or_default())
}

/// Records `path`, a field that looks like a typo, as dropped. False when
/// typos are refused (the caller reports it then).
pub(crate) fn accept_typo(path: String) -> bool {
    with(|s| match &mut s.typos {
        Some(typos) => {
            typos.push(path);
            true
        }
        None => false,
    })
    .unwrap_or(false)
}

/// Whether a manifest is being parsed under a collection (its unknown
/// fields may then be accepted, see `read::Fields`).
pub(crate) fn in_manifest() -> bool {
    with(|s| s.unmodelled.is_some()).unwrap_or(false)
}

/// Records `path` as accepted without being modelled. False when no
/// manifest is being parsed under a collection: the caller is strict then.
pub(crate) fn accept_unmodelled(path: String) -> bool {
    with(|s| match &mut s.unmodelled {
        Some(fields) => {
            fields.push(path);
            true
        }
        None => false,
    })
    .unwrap_or(false)
}

fn with<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_their_file_and_nested_collections_stay_apart() {
        let loc = Location { line: 3, col: 5 };
        let ((), outer) = collect("a.yaml", || {
            push(loc, "first".into());
            in_file("inc.yaml", || push(loc, "included".into()));
            let ((), inner) = collect("log.yaml", || push(loc, "inner".into()));
            assert_eq!(inner, ["log.yaml:3:5: inner"]);
            push(loc, "last".into());
        });
        assert_eq!(
            outer,
            [
                "a.yaml:3:5: first",
                "inc.yaml:3:5: included",
                "a.yaml:3:5: last"
            ]
        );
        // Outside a collection nothing is recorded and nothing is lenient.
        push(loc, "lost".into());
        assert!(!accept_unmodelled("x".into()));
    }

    #[test]
    fn unmodelled_fields_are_gathered_per_manifest() {
        let ((), _) = collect("a.yaml", || {
            let (ok, fields) = unmodelled_fields(|| {
                assert!(accept_unmodelled("spec.a".into()));
                accept_unmodelled("spec.b".into())
            });
            assert!(ok);
            assert_eq!(fields, ["spec.a", "spec.b"]);
            assert!(!accept_unmodelled("outside a manifest".into()));
        });
    }
}
