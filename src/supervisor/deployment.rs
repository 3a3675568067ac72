//! The Deployment controller's decisions, pure: which ReplicaSet holds a
//! Deployment's current template (one per template, named by its hash),
//! and how many pods each of its ReplicaSets should have, as upstream's
//! rolling update and recreate do. The actor part is in `replicaset`
//! (the controller manager runs both controllers).

use crate::api::objects::{Amount, Deployment, PodSpec, Strategy};
use std::collections::BTreeMap;

/// A ReplicaSet of the Deployment as the controller sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetView {
    pub name: String,
    pub replicas: u32,
    pub revision: u64,
    /// Its template hash (`pod-template-hash`).
    pub hash: String,
    /// Pods not finished and not being deleted, including creates in
    /// flight; of those, Running (available).
    pub active: u32,
    pub available: u32,
    pub annotations: BTreeMap<String, String>,
}

/// What the controller does to bring one Deployment forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Make the ReplicaSet of the current template.
    Create {
        name: String,
        replicas: u32,
        revision: u64,
    },
    /// Set a ReplicaSet's replicas and revision, and its annotations
    /// when they are to change.
    Set {
        name: String,
        replicas: u32,
        revision: u64,
        annotations: Option<BTreeMap<String, String>>,
    },
    /// An old ReplicaSet past the revision history limit, scaled to 0.
    Delete { name: String },
}

/// Old ReplicaSets kept for `rollout undo` (apps/v1's default).
pub const REVISION_HISTORY: usize = 10;

/// The label that ties a ReplicaSet and its pods to their template.
pub const HASH_LABEL: &str = "pod-template-hash";

/// The hash of a template, spelled as upstream spells it (its decimal
/// digits in `bcdfghjklmnpqrstvwxz2456789`): FNV-1a over the template's
/// labels and spec in bincode's fixed encoding.
pub fn template_hash(labels: &BTreeMap<String, String>, spec: &PodSpec) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u32 = 0x811c_9dc5;
    let bytes = bincode::serialize(&(labels, spec)).expect("templates always encode");
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_string()
        .bytes()
        .map(|d| ALPHABET[usize::from(d) % ALPHABET.len()] as char)
        .collect()
}

/// The annotations a Deployment's newest ReplicaSet carries: the
/// Deployment's, but those about the Deployment itself (upstream's
/// `annotationsToSkip`).
pub fn copied_annotations(d: &Deployment) -> BTreeMap<String, String> {
    d.annotations
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("deployment.kubernetes.io/")
                && k.as_str() != "kubectl.kubernetes.io/last-applied-configuration"
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `amount` of `replicas`: percentages rounded up (surge) or down.
fn resolve(amount: Amount, replicas: u32, round_up: bool) -> u32 {
    match amount {
        Amount::Count(n) => n,
        Amount::Percent(p) => {
            let scaled = u64::from(replicas) * u64::from(p);
            let n = if round_up {
                scaled.div_ceil(100)
            } else {
                scaled / 100
            };
            n as u32
        }
    }
}

/// The next steps for `d`, whose template hashes to `hash`, given its
/// ReplicaSets. Empty when it is where it should be.
pub fn plan(d: &Deployment, name: &str, hash: &str, sets: &[SetView]) -> Vec<Step> {
    if d.paused {
        return paused(d, hash, sets);
    }
    let top = sets.iter().map(|s| s.revision).max().unwrap_or(0);
    let Some(new) = sets.iter().find(|s| s.hash == hash) else {
        // A new template: its ReplicaSet, sized as the strategy allows.
        let others: u32 = sets.iter().map(|s| s.replicas).sum();
        let replicas = match d.strategy {
            Strategy::Recreate if sets.iter().any(|s| s.active > 0 || s.replicas > 0) => 0,
            Strategy::Recreate => d.replicas,
            Strategy::RollingUpdate { max_surge, .. } => {
                let most = d.replicas + resolve(max_surge, d.replicas, true);
                most.saturating_sub(others).min(d.replicas)
            }
        };
        let created = SetView {
            name: format!("{name}-{hash}"),
            replicas,
            revision: top + 1,
            hash: hash.to_string(),
            active: 0,
            available: 0,
            annotations: copied_annotations(d),
        };
        let mut steps = vec![Step::Create {
            name: created.name.clone(),
            replicas,
            revision: created.revision,
        }];
        steps.extend(scale_old(d, &created, sets));
        return steps;
    };
    let mut steps = Vec::new();
    // Back to an older template (`rollout undo`): it becomes the newest
    // revision again.
    let revision = if new.revision < top {
        top + 1
    } else {
        new.revision
    };
    let old: Vec<&SetView> = sets.iter().filter(|s| s.name != new.name).collect();
    let old_replicas: u32 = old.iter().map(|s| s.replicas).sum();
    let new_replicas = match d.strategy {
        Strategy::Recreate => {
            if old.iter().any(|s| s.active > 0 || s.replicas > 0) {
                0
            } else {
                d.replicas
            }
        }
        Strategy::RollingUpdate { max_surge, .. } => {
            if new.replicas >= d.replicas || old_replicas == 0 {
                // Scaled, or the rollout is over.
                d.replicas
            } else {
                let most = d.replicas + resolve(max_surge, d.replicas, true);
                let total = new.replicas + old_replicas;
                (new.replicas + most.saturating_sub(total)).min(d.replicas)
            }
        }
    };
    let annotations = changed_annotations(d, new);
    if new_replicas != new.replicas || revision != new.revision || annotations.is_some() {
        steps.push(Step::Set {
            name: new.name.clone(),
            replicas: new_replicas,
            revision,
            annotations,
        });
    }
    let new_now = SetView {
        replicas: new_replicas,
        ..new.clone()
    };
    steps.extend(scale_old(d, &new_now, sets));
    steps.extend(history(sets, &new.name));
    steps
}

/// The newest set's annotations, when they no longer match its
/// Deployment's.
fn changed_annotations(d: &Deployment, new: &SetView) -> Option<BTreeMap<String, String>> {
    let copied = copied_annotations(d);
    (copied != new.annotations).then_some(copied)
}

/// A paused Deployment, as upstream's `sync`: no new ReplicaSet and no
/// rollout step. With one active set (or none: the newest), that set
/// follows `replicas`; several active sets (paused mid-rollout) stay as
/// they are, where upstream would scale them in proportion.
fn paused(d: &Deployment, hash: &str, sets: &[SetView]) -> Vec<Step> {
    let current = sets.iter().find(|s| s.hash == hash);
    let mut active = sets.iter().filter(|s| s.replicas > 0);
    let sized = match (active.next(), active.next()) {
        (Some(only), None) => Some(only),
        (None, _) => current.or_else(|| sets.iter().max_by_key(|s| s.revision)),
        (Some(_), Some(_)) => None,
    };
    let mut steps = Vec::new();
    if let Some(s) = sized.filter(|s| s.replicas != d.replicas) {
        let annotations = current
            .filter(|c| c.name == s.name)
            .and_then(|c| changed_annotations(d, c));
        steps.push(Step::Set {
            name: s.name.clone(),
            replicas: d.replicas,
            revision: s.revision,
            annotations,
        });
    } else if let Some(c) = current
        && let Some(annotations) = changed_annotations(d, c)
    {
        steps.push(Step::Set {
            name: c.name.clone(),
            replicas: c.replicas,
            revision: c.revision,
            annotations: Some(annotations),
        });
    }
    steps
}

/// Old ReplicaSets scaled down: all at once (recreate), or as far as
/// `max_unavailable` lets the available pods drop (rolling update,
/// unavailable pods first, oldest revision first).
fn scale_old(d: &Deployment, new: &SetView, sets: &[SetView]) -> Vec<Step> {
    let mut old: Vec<&SetView> = sets
        .iter()
        .filter(|s| s.name != new.name && s.replicas > 0)
        .collect();
    old.sort_by_key(|s| s.revision);
    let set = |s: &SetView, replicas: u32| Step::Set {
        name: s.name.clone(),
        replicas,
        revision: s.revision,
        annotations: None,
    };
    let Strategy::RollingUpdate {
        max_surge,
        max_unavailable,
    } = d.strategy
    else {
        return old.into_iter().map(|s| set(s, 0)).collect();
    };
    // Both rounded to 0 (10 % of 3): one may be unavailable, as upstream.
    let unavailable = match (
        resolve(max_surge, d.replicas, true),
        resolve(max_unavailable, d.replicas, false),
    ) {
        (0, 0) => 1,
        (_, n) => n,
    };
    let min_available = d.replicas.saturating_sub(unavailable);
    // Every set's replicas, the new one's as planned.
    let all: u32 = old.iter().map(|s| s.replicas).sum::<u32>() + new.replicas;
    let new_unavailable = new.replicas.saturating_sub(new.available);
    // Unhealthy old pods first: scaling them away costs no availability.
    let mut budget = all.saturating_sub(min_available + new_unavailable);
    let mut target: Vec<u32> = old.iter().map(|s| s.replicas).collect();
    for (i, s) in old.iter().enumerate() {
        let unhealthy = s.replicas.saturating_sub(s.available).min(budget);
        target[i] -= unhealthy;
        budget -= unhealthy;
    }
    // Then the rest, while enough stay available.
    let available: u32 = sets.iter().map(|s| s.available).sum();
    let mut spare = available.saturating_sub(min_available);
    for (i, _) in old.iter().enumerate() {
        let down = target[i].min(spare);
        target[i] -= down;
        spare -= down;
    }
    old.iter()
        .zip(target)
        .filter(|(s, t)| *t != s.replicas)
        .map(|(s, t)| set(s, t))
        .collect()
}

/// Old, empty ReplicaSets beyond the history limit, oldest first.
fn history(sets: &[SetView], new: &str) -> Vec<Step> {
    let mut empty: Vec<&SetView> = sets
        .iter()
        .filter(|s| s.name != new && s.replicas == 0 && s.active == 0)
        .collect();
    if empty.len() <= REVISION_HISTORY {
        return Vec::new();
    }
    empty.sort_by_key(|s| s.revision);
    let extra = empty.len() - REVISION_HISTORY;
    empty
        .into_iter()
        .take(extra)
        .map(|s| Step::Delete {
            name: s.name.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(replicas: u32, strategy: Strategy) -> Deployment {
        Deployment {
            replicas,
            template_labels: BTreeMap::new(),
            template: PodSpec::default(),
            strategy,
            annotations: BTreeMap::new(),
            paused: false,
        }
    }

    fn set(name: &str, replicas: u32, revision: u64, available: u32) -> SetView {
        SetView {
            name: name.into(),
            replicas,
            revision,
            hash: name.rsplit('-').next().unwrap().into(),
            active: replicas,
            available,
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn a_first_rollout_makes_one_set_of_all_replicas() {
        let d = deployment(4, Strategy::default());
        let steps = plan(&d, "web", "abc", &[]);
        assert_eq!(
            steps,
            vec![Step::Create {
                name: "web-abc".into(),
                replicas: 4,
                revision: 1
            }]
        );
    }

    /// 4 replicas, 25 % surge (1) and 25 % unavailable (1): the new set
    /// grows by one above 4 pods, and the old one shrinks while 3 stay
    /// available.
    #[test]
    fn a_rolling_update_keeps_within_surge_and_unavailability() {
        let d = deployment(4, Strategy::default());
        let old = set("web-old", 4, 1, 4);
        let steps = plan(&d, "web", "new", std::slice::from_ref(&old));
        assert_eq!(
            steps,
            vec![
                Step::Create {
                    name: "web-new".into(),
                    replicas: 1,
                    revision: 2
                },
                Step::Set {
                    name: "web-old".into(),
                    replicas: 3,
                    revision: 1,
                    annotations: None
                },
            ]
        );
        // The new pod is not available yet: the surge allows a fifth pod,
        // and no old one may go.
        let sets = [set("web-old", 3, 1, 3), set("web-new", 1, 2, 0)];
        let steps = plan(&d, "web", "new", &sets);
        assert_eq!(
            steps,
            vec![Step::Set {
                name: "web-new".into(),
                replicas: 2,
                revision: 2,
                annotations: None
            }]
        );
        // It is: one more up, one more down.
        let sets = [set("web-old", 3, 1, 3), set("web-new", 1, 2, 1)];
        let steps = plan(&d, "web", "new", &sets);
        assert_eq!(
            steps,
            vec![
                Step::Set {
                    name: "web-new".into(),
                    replicas: 2,
                    revision: 2,
                    annotations: None
                },
                Step::Set {
                    name: "web-old".into(),
                    replicas: 2,
                    revision: 1,
                    annotations: None
                },
            ]
        );
        // The end: all new, the old at 0 and kept for undo.
        let sets = [set("web-old", 0, 1, 0), set("web-new", 4, 2, 4)];
        assert!(plan(&d, "web", "new", &sets).is_empty());
    }

    #[test]
    fn recreate_empties_the_old_sets_before_the_new_one_grows() {
        let d = deployment(3, Strategy::Recreate);
        let steps = plan(&d, "web", "new", &[set("web-old", 3, 1, 3)]);
        assert_eq!(
            steps,
            vec![
                Step::Create {
                    name: "web-new".into(),
                    replicas: 0,
                    revision: 2
                },
                Step::Set {
                    name: "web-old".into(),
                    replicas: 0,
                    revision: 1,
                    annotations: None
                },
            ]
        );
        // Old pods still going: wait.
        let mut going = set("web-old", 0, 1, 0);
        going.active = 2;
        assert!(plan(&d, "web", "new", &[going, set("web-new", 0, 2, 0)]).is_empty());
        let steps = plan(
            &d,
            "web",
            "new",
            &[set("web-old", 0, 1, 0), set("web-new", 0, 2, 0)],
        );
        assert_eq!(
            steps,
            vec![Step::Set {
                name: "web-new".into(),
                replicas: 3,
                revision: 2,
                annotations: None
            }]
        );
    }

    #[test]
    fn scaling_without_a_new_template_sets_the_current_set() {
        let d = deployment(6, Strategy::default());
        let steps = plan(&d, "web", "cur", &[set("web-cur", 3, 1, 3)]);
        assert_eq!(
            steps,
            vec![Step::Set {
                name: "web-cur".into(),
                replicas: 6,
                revision: 1,
                annotations: None
            }]
        );
    }

    #[test]
    fn undo_makes_an_old_template_the_newest_revision() {
        let d = deployment(2, Strategy::default());
        let sets = [set("web-a", 0, 1, 0), set("web-b", 2, 2, 2)];
        let steps = plan(&d, "web", "a", &sets);
        assert_eq!(
            steps[0],
            Step::Set {
                name: "web-a".into(),
                replicas: 1,
                revision: 3,
                annotations: None
            }
        );
    }

    #[test]
    fn a_paused_deployment_makes_no_new_set_but_still_scales_its_only_one() {
        let mut d = deployment(4, Strategy::default());
        d.paused = true;
        // A new template while paused: nothing happens.
        assert!(plan(&d, "web", "new", &[set("web-old", 4, 1, 4)]).is_empty());
        // Scaled while paused: the one active set follows.
        d.replicas = 6;
        assert_eq!(
            plan(&d, "web", "new", &[set("web-old", 4, 1, 4)]),
            vec![Step::Set {
                name: "web-old".into(),
                replicas: 6,
                revision: 1,
                annotations: None
            }]
        );
        // Paused mid-rollout: both sets stand still, even if scaled.
        let sets = [set("web-old", 3, 1, 3), set("web-new", 2, 2, 1)];
        assert!(plan(&d, "web", "new", &sets).is_empty());
        // Resumed: the rollout goes on from where it stood.
        d.paused = false;
        assert!(!plan(&d, "web", "new", &sets).is_empty());
    }

    #[test]
    fn the_newest_set_carries_its_deployments_annotations_but_the_skipped_ones() {
        let mut d = deployment(2, Strategy::default());
        d.annotations = BTreeMap::from([
            ("kubernetes.io/change-cause".into(), "v2".into()),
            ("deployment.kubernetes.io/revision".into(), "7".into()),
            (
                "kubectl.kubernetes.io/last-applied-configuration".into(),
                "{}".into(),
            ),
        ]);
        let want = BTreeMap::from([("kubernetes.io/change-cause".to_string(), "v2".to_string())]);
        assert_eq!(copied_annotations(&d), want);
        // Annotated after its rollout: only the newest set follows.
        let sets = [set("web-a", 0, 1, 0), set("web-b", 2, 2, 2)];
        assert_eq!(
            plan(&d, "web", "b", &sets),
            vec![Step::Set {
                name: "web-b".into(),
                replicas: 2,
                revision: 2,
                annotations: Some(want.clone())
            }]
        );
        let mut b = set("web-b", 2, 2, 2);
        b.annotations = want.clone();
        assert!(plan(&d, "web", "b", &[set("web-a", 0, 1, 0), b.clone()]).is_empty());
        // Paused, the newest set still follows.
        d.paused = true;
        d.annotations
            .insert("kubernetes.io/change-cause".into(), "v3".into());
        let steps = plan(&d, "web", "b", &[set("web-a", 0, 1, 0), b]);
        assert!(
            matches!(&steps[..], [Step::Set { name, annotations: Some(a), .. }] if name == "web-b" && a["kubernetes.io/change-cause"] == "v3"),
            "{steps:?}"
        );
    }

    #[test]
    fn surge_and_unavailability_both_rounding_to_zero_allow_one_unavailable() {
        let ten = Amount::Percent(10);
        let strategy = Strategy::RollingUpdate {
            max_surge: ten,
            max_unavailable: ten,
        };
        // 10 % of 3 rounds up to a surge of 1, so the fencepost does not
        // apply; with a surge of 0 it does.
        let d = deployment(3, strategy);
        let steps = plan(&d, "web", "new", &[set("web-old", 3, 1, 3)]);
        assert_eq!(steps.len(), 1, "{steps:?}");
        let d = deployment(
            3,
            Strategy::RollingUpdate {
                max_surge: Amount::Count(0),
                max_unavailable: ten,
            },
        );
        let steps = plan(&d, "web", "new", &[set("web-old", 3, 1, 3)]);
        assert_eq!(
            steps[1],
            Step::Set {
                name: "web-old".into(),
                replicas: 2,
                revision: 1,
                annotations: None
            }
        );
    }

    #[test]
    fn old_empty_sets_past_the_history_limit_are_deleted() {
        let d = deployment(1, Strategy::default());
        let mut sets: Vec<SetView> = (1..=12)
            .map(|r| set(&format!("web-h{r}"), 0, r, 0))
            .collect();
        sets.push(set("web-now", 1, 13, 1));
        let steps = plan(&d, "web", "now", &sets);
        assert_eq!(
            steps,
            vec![
                Step::Delete {
                    name: "web-h1".into()
                },
                Step::Delete {
                    name: "web-h2".into()
                },
            ]
        );
    }

    #[test]
    fn template_hashes_differ_by_template_and_use_upstreams_alphabet() {
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        let a = template_hash(&labels, &PodSpec::default());
        let mut spec = PodSpec::default();
        spec.requests.cpu_millis = 250;
        let b = template_hash(&labels, &spec);
        assert_ne!(a, b);
        assert_eq!(a, template_hash(&labels, &PodSpec::default()));
        assert!(
            a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
            "{a}"
        );
    }
}
