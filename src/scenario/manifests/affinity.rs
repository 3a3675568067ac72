//! spec.affinity, host-level only: node affinity by labels, pod
//! (anti-)affinity by label selector with `topologyKey:
//! kubernetes.io/hostname`. Shapes whose Kubernetes meaning pacsim's model
//! cannot express are never applied as a different rule: a pod term of
//! another topology, namespaces or `matchExpressions` is dropped and named
//! in the manifest's warning; other shapes are errors that say so.

use super::super::error::{Diag, PResult};
use super::super::notices;
use super::super::read::{self, Fields};
use super::super::yaml::Node;
use super::labels;
use crate::api::objects::*;
use std::collections::BTreeMap;

const HOSTNAME: &str = "kubernetes.io/hostname";
const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";
const PREFERRED: &str = "preferredDuringSchedulingIgnoredDuringExecution";

pub(crate) fn parse_affinity(node: &Node, path: &str) -> PResult<Affinity> {
    let f = Fields::new(
        node,
        path,
        &["nodeAffinity", "podAffinity", "podAntiAffinity"],
    )?;
    let mut a = Affinity::default();
    if let Some(n) = f.opt("nodeAffinity") {
        let path = f.sub("nodeAffinity");
        let nf = Fields::new(n, &path, &[REQUIRED, PREFERRED])?;
        if let Some(r) = nf.opt(REQUIRED) {
            a.node_required = node_required(r, &nf.sub(REQUIRED))?;
        }
        if let Some(p) = nf.opt(PREFERRED) {
            for (i, item) in read::seq(p, &nf.sub(PREFERRED))?.iter().enumerate() {
                let path = format!("{}[{i}]", nf.sub(PREFERRED));
                let pf = Fields::new(item, &path, &["weight", "preference"])?;
                let weight = weight(pf.req("weight")?, &pf.sub("weight"))?;
                let pref = pf.req("preference")?;
                let exprs = term_expressions(pref, &pf.sub("preference"))?;
                // Kubernetes ANDs the expressions of one preference and adds
                // the weight once; pacsim's weights are per requirement.
                if exprs.len() != 1 {
                    return Err(Diag::new(
                        pref.loc,
                        "a node-affinity preference needs exactly one `matchExpressions` entry (pacsim weighs one requirement per preference)",
                    ));
                }
                a.node_preferred
                    .push((weight, exprs.into_iter().next().expect("one")));
            }
        }
    }
    for (key, anti) in [("podAffinity", false), ("podAntiAffinity", true)] {
        let Some(n) = f.opt(key) else { continue };
        let path = f.sub(key);
        let pf = Fields::new(n, &path, &[REQUIRED, PREFERRED])?;
        if let Some(r) = pf.opt(REQUIRED) {
            for (i, t) in read::seq(r, &pf.sub(REQUIRED))?.iter().enumerate() {
                let Some(sel) = pod_term(t, &format!("{}[{i}]", pf.sub(REQUIRED)))? else {
                    continue;
                };
                if anti {
                    &mut a.pod_anti_required
                } else {
                    &mut a.pod_required
                }
                .push(sel);
            }
        }
        if let Some(p) = pf.opt(PREFERRED) {
            for (i, item) in read::seq(p, &pf.sub(PREFERRED))?.iter().enumerate() {
                let path = format!("{}[{i}]", pf.sub(PREFERRED));
                let wf = Fields::new(item, &path, &["weight", "podAffinityTerm"])?;
                let weight = weight(wf.req("weight")?, &wf.sub("weight"))?;
                let Some(sel) = pod_term(wf.req("podAffinityTerm")?, &wf.sub("podAffinityTerm"))?
                else {
                    continue;
                };
                if anti {
                    &mut a.pod_anti_preferred
                } else {
                    &mut a.pod_preferred
                }
                .push((weight, sel));
            }
        }
    }
    Ok(a)
}

/// Kubernetes ORs nodeSelectorTerms; pacsim ANDs requirements, so exactly
/// one term is accepted (the common case) rather than a silently different
/// meaning.
fn node_required(node: &Node, path: &str) -> PResult<Vec<LabelRequirement>> {
    let f = Fields::new(node, path, &["nodeSelectorTerms"])?;
    let terms_node = f.req("nodeSelectorTerms")?;
    let terms = read::seq(terms_node, &f.sub("nodeSelectorTerms"))?;
    if terms.len() != 1 {
        return Err(Diag::new(
            terms_node.loc,
            format!(
                "`{}` must hold exactly one term (several terms are ORed in Kubernetes; pacsim models one), found {}",
                f.sub("nodeSelectorTerms"),
                terms.len()
            ),
        ));
    }
    term_expressions(&terms[0], &format!("{}[0]", f.sub("nodeSelectorTerms")))
}

/// `{matchExpressions: [{key, operator: In|Exists, values}]}`.
fn term_expressions(node: &Node, path: &str) -> PResult<Vec<LabelRequirement>> {
    let f = Fields::new(node, path, &["matchExpressions", "matchFields"])?;
    f.unsupported(
        "matchFields",
        "select nodes by label with `matchExpressions`",
    )?;
    let exprs = f.req("matchExpressions")?;
    let mut out = Vec::new();
    for (i, e) in read::seq(exprs, &f.sub("matchExpressions"))?
        .iter()
        .enumerate()
    {
        let path = format!("{}[{i}]", f.sub("matchExpressions"));
        let ef = Fields::new(e, &path, &["key", "operator", "values"])?;
        let key = read::string(ef.req("key")?, &ef.sub("key"))?;
        let op_node = ef.req("operator")?;
        let ops = ["In", "Exists", "NotIn", "DoesNotExist", "Gt", "Lt"];
        let op = read::choice(op_node, "operator", &ef.sub("operator"), &ops)?;
        if op >= 2 {
            return Err(Diag::new(
                op_node.loc,
                format!(
                    "operator `{}` is not modelled; supported: `In`, `Exists`",
                    ops[op]
                ),
            ));
        }
        let values = ef
            .opt("values")
            .map(|n| read::strings(n, &ef.sub("values")))
            .transpose()?
            .unwrap_or_default();
        match (op, values.is_empty()) {
            (0, true) => {
                return Err(Diag::new(
                    ef.loc,
                    format!("`{path}` has `operator: In` and no `values`"),
                ));
            }
            (1, false) => {
                return Err(Diag::new(
                    ef.key("values").map_or(ef.loc, |k| k.loc),
                    format!("`{path}` has `operator: Exists`, which takes no `values`"),
                ));
            }
            _ => {}
        }
        out.push(LabelRequirement { key, values });
    }
    Ok(out)
}

/// `{labelSelector: {matchLabels}, topologyKey: kubernetes.io/hostname}`:
/// pacsim's affinity is per host. `None`: a term pacsim cannot express,
/// dropped (see [`drop_term`]).
fn pod_term(node: &Node, path: &str) -> PResult<Option<BTreeMap<String, String>>> {
    let f = Fields::new(
        node,
        path,
        &[
            "labelSelector",
            "topologyKey",
            "namespaces",
            "namespaceSelector",
        ],
    )?;
    for key in ["namespaces", "namespaceSelector"] {
        if let Some(k) = f.key(key) {
            let why = format!("`{key}`: pod affinity applies within the pod's own namespace");
            return drop_term(k, path, why);
        }
    }
    let topo = f.req("topologyKey")?;
    let key = read::scalar(topo, "a topology key", &f.sub("topologyKey"))?;
    if key != HOSTNAME {
        let why = format!("topologyKey `{key}`: pacsim's affinity is per host, `{HOSTNAME}`");
        return drop_term(topo, path, why);
    }
    let sel = f.req("labelSelector")?;
    if let Some(k) = Fields::new(
        sel,
        &f.sub("labelSelector"),
        &["matchLabels", "matchExpressions"],
    )?
    .key("matchExpressions")
    {
        return drop_term(
            k,
            path,
            "`matchExpressions` (only `matchLabels` is modelled)".into(),
        );
    }
    selector(sel, &f.sub("labelSelector")).map(Some)
}

/// A term pacsim cannot express is dropped and named in the manifest's
/// warning; outside a manifest (nothing collects warnings) it is an error.
fn drop_term(at: &Node, path: &str, why: String) -> PResult<Option<BTreeMap<String, String>>> {
    if notices::accept_unmodelled(format!("{path} (dropped: {why})")) {
        return Ok(None);
    }
    Err(Diag::new(at.loc, format!("{why} is not modelled")))
}

/// `{matchLabels}`, non-empty; `matchExpressions` is not modelled.
pub(crate) fn selector(node: &Node, path: &str) -> PResult<BTreeMap<String, String>> {
    let f = Fields::new(node, path, &["matchLabels", "matchExpressions"])?;
    f.unsupported("matchExpressions", "write the selector as `matchLabels`")?;
    let labels = labels(f.req("matchLabels")?, &f.sub("matchLabels"))?;
    if labels.is_empty() {
        return Err(Diag::new(
            f.loc,
            format!("`{path}.matchLabels` is empty: it would select every pod"),
        ));
    }
    Ok(labels)
}

fn weight(node: &Node, field: &str) -> PResult<u32> {
    Ok(read::int_in(node, field, 1, 100)? as u32)
}
