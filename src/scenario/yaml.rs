//! A small YAML tree with positions, built from `saphyr-parser` events.
//!
//! Why not `saphyr`'s own tree: it resolves scalars (`1.50` becomes a float,
//! losing the text we want to parse exactly) and does not keep key order
//! with duplicates visible. Here every scalar stays the text that was
//! written, every node knows its 1-based line and column, and duplicate keys
//! are rejected where the second one appears.

use super::error::{Diag, PResult};
use super::model::Location;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Deeper than any scenario needs; the limit keeps hostile input (`[[[[...`)
/// from building a tree whose recursive drop could overflow the stack.
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub loc: Location,
    pub kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// `~`, `null`, or nothing at all (`key:` with no value).
    Null,
    /// Any scalar, as written (quotes removed).
    Scalar(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are unique scalars.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// How the node is described in "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "nothing".to_string(),
            // Long scalars (a pasted blob) are cut so the message stays one readable line.
            NodeKind::Scalar(s) if s.chars().count() > 60 => {
                format!("`{}...`", s.chars().take(60).collect::<String>())
            }
            NodeKind::Scalar(s) => format!("`{s}`"),
            NodeKind::Seq(_) => "a sequence".to_string(),
            NodeKind::Map(_) => "a mapping".to_string(),
        }
    }

    pub fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

pub fn location(span: &Span) -> Location {
    // saphyr lines are 1-based, columns 0-based; we print both 1-based.
    Location {
        line: span.start.line().max(1),
        col: span.start.col() + 1,
    }
}

/// A collection being built.
enum Open {
    Seq(Location, Vec<Node>),
    Map(Location, Vec<(Node, Node)>, Option<Node>),
}

/// Parses one YAML document. Syntax errors carry the scanner's position;
/// a second document, aliases and over-deep nesting are errors too.
pub fn parse(text: &str) -> PResult<Node> {
    parse_stream(text, true)?
        .pop()
        .ok_or_else(|| Diag::new(Location { line: 1, col: 1 }, "the scenario file is empty"))
}

/// Parses every `---`-separated document (manifest files, like `kubectl
/// apply -f`); empty documents are skipped, so the result may be empty.
pub fn parse_documents(text: &str) -> PResult<Vec<Node>> {
    let docs = parse_stream(text, false)?;
    Ok(docs
        .into_iter()
        .filter(|d| d.kind != NodeKind::Null)
        .collect())
}

fn parse_stream(text: &str, single: bool) -> PResult<Vec<Node>> {
    let mut stack: Vec<Open> = Vec::new();
    let mut roots: Vec<Node> = Vec::new();
    let mut documents = 0;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            Diag::new(
                Location {
                    line: m.line().max(1),
                    col: m.col() + 1,
                },
                format!("invalid YAML: {}", e.info()),
            )
        })?;
        let loc = location(&span);
        let done = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if single && documents > 1 {
                    return Err(Diag::new(
                        loc,
                        "a scenario file holds a single YAML document; found a second one (`---`)",
                    ));
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(Diag::new(
                    loc,
                    "YAML aliases (`*name`) are not supported in scenario files",
                ));
            }
            Event::Scalar(value, style, _, _) => Node {
                loc,
                kind: scalar_kind(value.into_owned(), style),
            },
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Diag::new(
                        loc,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
                stack.push(match event {
                    Event::SequenceStart(..) => Open::Seq(loc, Vec::new()),
                    _ => Open::Map(loc, Vec::new(), None),
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(loc, items)) => Node {
                    loc,
                    kind: NodeKind::Seq(items),
                },
                Some(Open::Map(loc, entries, _)) => Node {
                    loc,
                    kind: NodeKind::Map(entries),
                },
                // The parser balances start and end events; an unbalanced
                // stream is reported rather than trusted.
                None => return Err(Diag::new(loc, "invalid YAML: unbalanced collection")),
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
        };
        add(&mut stack, &mut roots, done)?;
    }
    Ok(roots)
}

fn scalar_kind(value: String, style: ScalarStyle) -> NodeKind {
    let is_null = style == ScalarStyle::Plain
        && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL");
    if is_null {
        NodeKind::Null
    } else {
        NodeKind::Scalar(value)
    }
}

/// Attaches a finished node to the open collection (or makes it the root
/// of the next document).
fn add(stack: &mut [Open], roots: &mut Vec<Node>, node: Node) -> PResult<()> {
    match stack.last_mut() {
        None => roots.push(node),
        Some(Open::Seq(_, items)) => items.push(node),
        Some(Open::Map(_, entries, pending)) => match pending.take() {
            Some(key) => entries.push((key, node)),
            None => {
                let name = node.as_scalar();
                let first = entries
                    .iter()
                    .find(|(k, _)| name.is_some() && k.as_scalar() == name);
                if let (Some(name), Some((first, _))) = (name, first) {
                    let line = first.loc.line;
                    return Err(Diag::new(
                        node.loc,
                        format!("duplicate key `{name}` (first given at line {line})"),
                    ));
                }
                *pending = Some(node);
            }
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, col: usize) -> Location {
        Location { line, col }
    }

    #[test]
    fn keeps_raw_scalars_order_and_positions() {
        let n = parse("# c\nb: 1.50\na:\n  - x\n  - 'null'\nc:\n").unwrap();
        let NodeKind::Map(entries) = n.kind else {
            panic!("not a map: {n:?}")
        };
        let keys: Vec<_> = entries
            .iter()
            .map(|(k, _)| k.as_scalar().unwrap())
            .collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(entries[0].0.loc, at(2, 1));
        assert_eq!(
            entries[0].1,
            Node {
                loc: at(2, 4),
                kind: NodeKind::Scalar("1.50".into())
            }
        );
        let NodeKind::Seq(items) = &entries[1].1.kind else {
            panic!()
        };
        assert_eq!(items[0].loc, at(4, 5));
        assert_eq!(items[1].kind, NodeKind::Scalar("null".into()));
        assert_eq!(entries[2].1.kind, NodeKind::Null);
    }

    #[test]
    fn rejects_duplicate_keys_at_the_second() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            e,
            Diag::new(at(3, 1), "duplicate key `a` (first given at line 1)")
        );
    }

    #[test]
    fn rejects_second_document() {
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.loc.line, 2);
        assert!(e.message.contains("single YAML document"));
    }

    #[test]
    fn several_documents_in_order_without_empty_ones() {
        let docs = parse_documents("---\na: 1\n---\n---\nb: 2\n...\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].loc, at(2, 1));
        assert_eq!(docs[1].loc, at(5, 1));
        assert!(parse_documents("# nothing\n").unwrap().is_empty());
        assert!(parse_documents("a: 1\n---\na: [\n").is_err());
    }

    #[test]
    fn syntax_errors_carry_scanner_position() {
        let e = parse("seed: 1\n  duration: 2\n").unwrap_err();
        assert_eq!(
            e,
            Diag::new(
                at(2, 11),
                "invalid YAML: mapping values are not allowed in this context"
            )
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let e = parse(&"[".repeat(10_000)).unwrap_err();
        assert!(
            e.message.contains("nesting") || e.message.starts_with("invalid YAML"),
            "{e:?}"
        );
    }

    #[test]
    fn empty_text_is_an_error() {
        assert_eq!(parse("").unwrap_err().message, "the scenario file is empty");
        assert_eq!(
            parse("# only a comment\n").unwrap_err().message,
            "the scenario file is empty"
        );
    }
}
