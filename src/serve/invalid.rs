//! A body the manifest parser refused, said as kube-apiserver says it:
//! the object's kind and name, and the field at fault as a path
//! (`spec.template.spec.containers[0].resources.requests.cpu`), because a
//! line and column point nowhere useful in the one-line JSON that kubectl
//! sends.

use crate::scenario::model::Location;
use crate::scenario::yaml::{self, Node, NodeKind};

/// A parse error taken apart.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    /// 400 for syntax and unknown fields (kube-apiserver's strict
    /// decoding), 422 for a well-formed object with a wrong value.
    pub code: u16,
    /// `metadata.name` of the body, when it has one.
    pub name: String,
    /// The path of the field at fault; empty when the error is not at a
    /// field (a syntax error).
    pub field: String,
    /// The parser's message with its place (`body:LINE:COL`).
    pub message: String,
}

/// Takes apart `error`, the parser's `body:LINE:COL: message` for `text`.
pub fn refusal(text: &str, error: &str) -> Refusal {
    let code = if error.contains("invalid YAML")
        || error.contains("unknown field")
        || error.contains("did you mean")
    {
        400
    } else {
        422
    };
    let tree = yaml::parse(text).ok();
    let name = tree
        .as_ref()
        .and_then(|t| entry(t, "metadata"))
        .and_then(|m| entry(m, "name"))
        .and_then(Node::as_scalar)
        .unwrap_or_default()
        .to_string();
    let field = match (&tree, place(error)) {
        (Some(tree), Some(at)) => {
            let mut path = Vec::new();
            if find(tree, at, error.contains("unknown field"), &mut path) {
                render(&path)
            } else {
                String::new()
            }
        }
        _ => String::new(),
    };
    Refusal {
        code,
        name,
        field,
        message: error.to_string(),
    }
}

/// The location in `body:LINE:COL: message`.
fn place(error: &str) -> Option<Location> {
    let rest = error.strip_prefix("body:")?;
    let mut parts = rest.splitn(3, ':');
    let line = parts.next()?.parse().ok()?;
    let col = parts.next()?.parse().ok()?;
    Some(Location { line, col })
}

fn entry<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

enum Step {
    Key(String),
    Index(usize),
}

/// Walks down to the node at `at`, pushing the steps taken: a key when
/// `key` (an unknown field is reported at its key), else the shallowest
/// value (a mapping starts where its first key does, and a missing field
/// is reported at the mapping).
fn find(node: &Node, at: Location, key: bool, path: &mut Vec<Step>) -> bool {
    match &node.kind {
        NodeKind::Map(entries) => entries.iter().any(|(k, v)| {
            path.push(Step::Key(k.as_scalar().unwrap_or_default().to_string()));
            let here = if key { k.loc == at } else { v.loc == at };
            if here || find(v, at, key, path) {
                return true;
            }
            path.pop();
            false
        }),
        NodeKind::Seq(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(Step::Index(i));
            if (!key && item.loc == at) || find(item, at, key, path) {
                return true;
            }
            path.pop();
            false
        }),
        _ => false,
    }
}

fn render(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Refusal {
        use crate::scenario::manifests::{Typos, parse_guest_body};
        let e = parse_guest_body(text, Some("default"), Typos::Refuse)
            .expect_err("the body is refused");
        refusal(text, &e)
    }

    #[test]
    fn a_wrong_value_in_one_line_json_is_named_by_its_path() {
        let body = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1"},"spec":{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"lots"}}}]}}"#;
        let r = refused(body);
        assert_eq!(r.code, 422, "{r:?}");
        assert_eq!(r.name, "web-1");
        assert_eq!(r.field, "spec.containers[0].resources.requests.cpu");
        assert!(r.message.starts_with("body:1:"), "{r:?}");
    }

    #[test]
    fn an_unknown_field_is_a_400_at_its_key() {
        let body = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  nodeSelecter: {}\n  containers: []\n";
        let r = refused(body);
        assert_eq!(r.code, 400, "{r:?}");
        assert_eq!(r.field, "spec.nodeSelecter", "{r:?}");
    }

    #[test]
    fn a_missing_field_is_named_by_its_mapping() {
        let body = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  nodeSelector: {}\n";
        let r = refused(body);
        assert!(r.message.contains("missing field `containers`"), "{r:?}");
        assert_eq!(r.field, "spec", "{r:?}");
    }

    #[test]
    fn a_syntax_error_has_no_field_and_no_name() {
        let r = refusal("{\"kind\": ", "body:2:1: invalid YAML: eof");
        assert_eq!(r.code, 400);
        assert_eq!((r.name.as_str(), r.field.as_str()), ("", ""));
    }
}
