//! A scenario with a different number of hosts of one model, in one
//! cluster or all. Hosts of that model are removed from the end, or added
//! after its last host (in that host's cluster; in the chosen cluster, after
//! its last host when it has none of the model). DRS host groups keep the
//! hosts that remain. Generated names (`{prefix}-{NN}`, the prefix of the
//! first host named so) are renumbered in order, zero-padded to the width of
//! their count, as the parser does. Scheduled faults follow their host (and
//! are dropped with it); random faults on every host stay on every host.

use crate::model::{HostId, limits};
use crate::scenario::{HostSpec, Scenario};

/// The most hosts of `model` the datacenter can hold with its other hosts
/// (`limits`: the host count, and the memory a datacenter sums).
pub fn most_hosts(base: &Scenario, model: usize) -> u64 {
    let dc = &base.datacenter;
    let others = dc.hosts.iter().filter(|h| h.model != model);
    let other_memory: u64 = others
        .clone()
        .map(|h| dc.models[h.model].capacity.memory_bytes)
        .sum();
    let per_host = dc.models[model].capacity.memory_bytes.max(1);
    let by_memory = (limits::MAX_TOTAL_BYTES - other_memory) / per_host;
    let by_count = limits::MAX_HOSTS - others.count() as u64;
    by_memory.min(by_count)
}

/// `cluster`: only that cluster's hosts of `model` are counted and
/// changed; `None`: every host of `model`.
pub fn with_host_count(
    base: &Scenario,
    model: usize,
    cluster: Option<usize>,
    count: u64,
) -> Scenario {
    let mut s = base.clone();
    let old = &base.datacenter.hosts;
    let picked = |h: &HostSpec| h.model == model && cluster.is_none_or(|c| h.cluster == c);
    let of_model: Vec<usize> = (0..old.len()).filter(|i| picked(&old[*i])).collect();
    let keep = count.min(of_model.len() as u64) as usize;
    let dropped: Vec<usize> = of_model[keep..].to_vec();
    // old index → new index
    let mut map: Vec<Option<usize>> = Vec::with_capacity(old.len());
    let mut hosts: Vec<HostSpec> = Vec::new();
    let insert_after = of_model.get(keep.max(1) - 1).copied().or_else(|| {
        let c = cluster?;
        let range = base.datacenter.cluster_hosts(c);
        (!range.is_empty()).then(|| range.end as usize - 1)
    });
    let extra = count.saturating_sub(of_model.len() as u64) as usize;
    let new_host = |cluster| HostSpec {
        name: String::new(),
        cluster,
        model,
    };
    for (i, h) in old.iter().enumerate() {
        if dropped.contains(&i) {
            map.push(None);
            continue;
        }
        map.push(Some(hosts.len()));
        hosts.push(h.clone());
        if Some(i) == insert_after {
            hosts.extend((0..extra).map(|_| new_host(h.cluster)));
        }
    }
    if insert_after.is_none() {
        // Appended hosts join the last cluster, so that every cluster's
        // hosts stay contiguous.
        let last = base.datacenter.clusters.len().saturating_sub(1);
        hosts.extend((0..extra).map(|_| new_host(cluster.unwrap_or(last))));
    }
    rename(&mut hosts, prefix(old));
    let all_old = old.len();
    s.faults
        .scheduled
        .retain_mut(|f| match map[f.host.0 as usize] {
            Some(n) => {
                f.host = HostId(n as u32);
                true
            }
            None => false,
        });
    for r in &mut s.faults.random {
        r.hosts = if r.hosts.len() == all_old {
            (0..hosts.len()).map(|i| HostId(i as u32)).collect()
        } else {
            r.hosts
                .iter()
                .filter_map(|h| map[h.0 as usize].map(|n| HostId(n as u32)))
                .collect()
        };
    }
    for rule in &mut s.datacenter.rules {
        rule.hosts = (rule.hosts.iter())
            .filter_map(|h| map[h.0 as usize].map(|n| HostId(n as u32)))
            .collect();
    }
    if let Some(sup) = &mut s.supervisor {
        let before = base.datacenter.cluster_hosts(sup.cluster);
        let mut resized = s.datacenter.clone();
        resized.hosts = hosts.clone();
        let after = resized.cluster_hosts(sup.cluster);
        resize_supervisor(sup, &map, (before, after));
    }
    s.faults.supervisor.retain_mut(|f| {
        use crate::scenario::SupervisorFaultKind as K;
        match &mut f.kind {
            K::SphereletCrash(h) | K::SphereletHang(h) => match map[h.0 as usize] {
                Some(n) => {
                    *h = HostId(n as u32);
                    true
                }
                None => false,
            },
            _ => true,
        }
    });
    s.datacenter.hosts = hosts;
    let within = cluster.map_or(String::new(), |c| format!(" in cluster index {c}"));
    s.source.push_str(&format!(
        "\n# plan: {count} hosts of model index {model}{within}\n"
    ));
    s
}

/// The Supervisor's host references follow their hosts like faults do: a
/// datastore on every host of the Supervisor's cluster (`before`) stays on
/// every host of it (`after`), others keep the hosts that remain;
/// Supervisor faults and taints on a dropped host are dropped.
fn resize_supervisor(
    sup: &mut crate::scenario::SupervisorConfig,
    map: &[Option<usize>],
    (before, after): (std::ops::Range<u32>, std::ops::Range<u32>),
) {
    let moved = |h: &HostId| map[h.0 as usize].map(|n| HostId(n as u32));
    let whole: Vec<HostId> = before.map(HostId).collect();
    for d in &mut sup.datastores {
        d.hosts = if d.hosts == whole {
            after.clone().map(HostId).collect()
        } else {
            d.hosts.iter().filter_map(moved).collect()
        };
    }
    sup.node_taints = sup
        .node_taints
        .iter()
        .filter_map(|(h, t)| moved(h).map(|n| (n, t.clone())))
        .collect();
}

/// `esx` for `esx-01`; `esx` when no host has a generated-looking name.
fn prefix(hosts: &[HostSpec]) -> String {
    hosts
        .iter()
        .find_map(|h| split_generated(&h.name).map(|(p, _)| p.to_string()))
        .unwrap_or_else(|| "esx".to_string())
}

fn split_generated(name: &str) -> Option<(&str, &str)> {
    let (p, n) = name.rsplit_once('-')?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some((p, n))
}

fn rename(hosts: &mut [HostSpec], prefix: String) {
    let generated = |h: &HostSpec| {
        h.name.is_empty() || split_generated(&h.name).is_some_and(|(p, _)| p == prefix)
    };
    let total = hosts.iter().filter(|h| generated(h)).count();
    let width = total.to_string().len().max(2);
    let mut number = 0;
    for h in hosts.iter_mut() {
        if generated(h) {
            number += 1;
            h.name = format!("{prefix}-{number:0width$}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_scenario;

    const TWO_MODELS: &str = "name: t\nseed: 1\nduration: 1h\ndatacenter:\n  host_models:\n    - { name: a, cpu: 8, memory: 8Gi }\n    - { name: b, cpu: 8, memory: 8Gi }\n  clusters:\n    - name: c\n      hosts:\n        - { model: a, count: 2 }\n        - { model: b, count: 1 }\nfaults:\n  - { at: 1m, host: esx-03, fault: crash }\n";

    #[test]
    fn hosts_are_added_after_the_models_last_host_and_renumbered() {
        let s = parse_scenario(TWO_MODELS, "<inline>").unwrap();
        let r = with_host_count(&s, 0, None, 10);
        let names: Vec<&str> = r.datacenter.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names.len(), 11);
        assert_eq!(names[0], "esx-01");
        assert_eq!(names[10], "esx-11");
        assert_eq!(r.datacenter.hosts[10].model, 1);
        assert_eq!(r.faults.scheduled[0].host, HostId(10));
    }

    const THREE_CLUSTERS: &str = "name: t\nseed: 1\nduration: 1h\ndatacenter:\n  host_models:\n    - { name: x, cpu: 8, memory: 8Gi }\n    - { name: y, cpu: 8, memory: 8Gi }\n    - { name: z, cpu: 8, memory: 8Gi }\n  clusters:\n    - name: a\n      hosts:\n        - { model: x, count: 2 }\n      host_groups:\n        - { name: g, hosts: [esx-02] }\n      rules:\n        - { name: r, type: must_run_on, vms: [v], host_group: g }\n    - name: b\n      hosts:\n        - { model: y, count: 1 }\n    - name: c\n      hosts:\n        - { model: x, count: 1 }\nworkloads:\n  vms:\n    - { name: v, cluster: a, cpu: 1, memory: 1Gi }\n";

    /// Resizing one cluster adds its hosts among its own, keeps the other
    /// clusters' and every cluster contiguous, and host groups follow
    /// their hosts; a model without hosts grows in the last cluster.
    #[test]
    fn one_cluster_is_resized_and_every_cluster_stays_contiguous() {
        let s = parse_scenario(THREE_CLUSTERS, "<inline>").unwrap();
        let r = with_host_count(&s, 0, Some(0), 4);
        let clusters: Vec<usize> = r.datacenter.hosts.iter().map(|h| h.cluster).collect();
        assert_eq!(clusters, [0, 0, 0, 0, 1, 2]);
        assert_eq!(r.datacenter.cluster_ranges(), [0..4, 4..5, 5..6]);
        assert_eq!(r.datacenter.rules[0].hosts, [HostId(1)]);
        let shrunk = with_host_count(&s, 0, Some(0), 1);
        assert_eq!(shrunk.datacenter.cluster_ranges(), [0..1, 1..2, 2..3]);
        assert!(shrunk.datacenter.rules[0].hosts.is_empty());
        let grown = with_host_count(&s, 2, None, 2);
        assert_eq!(grown.datacenter.cluster_ranges(), [0..2, 2..3, 3..6]);
    }

    #[test]
    fn removed_hosts_take_their_scheduled_faults_with_them() {
        let s = parse_scenario(TWO_MODELS, "<inline>").unwrap();
        let r = with_host_count(&s, 1, None, 0);
        assert_eq!(r.datacenter.hosts.len(), 2);
        assert!(r.faults.scheduled.is_empty());
    }
}
