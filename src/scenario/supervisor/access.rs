//! Who may do what: vCenter SSO users and groups, namespaces with their
//! limits, allowed classes and role bindings.

use super::super::error::{Diag, PResult, backticked, suggestion};
use super::super::manifests::dns_label;
use super::super::read::{self, Fields};
use super::super::units;
use super::super::yaml::Node;
use super::config::*;
use super::unique;
use crate::api::objects::{Kind, Object};

pub(super) fn users(node: &Node) -> PResult<Vec<UserConfig>> {
    let mut out: Vec<UserConfig> = Vec::new();
    for (i, item) in read::seq(node, "supervisor.users")?.iter().enumerate() {
        let path = format!("supervisor.users[{i}]");
        let f = Fields::new(item, &path, &["name", "groups"])?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        if name == ADMIN_USER {
            return Err(Diag::new(
                name_node.loc,
                format!("`{ADMIN_USER}` is built in (it owns everything); do not declare it"),
            ));
        }
        if name.trim().is_empty() {
            return Err(Diag::new(name_node.loc, "a user name cannot be empty"));
        }
        let seen: Vec<&str> = out.iter().map(|u| u.name.as_str()).collect();
        unique(name_node, "user", &name, &seen)?;
        let groups = f
            .opt("groups")
            .map(|n| read::strings(n, &f.sub("groups")))
            .transpose()?
            .unwrap_or_default();
        out.push(UserConfig { name, groups });
    }
    Ok(out)
}

pub(super) fn namespaces(
    node: &Node,
    objects: &[Object],
    users: &[UserConfig],
) -> PResult<Vec<NamespaceConfig>> {
    let names_of = |kind: Kind| -> Vec<&str> {
        objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(|o| o.meta.name.as_str())
            .collect()
    };
    let classes = names_of(Kind::VirtualMachineClass);
    let storage_classes = names_of(Kind::StorageClass);
    let mut out: Vec<NamespaceConfig> = Vec::new();
    for (i, item) in read::seq(node, "supervisor.namespaces")?.iter().enumerate() {
        let path = format!("supervisor.namespaces[{i}]");
        let f = Fields::new(
            item,
            &path,
            &[
                "name",
                "limits",
                "vm_classes",
                "storage_classes",
                "permissions",
            ],
        )?;
        let name_node = f.req("name")?;
        let name = read::string(name_node, &f.sub("name"))?;
        dns_label(&name).map_err(|why| {
            Diag::new(
                name_node.loc,
                format!("invalid namespace name `{name}`: {why}"),
            )
        })?;
        let seen: Vec<&str> = out.iter().map(|n| n.name.as_str()).collect();
        unique(name_node, "namespace", &name, &seen)?;
        let mut ns = NamespaceConfig::new(name);
        if let Some(n) = f.opt("limits") {
            let lf = Fields::new(n, &f.sub("limits"), &["cpu", "memory", "storage"])?;
            let amount = |key: &str, what: &str, parse: fn(&str) -> Result<u64, String>| {
                lf.opt(key)
                    .map(|n| read::unit(n, what, &lf.sub(key), parse))
                    .transpose()
            };
            ns.cpu_limit_millis = amount("cpu", "a cpu quantity", units::parse_cpu)?;
            ns.memory_limit_bytes = amount("memory", "a memory quantity", units::parse_memory)?;
            ns.storage_limit_bytes = amount("storage", "a storage quantity", units::parse_memory)?;
        }
        ns.vm_classes = object_refs(
            f.opt("vm_classes"),
            &f.sub("vm_classes"),
            "VirtualMachineClass",
            &classes,
        )?;
        ns.storage_classes = object_refs(
            f.opt("storage_classes"),
            &f.sub("storage_classes"),
            "StorageClass",
            &storage_classes,
        )?;
        if let Some(n) = f.opt("permissions") {
            ns.permissions = permissions(n, &f.sub("permissions"), users)?;
        }
        out.push(ns);
    }
    Ok(out)
}

/// Names of `kind` objects declared under `supervisor.objects`.
fn object_refs(
    node: Option<&Node>,
    field: &str,
    kind: &str,
    known: &[&str],
) -> PResult<Vec<String>> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for n in read::seq(node, field)? {
        let name = read::string(n, field)?;
        if !known.contains(&name.as_str()) {
            let listed = if known.is_empty() {
                "none is declared".to_string()
            } else {
                format!("declared: {}", backticked(known.iter().copied()))
            };
            return Err(Diag::new(
                n.loc,
                format!(
                    "`{name}` is not a {kind} declared under `supervisor.objects` ({listed}){}",
                    suggestion(&name, known.iter().copied())
                ),
            ));
        }
        if out.contains(&name) {
            return Err(Diag::new(n.loc, format!("`{name}` is listed twice")));
        }
        out.push(name);
    }
    Ok(out)
}

fn permissions(node: &Node, field: &str, users: &[UserConfig]) -> PResult<Vec<(Subject, Role)>> {
    let user_names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
    let mut groups: Vec<&str> = users
        .iter()
        .flat_map(|u| u.groups.iter().map(String::as_str))
        .collect();
    groups.sort();
    groups.dedup();
    let roles = [Role::View, Role::Edit, Role::Owner];
    let role_names = roles.map(Role::name);
    let mut out: Vec<(Subject, Role)> = Vec::new();
    for (i, item) in read::seq(node, field)?.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let f = Fields::new(item, &path, &["user", "group", "role"])?;
        let subject = match (f.opt("user"), f.opt("group")) {
            (Some(n), None) => {
                let name = read::string(n, &f.sub("user"))?;
                read::resolve(n, "user", &name, &user_names)?;
                Subject::User(name)
            }
            (None, Some(n)) => {
                let name = read::string(n, &f.sub("group"))?;
                if !groups.contains(&name.as_str()) {
                    return Err(Diag::new(
                        n.loc,
                        format!(
                            "group `{name}` has no members: no user in `supervisor.users` lists it{}",
                            suggestion(&name, groups.iter().copied())
                        ),
                    ));
                }
                Subject::Group(name)
            }
            (Some(_), Some(n)) => {
                return Err(Diag::new(
                    n.loc,
                    format!("`{path}` has both `user` and `group`; give one"),
                ));
            }
            (None, None) => {
                return Err(Diag::new(
                    f.loc,
                    format!("`{path}` needs a `user` or a `group`"),
                ));
            }
        };
        let role_node = f.req("role")?;
        let role = roles[read::choice(role_node, "role", &f.sub("role"), &role_names)?];
        if out.iter().any(|(s, _)| *s == subject) {
            return Err(Diag::new(
                f.loc,
                format!("`{path}`: this subject already has a role here"),
            ));
        }
        out.push((subject, role));
    }
    Ok(out)
}
