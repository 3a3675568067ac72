//! Which hosts may run a VirtualMachine, from where its storage is. Pure.
//!
//! The rule: a host qualifies when it sees the datastore of every
//! PersistentVolumeClaim the VM mounts, and at least one datastore of its
//! `spec.storageClass`'s storage policy (where CNS can put its boot disk).
//! A storage class or policy the operator does not know adds no constraint
//! (admission already checked that the class exists). A failed datastore
//! sees no host: a claim on it, or a policy whose datastores all failed,
//! makes the VM unplaceable until the repair.

use crate::model::HostId;
use crate::scenario::SupervisorConfig;
use std::collections::BTreeSet;

/// One claim the VM mounts: its name and the datastore CNS bound it to.
pub struct Claim<'a> {
    pub name: &'a str,
    /// None while the claim is unknown or not bound yet.
    pub datastore: Option<&'a str>,
}

/// Hosts allowed for the VM: `Ok(None)` when any host will do,
/// `Ok(Some(hosts))` (ascending, never empty) when only some, else why none.
pub fn allowed_hosts(
    config: &SupervisorConfig,
    host_count: usize,
    claims: &[Claim<'_>],
    storage_policy: Option<&str>,
    failed: &BTreeSet<String>,
) -> Result<Option<Vec<HostId>>, String> {
    let all: BTreeSet<HostId> = (0..host_count as u32).map(HostId).collect();
    let seeing = |datastore: &str| -> BTreeSet<HostId> {
        config
            .datastores
            .iter()
            .find(|d| d.name == datastore)
            .map(|d| d.hosts.iter().copied().collect())
            .unwrap_or_default()
    };
    let mut allowed = all.clone();
    let mut why: Vec<String> = Vec::new();
    for claim in claims {
        let Some(ds) = claim.datastore else {
            return Err(format!(
                "persistentvolumeclaim {} is not bound to a datastore",
                claim.name
            ));
        };
        if failed.contains(ds) {
            return Err(format!("datastore {ds} of claim {} failed", claim.name));
        }
        allowed = &allowed & &seeing(ds);
        why.push(format!("datastore {ds} (claim {})", claim.name));
    }
    let policy = storage_policy.and_then(|p| config.storage_policies.iter().find(|s| s.name == p));
    if let Some(policy) = policy.filter(|p| !p.datastores.is_empty()) {
        let up: Vec<_> = policy
            .datastores
            .iter()
            .filter_map(|&i| config.datastores.get(i))
            .filter(|d| !failed.contains(&d.name))
            .collect();
        if up.is_empty() {
            return Err(format!(
                "every datastore of storage policy {} failed",
                policy.name
            ));
        }
        let any_of: BTreeSet<HostId> = up.iter().flat_map(|d| d.hosts.iter().copied()).collect();
        allowed = &allowed & &any_of;
        why.push(format!("a datastore of storage policy {}", policy.name));
    }
    if allowed.is_empty() {
        return Err(format!("no host sees {}", why.join(" and ")));
    }
    Ok((allowed != all).then(|| allowed.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{DatastoreConfig, StoragePolicyConfig};
    use crate::supervisor::testkit;

    /// 4 hosts. local-0 on host 0, shared-01 on 0 and 1, shared-23 on 2
    /// and 3; policy "local" = [local-0], "shared" = [shared-01, shared-23].
    fn config() -> SupervisorConfig {
        let mut c = testkit::config(&["ns"]);
        let ds = |name: &str, hosts: &[u32]| DatastoreConfig {
            name: name.into(),
            capacity_bytes: 1 << 40,
            hosts: hosts.iter().map(|&h| HostId(h)).collect(),
        };
        c.datastores = vec![
            ds("local-0", &[0]),
            ds("shared-01", &[0, 1]),
            ds("shared-23", &[2, 3]),
        ];
        c.storage_policies = vec![
            StoragePolicyConfig {
                name: "local".into(),
                datastores: vec![0],
            },
            StoragePolicyConfig {
                name: "shared".into(),
                datastores: vec![1, 2],
            },
        ];
        c
    }

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    fn failed(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn claim<'a>(name: &'a str, ds: &'a str) -> Claim<'a> {
        Claim {
            name,
            datastore: Some(ds),
        }
    }

    #[test]
    fn a_policy_that_reaches_every_host_and_no_claims_mean_any_host() {
        assert_eq!(
            allowed_hosts(&config(), 4, &[], Some("shared"), &none()),
            Ok(None)
        );
        assert_eq!(
            allowed_hosts(&config(), 4, &[], Some("unknown"), &none()),
            Ok(None)
        );
        assert_eq!(allowed_hosts(&config(), 4, &[], None, &none()), Ok(None));
    }

    #[test]
    fn claims_restrict_to_the_hosts_that_see_every_claims_datastore() {
        let c = config();
        assert_eq!(
            allowed_hosts(
                &c,
                4,
                &[claim("data", "shared-23")],
                Some("shared"),
                &none()
            ),
            Ok(Some(vec![HostId(2), HostId(3)]))
        );
        assert_eq!(
            allowed_hosts(
                &c,
                4,
                &[claim("a", "shared-01"), claim("b", "local-0")],
                None,
                &none()
            ),
            Ok(Some(vec![HostId(0)]))
        );
    }

    #[test]
    fn the_storage_class_policy_restricts_too() {
        assert_eq!(
            allowed_hosts(&config(), 4, &[], Some("local"), &none()),
            Ok(Some(vec![HostId(0)]))
        );
    }

    #[test]
    fn no_common_host_or_an_unbound_claim_is_a_reason() {
        let c = config();
        assert_eq!(
            allowed_hosts(&c, 4, &[claim("data", "shared-23")], Some("local"), &none()),
            Err(
                "no host sees datastore shared-23 (claim data) and a datastore of \
                 storage policy local"
                    .into()
            )
        );
        let unbound = Claim {
            name: "logs",
            datastore: None,
        };
        assert_eq!(
            allowed_hosts(&c, 4, &[unbound], None, &none()),
            Err("persistentvolumeclaim logs is not bound to a datastore".into())
        );
        assert_eq!(
            allowed_hosts(&c, 4, &[claim("x", "gone")], None, &none()),
            Err("no host sees datastore gone (claim x)".into())
        );
    }

    #[test]
    fn failed_datastores_see_no_host() {
        let c = config();
        assert_eq!(
            allowed_hosts(
                &c,
                4,
                &[claim("d", "shared-01")],
                None,
                &failed(&["shared-01"])
            ),
            Err("datastore shared-01 of claim d failed".into())
        );
        // One datastore of the policy left: only its hosts.
        assert_eq!(
            allowed_hosts(&c, 4, &[], Some("shared"), &failed(&["shared-01"])),
            Ok(Some(vec![HostId(2), HostId(3)]))
        );
        assert_eq!(
            allowed_hosts(&c, 4, &[], Some("local"), &failed(&["local-0"])),
            Err("every datastore of storage policy local failed".into())
        );
    }
}
