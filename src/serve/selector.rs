//! Label and field selectors as kube-apiserver reads them from a list's or
//! watch's query. Labels: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`,
//! `k notin (a,b)`, joined by commas. Fields: `metadata.name` and
//! `metadata.namespace` with `=`, `==` or `!=`; any other field is refused
//! (kube-apiserver's "field label not supported"), since a selector that
//! is quietly ignored would select everything.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |term: &str, why: &str| format!("invalid labelSelector `{text}`: `{term}` {why}");
        let mut out = Vec::new();
        for term in top_level_terms(text) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let requirement = if let Some((k, rest)) = term.split_once(" notin ") {
                Requirement::NotIn(key(k, term, &bad)?, set(rest, term, &bad)?)
            } else if let Some((k, rest)) = term.split_once(" in ") {
                Requirement::In(key(k, term, &bad)?, set(rest, term, &bad)?)
            } else if let Some((k, v)) = term.split_once("!=") {
                Requirement::NotEquals(key(k, term, &bad)?, v.trim().to_string())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Requirement::Equals(key(k, term, &bad)?, v.trim().to_string())
            } else if let Some(k) = term.strip_prefix('!') {
                Requirement::NotExists(key(k, term, &bad)?)
            } else {
                Requirement::Exists(key(term, term, &bad)?)
            };
            out.push(requirement);
        }
        Ok(LabelSelector(out))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = |k: &String| labels.get(k).map(String::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => value(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => value(k) != Some(v.as_str()),
            Requirement::In(k, vs) => value(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => value(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// The fields a selector may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Namespace,
}

/// A parsed `fieldSelector`: (field, value, whether it must equal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSelector(Vec<(Field, String, bool)>);

impl FieldSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (k, v, equal) = match term.split_once("!=") {
                Some((k, v)) => (k, v, false),
                None => match term.split_once("==").or_else(|| term.split_once('=')) {
                    Some((k, v)) => (k, v, true),
                    None => {
                        return Err(format!(
                            "invalid fieldSelector `{text}`: `{term}` is not FIELD=VALUE or FIELD!=VALUE"
                        ));
                    }
                },
            };
            let field = match k.trim() {
                "metadata.name" => Field::Name,
                "metadata.namespace" => Field::Namespace,
                other => {
                    return Err(format!(
                        "field label not supported: {other} (this server selects on metadata.name and metadata.namespace)"
                    ));
                }
            };
            out.push((field, v.trim().to_string(), equal));
        }
        Ok(FieldSelector(out))
    }

    pub fn matches(&self, name: &str, namespace: &str) -> bool {
        self.0.iter().all(|(field, value, equal)| {
            let actual = match field {
                Field::Name => name,
                Field::Namespace => namespace,
            };
            (actual == value) == *equal
        })
    }
}

/// A list's or watch's `labelSelector` and `fieldSelector`, parsed once
/// per request and then asked of every object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Selection {
    pub fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, String> {
        Ok(Selection {
            labels: labels.map(LabelSelector::parse).transpose()?,
            fields: fields.map(FieldSelector::parse).transpose()?,
        })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>, name: &str, namespace: &str) -> bool {
        self.labels.as_ref().is_none_or(|s| s.matches(labels))
            && self
                .fields
                .as_ref()
                .is_none_or(|s| s.matches(name, namespace))
    }
}

/// The terms of a selector: split at commas outside parentheses.
fn top_level_terms(text: &str) -> Vec<&str> {
    let (mut terms, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&text[start..]);
    terms
}

fn key(k: &str, term: &str, bad: &impl Fn(&str, &str) -> String) -> Result<String, String> {
    let k = k.trim();
    let valid = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    match valid {
        true => Ok(k.to_string()),
        false => Err(bad(term, "does not name a label key")),
    }
}

/// `(a, b)` into its values.
fn set(rest: &str, term: &str, bad: &impl Fn(&str, &str) -> String) -> Result<Vec<String>, String> {
    let inner = (rest.trim().strip_prefix('('))
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(term, "needs a set of values in parentheses"))?;
    Ok(inner
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_label_operator_selects_as_kube_apiserver_does() {
        let nginx = labels(&[("app", "nginx"), ("pod-template-hash", "abc")]);
        let web = labels(&[("app", "web")]);
        let cases = [
            ("app=nginx", true, false),
            ("app==nginx", true, false),
            ("app!=nginx", false, true),
            ("app in (nginx)", true, false),
            ("app in (nginx, web)", true, true),
            ("app notin (x)", true, true),
            ("app notin (nginx)", false, true),
            ("tier notin (db)", true, true),
            ("pod-template-hash", true, false),
            ("!pod-template-hash", false, true),
            ("app in (nginx),pod-template-hash", true, false),
            ("app in (nginx,web),!pod-template-hash", false, true),
            ("", true, true),
        ];
        for (text, on_nginx, on_web) in cases {
            let s = LabelSelector::parse(text).unwrap();
            assert_eq!(s.matches(&nginx), on_nginx, "{text} on nginx");
            assert_eq!(s.matches(&web), on_web, "{text} on web");
        }
    }

    #[test]
    fn a_malformed_label_selector_is_an_error_naming_the_term() {
        for text in ["app in nginx", "app in (nginx", "=x", "a b"] {
            let e = LabelSelector::parse(text).unwrap_err();
            assert!(e.starts_with("invalid labelSelector"), "{text}: {e}");
        }
    }

    #[test]
    fn fields_other_than_name_and_namespace_are_refused() {
        let s = FieldSelector::parse("metadata.name=a,metadata.namespace!=kube").unwrap();
        assert!(s.matches("a", "web"));
        assert!(!s.matches("a", "kube"));
        assert!(!s.matches("b", "web"));
        for text in ["status.phase=Pending", "spec.nodeName=esx-04", "foo=bar"] {
            let e = FieldSelector::parse(text).unwrap_err();
            assert!(e.starts_with("field label not supported: "), "{e}");
        }
        assert!(FieldSelector::parse("metadata.name").is_err());
    }
}
