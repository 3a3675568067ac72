//! What clients read before they call: `/version`, discovery (legacy and
//! aggregated v2) and just enough OpenAPI for kubectl to hand validation
//! to the server (`fieldValidation=Strict`). All of it comes from the one
//! resource table.

use super::resources::{self, Api, Resource};
use serde_json::{Value, json};

/// The Kubernetes version served. kubectl's gcloud dispatcher picks the
/// kubectl release matching `minor`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0+pacsim",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "n/a",
        "compiler": "rustc",
        "platform": "linux/amd64",
    })
}

/// The Supervisor's resources outside the store's table: access reviews
/// (`kubectl auth can-i`) and the metrics API (`kubectl top`).
struct Extra {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    verbs: &'static [&'static str],
}

const EXTRAS: [Extra; 4] = [
    Extra {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        verbs: &["create"],
    },
    Extra {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview",
        kind: "SelfSubjectRulesReview",
        namespaced: false,
        verbs: &["create"],
    },
    Extra {
        group: super::usage::GROUP,
        version: super::usage::VERSION,
        plural: "nodes",
        singular: "",
        kind: "NodeMetrics",
        namespaced: false,
        verbs: &["get", "list"],
    },
    Extra {
        group: super::usage::GROUP,
        version: super::usage::VERSION,
        plural: "pods",
        singular: "",
        kind: "PodMetrics",
        namespaced: true,
        verbs: &["get", "list"],
    },
];

/// The groups of [`EXTRAS`], each once, for the Supervisor's API.
fn extra_groups(api: Api) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for e in EXTRAS.iter().filter(|_| api == Api::Supervisor) {
        if !groups.iter().any(|(g, _)| *g == e.group) {
            groups.push((e.group, vec![e.version]));
        }
    }
    groups
}

fn extras(api: Api, group: &str, version: &str) -> impl Iterator<Item = &'static Extra> {
    let supervisor = api == Api::Supervisor;
    EXTRAS
        .iter()
        .filter(move |e| supervisor && e.group == group && e.version == version)
}

fn verbs(res: &Resource) -> Vec<&'static str> {
    if res.writable {
        vec![
            "create", "delete", "get", "list", "patch", "update", "watch",
        ]
    } else {
        vec!["get", "list", "watch"]
    }
}

fn resource_entry(res: &Resource) -> Value {
    let mut e = json!({
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": verbs(res),
        "shortNames": res.short_names,
    });
    add_categories(&mut e, res);
    e
}

/// A discovery entry's `categories`, for the resources that have one.
fn add_categories(entry: &mut Value, res: &Resource) {
    if !res.categories().is_empty() {
        entry["categories"] = json!(res.categories());
    }
}

pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"]})
}

pub fn group_list(api: Api) -> Value {
    let groups: Vec<Value> = (resources::groups(api).into_iter())
        .chain(extra_groups(api))
        .map(|(name, versions)| group(name, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(name: &str, versions: &[&str]) -> Value {
    let gv = |v: &str| json!({"groupVersion": format!("{name}/{v}"), "version": v});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
        "preferredVersion": gv(versions[0]),
    })
}

/// `/api/v1` or `/apis/G/V`; None for a group version not served.
pub fn resource_list(api: Api, group: &str, version: &str) -> Option<Value> {
    let gv = match group {
        "" => version.to_string(),
        g => format!("{g}/{version}"),
    };
    let mut list: Vec<Value> = Vec::new();
    for res in resources::of(api, group, version) {
        list.push(resource_entry(res));
        if res.scale {
            list.push(json!({
                "name": format!("{}/scale", res.plural),
                "singularName": "",
                "namespaced": true,
                "group": "autoscaling",
                "version": "v1",
                "kind": "Scale",
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    for e in extras(api, group, version) {
        list.push(json!({
            "name": e.plural,
            "singularName": e.singular,
            "namespaced": e.namespaced,
            "kind": e.kind,
            "verbs": e.verbs,
        }));
    }
    if list.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": list,
    }))
}

/// The media type of aggregated discovery, which kubectl asks for first.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Aggregated discovery: `/api` (`core`) or `/apis` in one document.
pub fn aggregated(api: Api, core: bool) -> Value {
    let groups: Vec<(&str, Vec<&str>)> = if core {
        vec![("", vec!["v1"])]
    } else {
        let mut g = resources::groups(api);
        g.extend(extra_groups(api));
        g
    };
    let items: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let versions: Vec<Value> = versions
                .into_iter()
                .map(|v| {
                    let mut list: Vec<Value> = resources::of(api, name, v)
                        .map(|res| {
                            let mut e = json!({
                                "resource": res.plural,
                                "responseKind": {"group": "", "version": "", "kind": res.kind},
                                "scope": if res.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": res.singular,
                                "verbs": verbs(res),
                                "shortNames": res.short_names,
                            });
                            add_categories(&mut e, res);
                            if res.scale {
                                e["subresources"] = json!([{
                                    "subresource": "scale",
                                    "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                    "verbs": ["get", "patch", "update"],
                                }]);
                            }
                            e
                        })
                        .collect();
                    for e in extras(api, name, v) {
                        list.push(json!({
                            "resource": e.plural,
                            "responseKind": {"group": "", "version": "", "kind": e.kind},
                            "scope": if e.namespaced { "Namespaced" } else { "Cluster" },
                            "singularResource": e.singular,
                            "verbs": e.verbs,
                        }));
                    }
                    json!({"version": v, "resources": list, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": name}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

fn gv_path(group: &str, version: &str) -> String {
    match group {
        "" => format!("api/{version}"),
        g => format!("apis/{g}/{version}"),
    }
}

/// `/openapi/v3`: one document per served group version.
pub fn openapi_index(api: Api) -> Value {
    let mut paths = serde_json::Map::new();
    for res in resources::served(api) {
        let p = gv_path(res.group, res.version);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}")}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/<gv path>`: for each kind, a patch operation that takes
/// `fieldValidation`, which is what tells kubectl to validate on the
/// server. No schemas: the server's own parser is the validation.
pub fn openapi_group_version(api: Api, path: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for res in resources::served(api).filter(|r| gv_path(r.group, r.version) == path) {
        let ns = if res.namespaced {
            "namespaces/{namespace}/"
        } else {
            ""
        };
        paths.insert(
            format!("/{path}/{ns}{}/{{name}}", res.plural),
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version, "kind": res.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "pacsim", "version": "v1.32.0"},
        "paths": paths,
    }))
}

/// `/openapi/v2` as the smallest protobuf document (`swagger: "2.0"`), for
/// `kind: List` files, which kubectl validates against v2 only.
pub const OPENAPI_V2: &[u8] = &[0x0a, 0x03, b'2', b'.', b'0'];
pub const OPENAPI_V2_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

#[cfg(test)]
mod tests {
    use super::*;

    const TKC_GROUP: &str = "run.tanzu.vmware.com";

    #[test]
    fn every_served_group_version_has_a_resource_list_and_an_openapi_document() {
        for res in resources::all() {
            let list = resource_list(Api::Supervisor, res.group, res.version).unwrap();
            let names: Vec<&str> = list["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap())
                .collect();
            assert!(names.contains(&res.plural), "{names:?}");
            let doc =
                openapi_group_version(Api::Supervisor, &gv_path(res.group, res.version)).unwrap();
            assert!(!doc["paths"].as_object().unwrap().is_empty());
        }
        assert!(resource_list(Api::Supervisor, "apps", "v2").is_none());
        assert!(resource_list(Api::Guest, TKC_GROUP, "v1alpha3").is_none());
        assert!(openapi_group_version(Api::Guest, "apis/apps/v1").is_some());
    }

    #[test]
    fn deployments_have_the_autoscaling_scale_subresource() {
        let list = resource_list(Api::Supervisor, "apps", "v1").unwrap();
        let scale = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
    }
}
