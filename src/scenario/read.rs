//! Reading the YAML tree against a schema: typed getters that say what was
//! expected and what was found, and mappings whose keys are checked against
//! the fields a section allows (with a did-you-mean for typos).

use super::error::{Diag, PResult, backticked, did_you_mean, suggestion};
use super::model::Location;
use super::units;
use super::yaml::{Node, NodeKind};

/// Fields of a Kubernetes object that the API server sets (metadata
/// bookkeeping, status): accepted in a manifest without a word, since every
/// `kubectl get -o yaml` has them and they mean nothing to a create.
const SERVER_SET: &[&str] = &[
    "status",
    "uid",
    "generation",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "selfLink",
];

/// A mapping whose keys have been checked against the allowed fields.
pub struct Fields<'a> {
    /// Where the mapping starts: missing fields are reported here.
    pub loc: Location,
    /// `datacenter.clusters[0]`, for messages.
    pub path: String,
    entries: &'a [(Node, Node)],
}

impl<'a> Fields<'a> {
    /// Unknown keys are reported before any value is read, so a typo in a
    /// required key says "unknown field ... did you mean" rather than
    /// "missing field".
    pub fn new(node: &'a Node, path: &str, allowed: &[&str]) -> PResult<Self> {
        Self::with_ignored(node, path, allowed, &[])
    }

    /// A mapping from a Kubernetes manifest: `allowed` fields are read,
    /// `ignored` ones are real fields pacsim accepts and does not model (so
    /// pasted manifests load), anything else is an error naming both lists.
    pub fn with_ignored(
        node: &'a Node,
        path: &str,
        allowed: &[&str],
        ignored: &[&str],
    ) -> PResult<Self> {
        let NodeKind::Map(entries) = &node.kind else {
            return Err(Diag::new(
                node.loc,
                format!("expected a mapping for `{path}`, found {}", node.describe()),
            ));
        };
        for (key, _) in entries {
            let Some(name) = key.as_scalar() else {
                return Err(Diag::new(
                    key.loc,
                    format!(
                        "expected a field name in `{path}`, found {}",
                        key.describe()
                    ),
                ));
            };
            if allowed.contains(&name) {
                continue;
            }
            // A real field pacsim does not model is accepted, and named in
            // the manifest's warning unless the server sets it. In a
            // manifest so is any other field, unless it looks like a typo
            // of a modelled one.
            let lenient = ignored.contains(&name)
                || (super::notices::in_manifest()
                    && did_you_mean(name, allowed.iter().copied()).is_none());
            if lenient {
                if !SERVER_SET.contains(&name) {
                    super::notices::accept_unmodelled(format!("{path}.{name}"));
                }
                continue;
            }
            if super::notices::accept_typo(format!("{path}.{name}")) {
                continue;
            }
            {
                let also = if ignored.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (accepted, not modelled: {})",
                        backticked(ignored.iter().copied())
                    )
                };
                return Err(Diag::new(
                    key.loc,
                    format!(
                        "unknown field `{name}` in `{path}`; expected one of {}{also}{}",
                        backticked(allowed.iter().copied()),
                        suggestion(name, allowed.iter().chain(ignored).copied())
                    ),
                ));
            }
        }
        Ok(Fields {
            loc: node.loc,
            path: path.to_string(),
            entries,
        })
    }

    /// The value of `key`, if given and not null.
    pub fn opt(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, v)| v)
            .filter(|v| v.kind != NodeKind::Null)
    }

    /// The key node itself, for errors about the field rather than its value.
    /// The field names written, in order.
    pub fn names(&self) -> impl Iterator<Item = &'a str> {
        self.entries.iter().filter_map(|(k, _)| k.as_scalar())
    }

    pub fn key(&self, key: &str) -> Option<&'a Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(k, _)| k)
    }

    /// The value of `key`. A missing key is an error at the mapping; a key
    /// written with no value is an error at the key.
    pub fn req(&self, key: &str) -> PResult<&'a Node> {
        if let Some(value) = self.opt(key) {
            return Ok(value);
        }
        Err(match self.key(key) {
            Some(k) => Diag::new(
                k.loc,
                format!("missing value for `{key}` in `{}`", self.path),
            ),
            None => Diag::new(
                self.loc,
                format!("missing field `{key}` in `{}`", self.path),
            ),
        })
    }

    /// The value of `key` when the field is not modelled in this position:
    /// an error at the key saying why, for fields that exist in the real
    /// API but would change a meaning pacsim cannot honour.
    pub fn unsupported(&self, key: &str, why: &str) -> PResult<()> {
        match self.key(key) {
            Some(k) => Err(Diag::new(
                k.loc,
                format!("`{}` is not supported: {why}", self.sub(key)),
            )),
            None => Ok(()),
        }
    }

    /// `path.key`, for messages about a field.
    pub fn sub(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }
}

/// A scalar's text, or an error naming the field and what was found.
pub fn scalar<'a>(node: &'a Node, what: &str, field: &str) -> PResult<&'a str> {
    node.as_scalar().ok_or_else(|| {
        Diag::new(
            node.loc,
            format!("expected {what} for `{field}`, found {}", node.describe()),
        )
    })
}

/// The items of a sequence; `what` names the field.
pub fn seq<'a>(node: &'a Node, field: &str) -> PResult<&'a [Node]> {
    match &node.kind {
        NodeKind::Seq(items) => Ok(items),
        _ => Err(Diag::new(
            node.loc,
            format!(
                "expected a sequence for `{field}`, found {}",
                node.describe()
            ),
        )),
    }
}

/// A non-empty sequence; `empty` says why an empty one is wrong.
pub fn non_empty_seq<'a>(node: &'a Node, field: &str, empty: &str) -> PResult<&'a [Node]> {
    let items = seq(node, field)?;
    if items.is_empty() {
        return Err(Diag::new(node.loc, empty));
    }
    Ok(items)
}

pub fn string(node: &Node, field: &str) -> PResult<String> {
    scalar(node, "a string", field).map(str::to_string)
}

/// A list of strings.
pub fn strings(node: &Node, field: &str) -> PResult<Vec<String>> {
    seq(node, field)?.iter().map(|n| string(n, field)).collect()
}

/// A mapping of strings to strings (labels, selectors); a key written
/// with no value maps to the empty string, as in Kubernetes.
pub fn string_map(node: &Node, field: &str) -> PResult<std::collections::BTreeMap<String, String>> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Diag::new(
            node.loc,
            format!(
                "expected a mapping for `{field}`, found {}",
                node.describe()
            ),
        ));
    };
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in entries {
        let key = scalar(k, "a key", field)?;
        let value = match &v.kind {
            NodeKind::Null => String::new(),
            _ => scalar(v, "a string", &format!("{field}.{key}"))?.to_string(),
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

/// The entries of a mapping, keys as text, for maps read entry by entry.
pub fn entries<'a>(node: &'a Node, field: &str) -> PResult<Vec<(&'a str, &'a Node, &'a Node)>> {
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Diag::new(
            node.loc,
            format!(
                "expected a mapping for `{field}`, found {}",
                node.describe()
            ),
        ));
    };
    entries
        .iter()
        .map(|(k, v)| Ok((scalar(k, "a key", field)?, k, v)))
        .collect()
}

/// One of `names` (an enum written as text), or an error listing them.
pub fn choice(node: &Node, what: &str, field: &str, names: &[&str]) -> PResult<usize> {
    let text = scalar(node, what, field)?;
    names.iter().position(|n| *n == text).ok_or_else(|| {
        Diag::new(
            node.loc,
            format!(
                "unknown {what} `{text}` for `{field}`; expected one of {}{}",
                backticked(names.iter().copied()),
                suggestion(text, names.iter().copied())
            ),
        )
    })
}

pub fn u64_value(node: &Node, field: &str) -> PResult<u64> {
    let text = scalar(node, "an integer", field)?;
    text.trim().parse().map_err(|_| {
        Diag::new(
            node.loc,
            format!("expected an integer for `{field}`, found `{text}`"),
        )
    })
}

/// An integer of at least 1 and at most `max`.
pub fn positive_u64(node: &Node, field: &str, max: u64) -> PResult<u64> {
    int_in(node, field, 1, max)
}

/// An integer in `min..=max`; the error names the field and the bound, so
/// that no count, size or rate the model cannot hold gets past loading.
pub fn int_in(node: &Node, field: &str, min: u64, max: u64) -> PResult<u64> {
    let v = u64_value(node, field).map_err(|e| {
        // Digits past u64 are a number too large, not a non-number.
        let text = node.as_scalar().unwrap_or_default().trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            Diag::new(
                node.loc,
                format!("`{field}` is too large: at most {max}, found `{text}`"),
            )
        } else {
            e
        }
    })?;
    if v < min {
        return Err(Diag::new(
            node.loc,
            format!("`{field}` must be at least {min}, found `{v}`"),
        ));
    }
    if v > max {
        return Err(Diag::new(
            node.loc,
            format!("`{field}` is too large: at most {max}, found `{v}`"),
        ));
    }
    Ok(v)
}

/// Applies a `units` parser to a scalar, locating its error at the scalar.
pub fn unit<T>(
    node: &Node,
    what: &str,
    field: &str,
    f: fn(&str) -> Result<T, String>,
) -> PResult<T> {
    let text = scalar(node, what, field)?;
    f(text).map_err(|m| Diag::new(node.loc, m))
}

pub fn duration(node: &Node, field: &str) -> PResult<u64> {
    unit(node, "a duration", field, units::parse_duration)
}

pub fn dist(node: &Node, field: &str) -> PResult<crate::model::Dist> {
    unit(node, "a duration distribution", field, units::parse_dist)
}

/// A capacity that must be above zero (host and VM cpu and memory).
pub fn positive<T: PartialEq + Default>(node: &Node, field: &str, value: T) -> PResult<T> {
    if value == T::default() {
        let text = node.as_scalar().unwrap_or_default();
        return Err(Diag::new(
            node.loc,
            format!("`{field}` must be greater than zero, found `{text}`"),
        ));
    }
    Ok(value)
}

/// Finds `name` in `names`, or explains which names exist.
pub fn resolve(node: &Node, kind: &str, name: &str, names: &[&str]) -> PResult<usize> {
    names.iter().position(|n| *n == name).ok_or_else(|| {
        // Long lists (hundreds of hosts) are not worth printing in full.
        let known = if names.len() <= 10 {
            format!("; known: {}", backticked(names.iter().copied()))
        } else {
            String::new()
        };
        Diag::new(
            node.loc,
            format!(
                "unknown {kind} `{name}`{known}{}",
                suggestion(name, names.iter().copied())
            ),
        )
    })
}

/// A probability written as an integer ratio: `1/1000`, `0`, or `1`.
pub fn ratio(node: &Node, field: &str) -> PResult<super::model::Ratio> {
    let text = scalar(node, "a ratio like `1/1000`", field)?.trim();
    let bad = || {
        Diag::new(
            node.loc,
            format!("expected a probability like `1/1000` for `{field}`, found `{text}`"),
        )
    };
    let (num, den) = match text.split_once('/') {
        Some((n, d)) => (n.trim().parse::<u64>(), d.trim().parse::<u64>()),
        None => (text.parse::<u64>(), Ok(1)),
    };
    let (num, den) = (num.map_err(|_| bad())?, den.map_err(|_| bad())?);
    if den == 0 || num > den {
        return Err(bad());
    }
    Ok(super::model::Ratio { num, den })
}

/// `true` or `false`.
pub fn boolean(node: &Node, field: &str) -> PResult<bool> {
    match scalar(node, "true or false", field)? {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(Diag::new(
            node.loc,
            format!("expected `true` or `false` for `{field}`, found `{other}`"),
        )),
    }
}
