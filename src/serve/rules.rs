//! `kubectl auth can-i --list`: a SelfSubjectRulesReview, answered resource
//! by resource from the Authentication Proxy's own decision, so the list
//! cannot disagree with what the server then allows.

use super::resources::{self, Resource};
use crate::api::Verb;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The Kubernetes verbs a resource serves, with the call each one is.
fn verbs(r: &Resource) -> Vec<(&'static str, Verb)> {
    let mut out = vec![
        ("get", Verb::Get),
        ("list", Verb::Get),
        ("watch", Verb::Get),
    ];
    if r.writable {
        out.extend([
            ("create", Verb::Create),
            ("update", Verb::Update),
            ("patch", Verb::Update),
            ("delete", Verb::Delete),
        ]);
    }
    out
}

/// `status` of the review: the resource rules `allowed(verb, cluster_scoped)`
/// grants, one rule per group and set of verbs, in a stable order; the
/// access reviews everyone may post; the discovery paths everyone may read.
pub fn status(allowed: impl Fn(&Verb, bool) -> bool) -> Value {
    // (group, verbs) -> resources; each resource once across its versions.
    let mut rules: BTreeMap<(&str, Vec<&str>), Vec<String>> = BTreeMap::new();
    let mut seen = Vec::new();
    for r in resources::all() {
        if seen.contains(&(r.group, r.plural)) {
            continue;
        }
        seen.push((r.group, r.plural));
        let granted: Vec<&str> = verbs(r)
            .into_iter()
            .filter(|(_, verb)| allowed(verb, !r.namespaced))
            .map(|(name, _)| name)
            .collect();
        if granted.is_empty() {
            continue;
        }
        let mut names = vec![r.plural.to_string()];
        if r.scale && granted.contains(&"update") {
            names.push(format!("{}/scale", r.plural));
        }
        rules.entry((r.group, granted)).or_default().extend(names);
    }
    let mut resource_rules: Vec<Value> = rules
        .into_iter()
        .map(|((group, verbs), resources)| {
            json!({"verbs": verbs, "apiGroups": [group], "resources": resources})
        })
        .collect();
    resource_rules.push(json!({
        "verbs": ["create"],
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    }));
    json!({
        "resourceRules": resource_rules,
        "nonResourceRules": [{
            "verbs": ["get"],
            "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi/*", "/readyz", "/version"],
        }],
        "incomplete": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule<'a>(status: &'a Value, resource: &str) -> Option<&'a Value> {
        status["resourceRules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == resource)
            })
    }

    #[test]
    fn a_reader_gets_the_read_verbs_of_namespaced_resources_and_nodes() {
        let s = status(|verb, _| *verb == Verb::Get);
        let pods = rule(&s, "pods").expect("pods are readable");
        assert_eq!(pods["verbs"], json!(["get", "list", "watch"]));
        assert!(rule(&s, "nodes").is_some());
        assert!(rule(&s, "deployments/scale").is_none(), "scale is a write");
    }

    #[test]
    fn a_writer_of_its_namespace_writes_no_cluster_scoped_resource() {
        let s = status(|verb, cluster_scoped| !cluster_scoped || *verb == Verb::Get);
        let deployments = rule(&s, "deployments").unwrap();
        assert_eq!(deployments["apiGroups"], json!(["apps"]));
        assert_eq!(
            deployments["verbs"],
            json!([
                "get", "list", "watch", "create", "update", "patch", "delete"
            ])
        );
        assert!(rule(&s, "deployments/scale").is_some());
        let namespaces = rule(&s, "namespaces").unwrap();
        assert_eq!(namespaces["verbs"], json!(["get", "list", "watch"]));
        // Read-only resources never get write verbs.
        let nodes = rule(&s, "nodes").unwrap();
        assert_eq!(nodes["verbs"], json!(["get", "list", "watch"]));
    }

    #[test]
    fn no_role_leaves_only_the_reviews_and_discovery() {
        let s = status(|_, _| false);
        assert_eq!(s["resourceRules"].as_array().unwrap().len(), 1);
        assert!(rule(&s, "selfsubjectrulesreviews").is_some());
    }
}
