//! CNS: datastores with capacity and host connectivity; a
//! PersistentVolumeClaim's volume is placed by its storage policy.
//!
//! Placement rule (first-fit): among the policy's datastores, in the order
//! the policy lists them, the first with room for the whole volume. Real
//! CNS ranks compatible datastores by free space; first-fit in policy order
//! lets a scenario say which datastore is preferred, and is what
//! `storage_policies[].datastores` documents. A volume lives on one
//! datastore; which hosts may run a pod or VM that mounts it is that
//! datastore's `hosts` (the VM Operator and the scheduler read them from the
//! config).

use super::api_server::admission::format_bytes;
use crate::actor::{Actor, Context, Note};
use crate::api::addrs::Addrs;
use crate::api::msg::SupMsg;
use crate::event::Event;
use crate::model::{HostId, SimDuration};
use crate::scenario::SupervisorConfig;
use std::collections::BTreeMap;

/// One datastore as CNS tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatastoreUsage {
    pub name: String,
    pub used_bytes: u64,
    pub capacity_bytes: u64,
    /// Hosts that see it, in host order.
    pub hosts: Vec<HostId>,
    /// Failed (a `datastore-failure` fault): takes no new volumes.
    pub failed: bool,
}

impl DatastoreUsage {
    fn free(&self) -> u64 {
        self.capacity_bytes.saturating_sub(self.used_bytes)
    }
}

#[derive(Clone, Debug)]
pub struct Storage {
    addrs: Addrs,
    datastores: Vec<DatastoreUsage>,
    /// Storage policy name -> indexes into `datastores`, in preference order.
    policies: BTreeMap<String, Vec<usize>>,
}

impl Storage {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        Storage {
            addrs,
            datastores: config
                .datastores
                .iter()
                .map(|d| DatastoreUsage {
                    name: d.name.clone(),
                    used_bytes: 0,
                    capacity_bytes: d.capacity_bytes,
                    hosts: d.hosts.clone(),
                    failed: false,
                })
                .collect(),
            policies: config
                .storage_policies
                .iter()
                .map(|p| (p.name.clone(), p.datastores.clone()))
                .collect(),
        }
    }

    /// Every datastore's usage, in config order (for the summary).
    pub fn datastores(&self) -> &[DatastoreUsage] {
        &self.datastores
    }

    pub fn datastore(&self, name: &str) -> Option<&DatastoreUsage> {
        self.datastores.iter().find(|d| d.name == name)
    }

    /// A datastore fails or comes back. Its volumes stay allocated (their
    /// data is there again after the repair); the VM Operator is told, so
    /// that VMs that cannot run without it stop and wait, the scheduler, so
    /// that pods with a claim on it wait to be scheduled, and WPS, so that
    /// running pods with a claim on it are powered off and failed. A part
    /// that restarts asks again (`DatastoreHealth`): it may have missed a
    /// failure or a repair while it was down.
    fn set_failed<C: Context>(&mut self, datastore: String, failed: bool, ctx: &mut C) {
        let Some(d) = self.datastores.iter_mut().find(|d| d.name == datastore) else {
            tracing::warn!(%datastore, "cns: fault on an unknown datastore");
            return;
        };
        if d.failed == failed {
            return;
        }
        d.failed = failed;
        if failed {
            ctx.note(crate::actor::Note::Sup(crate::api::notes::SupNote::Fault {
                kind: "datastore_failure",
            }));
        }
        let msg = if failed {
            SupMsg::DatastoreFailed { datastore }
        } else {
            SupMsg::DatastoreRepaired { datastore }
        };
        for listener in self.addrs.datastore_listeners() {
            ctx.send(listener, SimDuration::ZERO, msg.clone().event());
        }
    }

    /// Puts a volume of `bytes` on the first datastore of `policy` with
    /// room; its name, or why none could take it.
    pub fn provision(&mut self, policy: &str, bytes: u64) -> Result<String, String> {
        let Some(order) = self.policies.get(policy) else {
            return Err(format!("storage policy {policy} not found"));
        };
        if order.is_empty() {
            return Err(format!("storage policy {policy} has no datastores"));
        }
        let fits = |d: &DatastoreUsage| !d.failed && d.free() >= bytes;
        if let Some(&i) = order.iter().find(|&&i| fits(&self.datastores[i])) {
            let ds = &mut self.datastores[i];
            ds.used_bytes += bytes;
            return Ok(ds.name.clone());
        }
        let free: Vec<String> = order
            .iter()
            .map(|&i| {
                let d = &self.datastores[i];
                if d.failed {
                    return format!("{} failed", d.name);
                }
                format!(
                    "{} {} free of {}",
                    d.name,
                    format_bytes(d.free()),
                    format_bytes(d.capacity_bytes)
                )
            })
            .collect();
        Err(format!(
            "no datastore of storage policy {policy} has room for {}: {}",
            format_bytes(bytes),
            free.join(", ")
        ))
    }

    /// Frees `bytes` on `datastore`; false when there is no such datastore.
    pub fn release(&mut self, datastore: &str, bytes: u64) -> bool {
        match self.datastores.iter_mut().find(|d| d.name == datastore) {
            Some(d) => {
                d.used_bytes = d.used_bytes.saturating_sub(bytes);
                true
            }
            None => false,
        }
    }
}

impl Actor for Storage {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let Event::Supervisor(msg) = event else {
            return; // Start: nothing to arm
        };
        match *msg {
            SupMsg::VolumeRequest {
                ticket,
                storage_policy,
                bytes,
            } => {
                let reply = match self.provision(&storage_policy, bytes) {
                    Ok(datastore) => SupMsg::VolumeGranted { ticket, datastore },
                    Err(reason) => SupMsg::VolumeRefused { ticket, reason },
                };
                ctx.send(ctx.sender(), SimDuration::ZERO, reply.event());
            }
            SupMsg::VolumeRelease { datastore, bytes } => {
                if !self.release(&datastore, bytes) {
                    tracing::warn!(%datastore, bytes, "cns: release on an unknown datastore");
                }
            }
            SupMsg::DatastoreFailed { datastore } => self.set_failed(datastore, true, ctx),
            SupMsg::DatastoreRepaired { datastore } => self.set_failed(datastore, false, ctx),
            SupMsg::DatastoreHealth => {
                for d in &self.datastores {
                    let datastore = d.name.clone();
                    let msg = match d.failed {
                        true => SupMsg::DatastoreFailed { datastore },
                        false => SupMsg::DatastoreRepaired { datastore },
                    };
                    ctx.send(ctx.sender(), SimDuration::ZERO, msg.event());
                }
            }
            other => ctx.note(Note::Unexpected {
                actor: "cns",
                kind: other.kind(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::api::addrs::Part;
    use crate::model::ActorId;
    use crate::model::resources::GIB;
    use crate::scenario::{DatastoreConfig, StoragePolicyConfig};
    use crate::supervisor::testkit;

    /// ds-a 100Gi (hosts 0,1), ds-b 50Gi (host 2), ds-c 10Gi (all);
    /// gold = [ds-b, ds-a], silver = [ds-c], empty = [].
    fn storage() -> Storage {
        let mut config = testkit::config(&["ns"]);
        let ds = |name: &str, gib: u64, hosts: &[u32]| DatastoreConfig {
            name: name.into(),
            capacity_bytes: gib * GIB,
            hosts: hosts.iter().map(|&h| HostId(h)).collect(),
        };
        config.datastores = vec![
            ds("ds-a", 100, &[0, 1]),
            ds("ds-b", 50, &[2]),
            ds("ds-c", 10, &[0, 1, 2]),
        ];
        let policy = |name: &str, ds: &[usize]| StoragePolicyConfig {
            name: name.into(),
            datastores: ds.to_vec(),
        };
        config.storage_policies = vec![
            policy("gold", &[1, 0]),
            policy("silver", &[2]),
            policy("empty", &[]),
        ];
        Storage::new(&config, testkit::addrs(3))
    }

    #[test]
    fn volumes_go_to_the_first_datastore_of_the_policy_with_room() {
        let mut s = storage();
        assert_eq!(s.provision("gold", 30 * GIB).unwrap(), "ds-b");
        // 20Gi left on ds-b: a 30Gi volume goes to the next one in order.
        assert_eq!(s.provision("gold", 30 * GIB).unwrap(), "ds-a");
        // ... and a 20Gi one still fits the preferred datastore exactly.
        assert_eq!(s.provision("gold", 20 * GIB).unwrap(), "ds-b");
        assert_eq!(s.datastore("ds-b").unwrap().used_bytes, 50 * GIB);
        assert_eq!(s.datastore("ds-a").unwrap().used_bytes, 30 * GIB);
        assert_eq!(s.datastore("ds-c").unwrap().used_bytes, 0);
    }

    #[test]
    fn a_volume_no_datastore_can_hold_is_refused_with_each_ones_free_space() {
        let mut s = storage();
        assert_eq!(
            s.provision("gold", 101 * GIB).unwrap_err(),
            "no datastore of storage policy gold has room for 101Gi: \
             ds-b 50Gi free of 50Gi, ds-a 100Gi free of 100Gi"
        );
        assert_eq!(
            s.provision("bronze", GIB).unwrap_err(),
            "storage policy bronze not found"
        );
        assert_eq!(
            s.provision("empty", GIB).unwrap_err(),
            "storage policy empty has no datastores"
        );
        // A refusal takes nothing.
        assert!(s.datastores().iter().all(|d| d.used_bytes == 0));
    }

    #[test]
    fn release_frees_room_for_the_next_volume() {
        let mut s = storage();
        assert_eq!(s.provision("silver", 10 * GIB).unwrap(), "ds-c");
        assert!(s.provision("silver", GIB).is_err());
        assert!(s.release("ds-c", 4 * GIB));
        assert!(!s.release("ds-z", GIB));
        assert_eq!(s.provision("silver", 4 * GIB).unwrap(), "ds-c");
        assert_eq!(s.datastore("ds-c").unwrap().used_bytes, 10 * GIB);
    }

    #[test]
    fn a_message_cns_has_no_case_for_is_noted_as_unexpected_and_answered_with_nothing() {
        let mut s = storage();
        let mut ctx = TestCtx::new(ActorId(108));
        let stray = SupMsg::VolumeGranted {
            ticket: 7,
            datastore: "ds-a".into(),
        };
        let kind = stray.kind();
        s.handle(stray.event(), &mut ctx);
        assert!(ctx.take_sent().is_empty());
        assert!(matches!(
            ctx.notes.as_slice(),
            [Note::Unexpected { actor: "cns", kind: k }] if *k == kind
        ));
    }

    #[test]
    fn requests_are_answered_to_the_sender_and_releases_are_silent() {
        let mut s = storage();
        let mut ctx = TestCtx::new(ActorId(108));
        ctx.sender = ActorId(100);
        let req = |ticket, policy: &str, gib| {
            SupMsg::VolumeRequest {
                ticket,
                storage_policy: policy.into(),
                bytes: gib * GIB,
            }
            .event()
        };
        s.handle(req(1, "gold", 60), &mut ctx);
        s.handle(req(2, "silver", 11), &mut ctx);
        let release = SupMsg::VolumeRelease {
            datastore: "ds-a".into(),
            bytes: 60 * GIB,
        };
        s.handle(release.event(), &mut ctx);
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(
            sent[0],
            (
                ActorId(100),
                SimDuration::ZERO,
                SupMsg::VolumeGranted {
                    ticket: 1,
                    datastore: "ds-a".into()
                }
                .event()
            )
        );
        assert!(matches!(
            &sent[1].2,
            Event::Supervisor(m) if matches!(**m, SupMsg::VolumeRefused { ticket: 2, .. })
        ));
        assert_eq!(s.datastore("ds-a").unwrap().used_bytes, 0);
        assert_eq!(
            s.datastore("ds-a").unwrap().hosts,
            vec![HostId(0), HostId(1)]
        );
    }

    #[test]
    fn a_failed_datastore_takes_no_volumes_and_the_scheduler_wps_and_vm_operator_are_told() {
        let mut s = storage();
        let mut ctx = TestCtx::new(ActorId(108));
        let fail = SupMsg::DatastoreFailed {
            datastore: "ds-b".into(),
        };
        s.handle(fail.clone().event(), &mut ctx);
        s.handle(fail.clone().event(), &mut ctx);
        let sent = ctx.take_sent();
        let addrs = testkit::addrs(3);
        assert_eq!(
            sent,
            vec![
                (
                    addrs[Part::Scheduler],
                    SimDuration::ZERO,
                    fail.clone().event()
                ),
                (addrs[Part::Wps], SimDuration::ZERO, fail.clone().event()),
                (addrs[Part::VmOperator], SimDuration::ZERO, fail.event()),
            ]
        );
        assert_eq!(s.provision("gold", GIB).unwrap(), "ds-a");
        s.handle(
            SupMsg::DatastoreFailed {
                datastore: "ds-a".into(),
            }
            .event(),
            &mut ctx,
        );
        assert_eq!(
            s.provision("gold", GIB).unwrap_err(),
            "no datastore of storage policy gold has room for 1Gi: ds-b failed, ds-a failed"
        );
        let repair = SupMsg::DatastoreRepaired {
            datastore: "ds-b".into(),
        };
        s.handle(repair.event(), &mut ctx);
        assert_eq!(s.provision("gold", GIB).unwrap(), "ds-b");
    }
}
