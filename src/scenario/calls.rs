//! `workloads.manifests` (timed API calls: create, update, delete) and
//! `workloads.object_generators` (objects stamped out from a template).
//! Whether a call is *allowed* is the authentication proxy's decision at
//! run time, so a scenario can express a denied call; here only that the
//! user exists and the objects are well formed.

use super::error::{Diag, PResult};
use super::include::Includes;
use super::manifests::{self, Scope};
use super::model::Location;
use super::notices;
use super::read::{self, Fields};
use super::supervisor::is_include;
use super::timing::{arrivals, delete_at, window};
use super::yaml::Node;
use crate::api::Verb;
use crate::api::objects::{Kind, ObjectKey};
use crate::model::SimTime;
use crate::scenario::{ADMIN_USER, ObjectGenerator, SupervisorConfig, TimedCall};

/// What calls may refer to: the parsed `supervisor:` section, and where
/// `include:` files are found.
pub(crate) struct CallScope<'a> {
    pub supervisor: &'a SupervisorConfig,
    pub includes: &'a Includes,
}

impl CallScope<'_> {
    fn names(&self) -> (Vec<String>, Vec<String>) {
        let sup = self.supervisor;
        (
            sup.namespaces.iter().map(|n| n.name.clone()).collect(),
            sup.storage_policies
                .iter()
                .map(|p| p.name.clone())
                .collect(),
        )
    }

    /// A declared user or the built-in administrator.
    fn user(&self, f: &Fields) -> PResult<String> {
        let n = f.req("user")?;
        let name = read::string(n, &f.sub("user"))?;
        let mut known: Vec<&str> = self
            .supervisor
            .users
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        known.push(ADMIN_USER);
        read::resolve(n, "user", &name, &known)?;
        Ok(name)
    }
}

const OPS: [&str; 4] = ["object", "include", "update", "delete"];

/// `cluster: <namespace>/<name>`: the call goes to that guest cluster's
/// own API (a TanzuKubernetesCluster in a declared Supervisor namespace;
/// that some manifest call creates it is checked once all are parsed).
fn cluster_of(f: &Fields, scope: &CallScope) -> PResult<Option<(ObjectKey, Location)>> {
    let Some(n) = f.opt("cluster") else {
        return Ok(None);
    };
    let text = read::string(n, &f.sub("cluster"))?;
    let Some((ns, name)) = text.split_once('/') else {
        return Err(Diag::new(
            n.loc,
            format!(
                "`cluster: {text}` should name a TanzuKubernetesCluster as `<namespace>/<name>`"
            ),
        ));
    };
    let namespaces: Vec<&str> = scope
        .supervisor
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    read::resolve(n, "namespace", ns, &namespaces)?;
    let key = ObjectKey::new(Kind::TanzuKubernetesCluster, ns, name);
    Ok(Some((key, n.loc)))
}

/// A call's `namespace:` (declared, or in a guest any DNS label).
fn call_namespace(f: &Fields, declared: &[String], guest: bool) -> PResult<Option<String>> {
    let Some(n) = f.opt("namespace") else {
        return Ok(None);
    };
    let ns = read::string(n, &f.sub("namespace"))?;
    if guest {
        manifests::dns_label(&ns)
            .map_err(|why| Diag::new(n.loc, format!("invalid namespace `{ns}`: {why}")))?;
    } else {
        let names: Vec<&str> = declared.iter().map(String::as_str).collect();
        read::resolve(n, "namespace", &ns, &names)?;
    }
    Ok(Some(ns))
}

/// The manifest scope of a call: the guest's when it has `cluster:`.
fn scope_for<'a>(base: &Scope<'a>, guest: bool) -> Scope<'a> {
    Scope {
        namespaces: base.namespaces,
        storage_policies: base.storage_policies,
        cluster_scoped_only: false,
        default_namespace: base.default_namespace,
        guest,
        any_namespace: false,
    }
}

/// Every `cluster:` must name a TanzuKubernetesCluster that a manifest call
/// (not a guest call) creates: the world builds one actor per such create.
fn check_clusters(calls: &[TimedCall], wanted: &[(ObjectKey, Location)]) -> PResult<()> {
    let tkcs: Vec<ObjectKey> = calls
        .iter()
        .filter(|c| c.verb == Verb::Create && c.cluster.is_none())
        .filter(|c| c.object.kind() == Kind::TanzuKubernetesCluster)
        .map(|c| c.object.key())
        .collect();
    for (key, loc) in wanted {
        if !tkcs.contains(key) {
            let names: Vec<String> = tkcs
                .iter()
                .map(|k| format!("{}/{}", k.namespace, k.name))
                .collect();
            return Err(Diag::new(
                *loc,
                format!(
                    "`cluster: {}/{}` names no TanzuKubernetesCluster created under `workloads.manifests`{}",
                    key.namespace,
                    key.name,
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!("; created: {}", names.join(", "))
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// Every call in time order; calls at the same time keep file order (a
/// create's `delete_at` delete is placed by its own time).
pub(crate) fn parse_calls(node: &Node, scope: &CallScope) -> PResult<Vec<TimedCall>> {
    let (namespaces, policies) = scope.names();
    let mscope = Scope {
        namespaces: &namespaces,
        storage_policies: &policies,
        cluster_scoped_only: false,
        default_namespace: None,
        guest: false,
        any_namespace: false,
    };
    let mut calls = Vec::new();
    let mut wanted: Vec<(ObjectKey, Location)> = Vec::new();
    for (i, item) in read::seq(node, "workloads.manifests")?.iter().enumerate() {
        let path = format!("workloads.manifests[{i}]");
        let f = Fields::new(
            item,
            &path,
            &[
                "at",
                "user",
                "object",
                "include",
                "update",
                "delete",
                "delete_at",
                "cluster",
                "namespace",
            ],
        )?;
        // In file order, so that a clash is reported at the later one.
        let mut given: Vec<&str> = OPS.into_iter().filter(|k| f.opt(k).is_some()).collect();
        given.sort_by_key(|k| f.key(k).map(|n| (n.loc.line, n.loc.col)));
        let op = match given.as_slice() {
            [op] => *op,
            [] => {
                return Err(Diag::new(
                    f.loc,
                    format!("`{path}` needs one of `object`, `include`, `update` or `delete`"),
                ));
            }
            [a, b, ..] => {
                let second = f.key(b).map_or(f.loc, |k| k.loc);
                return Err(Diag::new(
                    second,
                    format!("`{path}` has both `{a}` and `{b}`; give one call per entry"),
                ));
            }
        };
        let at = f
            .opt("at")
            .map(|n| read::duration(n, &f.sub("at")))
            .transpose()?
            .unwrap_or(0);
        let user = scope.user(&f)?;
        if let (Some(k), "update" | "delete") = (f.key("delete_at"), op) {
            return Err(Diag::new(
                k.loc,
                format!("`delete_at` goes with `object` or `include`, not with `{op}`"),
            ));
        }
        let delete = delete_at(&f, at)?;
        let cluster = cluster_of(&f, scope)?;
        let default_namespace = call_namespace(&f, &namespaces, cluster.is_some())?;
        let cscope = Scope {
            default_namespace: default_namespace.as_deref(),
            ..scope_for(&mscope, cluster.is_some())
        };
        let mscope = &cscope;
        if let Some((key, loc)) = &cluster {
            wanted.push((key.clone(), *loc));
        }
        let cluster = cluster.map(|(k, _)| k);
        let value = f.req(op)?;
        let (verb, objects) = match op {
            "object" => (
                Verb::Create,
                Vec::from_iter(manifests::parse_manifest(value, mscope)?),
            ),
            "update" => (
                Verb::Update,
                Vec::from_iter(manifests::parse_manifest(value, mscope)?),
            ),
            "delete" => (
                Verb::Delete,
                vec![manifests::parse_key(value, &f.sub("delete"), mscope)?],
            ),
            _ => (
                Verb::Create,
                included(value, &f.sub("include"), scope.includes, mscope)?,
            ),
        };
        for object in objects {
            let deletion = delete.map(|t| TimedCall {
                at: t,
                user: user.clone(),
                verb: Verb::Delete,
                object: object.clone(),
                cluster: cluster.clone(),
            });
            calls.push(TimedCall {
                at: SimTime(at),
                user: user.clone(),
                verb: verb.clone(),
                object,
                cluster: cluster.clone(),
            });
            calls.extend(deletion);
        }
    }
    // Stable: equal times keep the order above (file order).
    calls.sort_by_key(|c| c.at);
    check_clusters(&calls, &wanted)?;
    Ok(calls)
}

/// Every document of an included file, errors located in that file.
fn included(
    node: &Node,
    field: &str,
    includes: &Includes,
    scope: &Scope,
) -> PResult<Vec<crate::api::objects::Object>> {
    let inc = includes.load(node, field)?;
    notices::in_file(&inc.file, || {
        let parsed: PResult<Vec<Option<_>>> = (inc.docs.iter())
            .map(|d| manifests::parse_manifest(d, scope).map_err(|e| e.located_in(&inc.file)))
            .collect();
        Ok(parsed?.into_iter().flatten().collect())
    })
}

/// `calls`: the parsed `workloads.manifests` (the guest clusters a
/// generator's `cluster:` may name).
pub(crate) fn parse_object_generators(
    node: &Node,
    scope: &CallScope,
    calls: &[TimedCall],
) -> PResult<Vec<ObjectGenerator>> {
    let (namespaces, policies) = scope.names();
    let mscope = Scope {
        namespaces: &namespaces,
        storage_policies: &policies,
        cluster_scoped_only: false,
        default_namespace: None,
        guest: false,
        any_namespace: false,
    };
    let mut out: Vec<ObjectGenerator> = Vec::new();
    for (i, item) in read::seq(node, "workloads.object_generators")?
        .iter()
        .enumerate()
    {
        let path = format!("workloads.object_generators[{i}]");
        let f = Fields::new(
            item,
            &path,
            &[
                "name",
                "user",
                "rate",
                "interarrival",
                "lifetime",
                "start",
                "stop",
                "count",
                "template",
                "cluster",
            ],
        )?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        if out.iter().any(|g| g.name == name) {
            return Err(Diag::new(
                name_node.loc,
                format!("duplicate object generator name `{name}`"),
            ));
        }
        let user = scope.user(&f)?;
        let interarrival = arrivals(&f, &name)?;
        let lifetime = f
            .opt("lifetime")
            .map(|n| read::dist(n, &f.sub("lifetime")))
            .transpose()?;
        let (start, stop) = window(&f)?;
        let count = f
            .opt("count")
            .map(|n| read::int_in(n, &f.sub("count"), 0, crate::model::limits::MAX_COUNT))
            .transpose()?;
        let template_node = f.req("template")?;
        if is_include(template_node) {
            return Err(Diag::new(
                template_node.loc,
                "a generator's `template` is one manifest written in place, not an `include:`",
            ));
        }
        let cluster = cluster_of(&f, scope)?;
        if let Some((key, loc)) = &cluster {
            check_clusters(calls, &[(key.clone(), *loc)])?;
        }
        let cluster = cluster.map(|(k, _)| k);
        let template =
            manifests::parse_manifest(template_node, &scope_for(&mscope, cluster.is_some()))?
                .ok_or_else(|| {
                    Diag::new(
                        template_node.loc,
                        "a generator's `template` must be a kind pacsim models",
                    )
                })?;
        // The world builds one actor per guest cluster from the written
        // calls; a generated one would have none.
        if template.kind() == Kind::TanzuKubernetesCluster {
            return Err(Diag::new(
                template_node.loc,
                "a TanzuKubernetesCluster cannot come from an object generator: create it under `workloads.manifests`",
            ));
        }
        out.push(ObjectGenerator {
            name,
            user,
            interarrival,
            lifetime,
            start,
            stop,
            count,
            template,
            cluster,
        });
    }
    Ok(out)
}
