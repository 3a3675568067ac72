//! The VM Operator's state machine, driven message by message.

use super::*;
use crate::actor::testing::TestCtx;
use crate::api::addrs::Part;
use crate::api::msg::{ApiError, SystemOp};
use crate::api::objects::{Meta, PersistentVolumeClaim, StorageClass, VirtualMachineClass};
use crate::model::ActorId;
use crate::model::resources::GIB;
use crate::scenario::{DatastoreConfig, StoragePolicyConfig};
use crate::supervisor::testkit;
use crate::supervisor::testkit::changed;

const NS: &str = "team-a";

/// 3 hosts; ds-shared on all, ds-12 on esx-02 and esx-03 (HostId 1, 2).
fn operator() -> (VmOperator, TestCtx) {
    let mut config = testkit::config(&[NS]);
    let ds = |name: &str, hosts: &[u32]| DatastoreConfig {
        name: name.into(),
        capacity_bytes: 1 << 40,
        hosts: hosts.iter().map(|&h| HostId(h)).collect(),
    };
    config.datastores = vec![ds("ds-shared", &[0, 1, 2]), ds("ds-12", &[1, 2])];
    config.storage_policies = vec![StoragePolicyConfig {
        name: "shared".into(),
        datastores: vec![0],
    }];
    let addrs = testkit::addrs(3);
    let mut ctx = TestCtx::new(addrs[Part::VmOperator]);
    ctx.sender = addrs[Part::ApiServer];
    let mut op = VmOperator::new(&config, addrs);
    for o in [
        class("best-small", Resources::ZERO),
        class("guaranteed-small", small()),
        class("guaranteed-large", large()),
        object(
            "",
            "wcp-storage",
            Body::StorageClass(StorageClass {
                storage_policy: "shared".into(),
            }),
        ),
    ] {
        op.handle(changed(o, false), &mut ctx);
    }
    assert!(ctx.take_sent().is_empty());
    (op, ctx)
}

fn small() -> Resources {
    Resources::cores(2, 4)
}

fn large() -> Resources {
    Resources::cores(8, 64)
}

fn object(ns: &str, name: &str, body: Body) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: ns.into(),
            ..Meta::default()
        },
        body,
    }
}

fn class(name: &str, requests: Resources) -> Object {
    let hardware = if requests.is_zero() {
        small()
    } else {
        requests
    };
    object(
        "",
        name,
        Body::VirtualMachineClass(VirtualMachineClass { hardware, requests }),
    )
}

fn claim(name: &str, datastore: &str) -> Object {
    object(
        NS,
        name,
        Body::PersistentVolumeClaim(PersistentVolumeClaim {
            storage_class: "wcp-storage".into(),
            bytes: 10 * GIB,
            datastore: Some(datastore.into()),
        }),
    )
}

fn vm(name: &str, class: &str, power: PowerState, volumes: &[&str]) -> Object {
    object(
        NS,
        name,
        Body::VirtualMachine(VirtualMachine {
            class_name: class.into(),
            image_name: "ubuntu".into(),
            storage_class: "wcp-storage".into(),
            power_state: power,
            volumes: volumes.iter().map(|v| v.to_string()).collect(),
            phase: VmPhase::Creating,
            actual_power: PowerState::PoweredOff,
            host: None,
            ip: Some("10.244.0.2".into()),
            reason: None,
        }),
    )
}

fn id(n: u64) -> VmId {
    workload_id(IdRange::Vms, n)
}

fn key(name: &str) -> ObjectKey {
    ObjectKey::new(Kind::VirtualMachine, NS, name)
}

/// Delivers a placement answer (from placement).
fn from_placement(op: &mut VmOperator, ctx: &mut TestCtx, event: Event) {
    let was = ctx.sender;
    ctx.sender = ActorId(0);
    op.handle(event, ctx);
    ctx.sender = was;
}

/// What was sent, as (to, delay, message) with supervisor messages unboxed.
#[derive(Debug, PartialEq)]
enum Out {
    Place(VmId, Resources, Vec<HostId>),
    Delete(VmId),
    Status(String, VmPhase, PowerState, Option<String>, Option<String>),
    Retry(SimDuration),
}

fn outs(ctx: &mut TestCtx) -> Vec<Out> {
    ctx.take_sent()
        .into_iter()
        .map(|(to, delay, e)| match e {
            Event::VmDeleteRequested { vm } => {
                assert_eq!(to, ActorId(0));
                Out::Delete(vm)
            }
            Event::Supervisor(m) => match *m {
                SupMsg::Place { vm, size, rule } => {
                    assert_eq!(to, ActorId(0));
                    assert!(rule.restart && rule.anti_affinity_group.is_none());
                    Out::Place(vm, size, rule.only)
                }
                SupMsg::System {
                    op:
                        SystemOp::VmStatus {
                            vm,
                            phase,
                            power,
                            host,
                            reason,
                        },
                    ..
                } => Out::Status(vm.name, phase, power, host, reason),
                SupMsg::VmOperatorTimer(_) => {
                    assert_eq!(to, ctx.me);
                    Out::Retry(delay)
                }
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// The store's echo of the operator's last status write for `name`.
fn echo(op: &mut VmOperator, ctx: &mut TestCtx, mut object: Object) {
    let sent = ctx.take_sent();
    let mut last = None;
    for (_, _, e) in &sent {
        if let Event::Supervisor(m) = e
            && let SupMsg::System {
                id,
                op: SystemOp::VmStatus { vm, .. },
            } = &**m
            && vm.name == object.meta.name
        {
            last = Some((*id, (**m).clone()));
        }
    }
    ctx.sent = sent;
    let Some((
        id,
        SupMsg::System {
            op:
                SystemOp::VmStatus {
                    phase,
                    power,
                    host,
                    reason,
                    ..
                },
            ..
        },
    )) = last
    else {
        panic!("no status write to echo");
    };
    if let Body::VirtualMachine(v) = &mut object.body {
        v.phase = phase;
        v.actual_power = power;
        v.host = host;
        v.reason = reason;
    }
    let reply = SupMsg::Reply { id, result: Ok(1) };
    op.handle(reply.event(), ctx);
    op.handle(changed(object, false), ctx);
}

#[test]
fn a_powered_on_vm_is_placed_at_its_class_reservation_and_reports_its_host() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("web", "guaranteed-small", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(0), small(), vec![])]);
    let placed = SupMsg::Placed {
        vm: id(0),
        host: HostId(1),
    };
    from_placement(&mut op, &mut ctx, placed.event());
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Status(
            "web".into(),
            VmPhase::Created,
            PowerState::PoweredOn,
            Some("esx-02".into()),
            None
        )]
    );
    assert_eq!(op.workload_of(&key("web")), Some(id(0)));
    assert_eq!(op.owner_of(id(0)), Some(&key("web")));
}

#[test]
fn a_best_effort_class_reserves_nothing() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(vm("be", "best-small", PowerState::PoweredOn, &[]), false),
        &mut ctx,
    );
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Place(id(0), Resources::ZERO, vec![])]
    );
}

#[test]
fn a_vm_created_powered_off_is_not_placed() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("cold", "guaranteed-small", PowerState::PoweredOff, &[]),
            false,
        ),
        &mut ctx,
    );
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Status(
            "cold".into(),
            VmPhase::Created,
            PowerState::PoweredOff,
            None,
            None
        )]
    );
}

#[test]
fn a_volume_restricts_the_vm_to_hosts_that_see_its_datastore() {
    let (mut op, mut ctx) = operator();
    op.handle(changed(claim("data", "ds-12"), false), &mut ctx);
    op.handle(
        changed(
            vm("db", "guaranteed-small", PowerState::PoweredOn, &["data"]),
            false,
        ),
        &mut ctx,
    );
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Place(id(0), small(), vec![HostId(1), HostId(2)])]
    );
}

#[test]
fn an_unbound_claim_waits_and_the_binding_places_the_vm() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("db", "guaranteed-small", PowerState::PoweredOn, &["data"]),
            false,
        ),
        &mut ctx,
    );
    let reason = "persistentvolumeclaim data is not bound to a datastore";
    assert_eq!(
        outs(&mut ctx),
        vec![
            Out::Retry(BACKOFF_BASE),
            Out::Status(
                "db".into(),
                VmPhase::Unplaceable,
                PowerState::PoweredOff,
                None,
                Some(reason.into())
            )
        ]
    );
    op.handle(changed(claim("data", "ds-12"), false), &mut ctx);
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Place(id(0), small(), vec![HostId(1), HostId(2)])]
    );
}

#[test]
fn a_failed_placement_is_unplaceable_and_retried_with_doubling_backoff_under_fresh_ids() {
    let (mut op, mut ctx) = operator();
    let web = vm("web", "guaranteed-large", PowerState::PoweredOn, &[]);
    op.handle(changed(web.clone(), false), &mut ctx);
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(0), large(), vec![])]);
    let failed = |n| SupMsg::PlaceFailed {
        vm: id(n),
        reason: "no host has room for 8 cpu, 64Gi".into(),
    };
    from_placement(&mut op, &mut ctx, failed(0).event());
    let out = outs(&mut ctx);
    assert_eq!(out[0], Out::Retry(SimDuration(10_000_000_000)));
    assert!(matches!(
        &out[1],
        Out::Status(_, VmPhase::Unplaceable, PowerState::PoweredOff, None, Some(r))
            if r == "no host has room for 8 cpu, 64Gi"
    ));
    // The spec is echoed back unchanged: no new attempt before the timer.
    op.handle(changed(web.clone(), false), &mut ctx);
    assert!(ctx.take_sent().is_empty());
    // The timer fires: a new life, a new id.
    op.handle(
        SupMsg::VmOperatorTimer(crate::api::msg::VmOperatorTimer::Retry { id: 0 }).event(),
        &mut ctx,
    );
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(1), large(), vec![])]);
    from_placement(&mut op, &mut ctx, failed(1).event());
    assert_eq!(outs(&mut ctx)[0], Out::Retry(SimDuration(20_000_000_000)));
    // An answer about an old life is ignored.
    from_placement(&mut op, &mut ctx, failed(0).event());
    let late = SupMsg::Placed {
        vm: id(0),
        host: HostId(0),
    };
    from_placement(&mut op, &mut ctx, late.event());
    assert!(ctx.take_sent().is_empty());
    // A superseded timer does nothing.
    op.handle(
        SupMsg::VmOperatorTimer(crate::api::msg::VmOperatorTimer::Retry { id: 0 }).event(),
        &mut ctx,
    );
    assert!(ctx.take_sent().is_empty());
    assert_eq!(op.view(&key("web")).unwrap().failures, 2);
}

#[test]
fn backoff_doubles_from_10s_and_stops_at_5_minutes() {
    let secs: Vec<u64> = (1..=8).map(|f| backoff(f).0 / 1_000_000_000).collect();
    assert_eq!(secs, vec![10, 20, 40, 80, 160, 300, 300, 300]);
    assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
}

#[test]
fn power_off_frees_the_host_and_power_on_places_a_new_life() {
    let (mut op, mut ctx) = operator();
    let on = vm("web", "guaranteed-small", PowerState::PoweredOn, &[]);
    op.handle(changed(on.clone(), false), &mut ctx);
    let placed = SupMsg::Placed {
        vm: id(0),
        host: HostId(2),
    };
    from_placement(&mut op, &mut ctx, placed.event());
    echo(&mut op, &mut ctx, on.clone());
    ctx.take_sent();

    let off = vm("web", "guaranteed-small", PowerState::PoweredOff, &[]);
    op.handle(changed(off, false), &mut ctx);
    assert_eq!(
        outs(&mut ctx),
        vec![
            Out::Delete(id(0)),
            Out::Status(
                "web".into(),
                VmPhase::Created,
                PowerState::PoweredOff,
                None,
                None
            )
        ]
    );
    assert_eq!(op.view(&key("web")).unwrap().life, Life::Idle);

    op.handle(changed(on, false), &mut ctx);
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(1), small(), vec![])]);
}

#[test]
fn suspended_releases_the_host_and_says_suspended() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("web", "guaranteed-small", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    ctx.take_sent();
    op.handle(
        changed(
            vm("web", "guaranteed-small", PowerState::Suspended, &[]),
            false,
        ),
        &mut ctx,
    );
    // Still placing: the delete follows the Place to placement in order.
    assert_eq!(
        outs(&mut ctx),
        vec![
            Out::Delete(id(0)),
            Out::Status(
                "web".into(),
                VmPhase::Created,
                PowerState::Suspended,
                None,
                None
            )
        ]
    );
    // Placement's answer to the abandoned life is ignored.
    let placed = SupMsg::Placed {
        vm: id(0),
        host: HostId(0),
    };
    from_placement(&mut op, &mut ctx, placed.event());
    assert!(ctx.take_sent().is_empty());
}

#[test]
fn deleting_a_vm_frees_its_host_and_waiting_vms_retry_at_once() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("a", "guaranteed-large", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    op.handle(
        changed(
            vm("b", "guaranteed-large", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    from_placement(
        &mut op,
        &mut ctx,
        SupMsg::Placed {
            vm: id(0),
            host: HostId(0),
        }
        .event(),
    );
    from_placement(
        &mut op,
        &mut ctx,
        SupMsg::PlaceFailed {
            vm: id(1),
            reason: "full".into(),
        }
        .event(),
    );
    ctx.take_sent();
    op.handle(
        changed(
            vm("a", "guaranteed-large", PowerState::PoweredOn, &[]),
            true,
        ),
        &mut ctx,
    );
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Delete(id(0)), Out::Place(id(2), large(), vec![])]
    );
    assert_eq!(op.view(&key("a")), None);
    assert!(!op.view(&key("b")).unwrap().waiting_for_retry);
}

#[test]
fn a_class_change_of_a_running_vm_resizes_it() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("web", "guaranteed-small", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    from_placement(
        &mut op,
        &mut ctx,
        SupMsg::Placed {
            vm: id(0),
            host: HostId(0),
        }
        .event(),
    );
    ctx.take_sent();
    op.handle(
        changed(
            vm("web", "guaranteed-large", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    let out = outs(&mut ctx);
    assert_eq!(
        out[..2],
        [Out::Delete(id(0)), Out::Place(id(1), large(), vec![])]
    );
    // Until placement answers, status still says it runs where it ran.
    assert_eq!(out.len(), 2, "{out:?}");
    // A class whose reservation changes resizes its VMs the same way.
    from_placement(
        &mut op,
        &mut ctx,
        SupMsg::Placed {
            vm: id(1),
            host: HostId(1),
        }
        .event(),
    );
    ctx.take_sent();
    let bigger = Resources::cores(16, 64);
    op.handle(changed(class("guaranteed-large", bigger), false), &mut ctx);
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Delete(id(1)), Out::Place(id(2), bigger, vec![])]
    );
}

#[test]
fn a_displaced_vm_shows_no_host_until_ha_restarts_it_and_a_lost_one_fails() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("web", "guaranteed-small", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    let placed = |h| {
        SupMsg::Placed {
            vm: id(0),
            host: HostId(h),
        }
        .event()
    };
    from_placement(&mut op, &mut ctx, placed(0));
    ctx.take_sent();
    from_placement(&mut op, &mut ctx, SupMsg::Displaced { vm: id(0) }.event());
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Status(
            "web".into(),
            VmPhase::Created,
            PowerState::PoweredOff,
            None,
            Some("host esx-01 failed; waiting for vSphere HA to restart the VM".into())
        )]
    );
    // HA restarts it elsewhere, same id.
    from_placement(&mut op, &mut ctx, placed(2));
    assert!(matches!(
        &outs(&mut ctx)[..],
        [Out::Status(_, VmPhase::Created, PowerState::PoweredOn, Some(h), None)] if h == "esx-03"
    ));
    // Another failure, and this time HA finds no room.
    from_placement(&mut op, &mut ctx, SupMsg::Displaced { vm: id(0) }.event());
    from_placement(&mut op, &mut ctx, Event::VmLost { vm: id(0) });
    let out = outs(&mut ctx);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[1], Out::Retry(BACKOFF_BASE));
    assert_eq!(
        out[2],
        Out::Status(
            "web".into(),
            VmPhase::Failed,
            PowerState::PoweredOff,
            None,
            Some(LOST.into())
        )
    );
    // Its retry fails too: still Failed, with the latest reason appended.
    op.handle(
        SupMsg::VmOperatorTimer(crate::api::msg::VmOperatorTimer::Retry { id: 0 }).event(),
        &mut ctx,
    );
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(1), small(), vec![])]);
    let failed = SupMsg::PlaceFailed {
        vm: id(1),
        reason: "full".into(),
    };
    from_placement(&mut op, &mut ctx, failed.event());
    assert!(matches!(
        &outs(&mut ctx)[..],
        [Out::Retry(_), Out::Status(_, VmPhase::Failed, _, None, Some(r))]
            if r.ends_with("; last retry: full")
    ));
}

#[test]
fn a_failed_status_write_is_redone_when_the_store_shows_the_stale_status() {
    let (mut op, mut ctx) = operator();
    let on = vm("web", "guaranteed-small", PowerState::PoweredOn, &[]);
    op.handle(changed(on.clone(), false), &mut ctx);
    from_placement(
        &mut op,
        &mut ctx,
        SupMsg::Placed {
            vm: id(0),
            host: HostId(0),
        }
        .event(),
    );
    ctx.take_sent();
    // The write fails (control plane below quorum).
    let reply = SupMsg::Reply {
        id: 0,
        result: Err(ApiError::Unavailable("down".into())),
    };
    op.handle(reply.event(), &mut ctx);
    assert!(ctx.take_sent().is_empty());
    // The relist shows the old status: written again.
    op.handle(changed(on, false), &mut ctx);
    assert!(matches!(
        &outs(&mut ctx)[..],
        [Out::Status(
            _,
            VmPhase::Created,
            PowerState::PoweredOn,
            Some(_),
            None
        )]
    ));
}

#[test]
fn a_missing_class_is_unplaceable_until_the_class_appears() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(vm("x", "custom", PowerState::PoweredOn, &[]), false),
        &mut ctx,
    );
    assert!(matches!(
        &outs(&mut ctx)[..],
        [Out::Retry(_), Out::Status(_, VmPhase::Unplaceable, _, None, Some(r))]
            if r == "virtualmachineclass custom not found"
    ));
    op.handle(changed(class("custom", small()), false), &mut ctx);
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(0), small(), vec![])]);
}

#[test]
fn conditions_follow_phase_power_and_host() {
    let Body::VirtualMachine(mut v) = vm("x", "c", PowerState::PoweredOn, &[]).body else {
        unreachable!()
    };
    v.phase = VmPhase::Unplaceable;
    v.reason = Some("full".into());
    let c = v.conditions();
    assert_eq!(
        c.iter().map(|c| c.status).collect::<Vec<_>>(),
        [false, false, false]
    );
    assert_eq!(c[0].reason.as_deref(), Some("full"));
    v.phase = VmPhase::Created;
    v.actual_power = PowerState::PoweredOn;
    v.host = Some("esx-01".into());
    v.reason = None;
    assert!(
        v.conditions()
            .iter()
            .all(|c| c.status && c.reason.is_none())
    );
}

#[test]
fn the_api_server_tells_the_operator_about_every_kind_it_needs() {
    let addrs = testkit::addrs(1);
    for kind in WATCHED {
        assert!(
            addrs.watchers(kind).contains(&addrs[Part::VmOperator]),
            "{kind:?}"
        );
    }
}

#[test]
fn a_failed_datastore_fails_the_vms_that_need_it_until_its_repair() {
    let (mut op, mut ctx) = operator();
    op.handle(changed(claim("data", "ds-12"), false), &mut ctx);
    op.handle(
        changed(
            vm("db", "guaranteed-small", PowerState::PoweredOn, &["data"]),
            false,
        ),
        &mut ctx,
    );
    op.handle(
        changed(
            vm("web", "guaranteed-small", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    for n in 0..2 {
        let placed = SupMsg::Placed {
            vm: id(n),
            host: HostId(1),
        };
        from_placement(&mut op, &mut ctx, placed.event());
    }
    ctx.take_sent();
    let storage = ActorId(108);
    ctx.sender = storage;
    let fail = SupMsg::DatastoreFailed {
        datastore: "ds-12".into(),
    };
    op.handle(fail.event(), &mut ctx);
    let why = "datastore ds-12 of claim data failed";
    // db goes (web's storage class is on ds-shared: it stays).
    assert_eq!(
        outs(&mut ctx),
        vec![
            Out::Delete(id(0)),
            Out::Retry(BACKOFF_BASE),
            Out::Status(
                "db".into(),
                VmPhase::Failed,
                PowerState::PoweredOff,
                None,
                Some(why.into())
            )
        ]
    );
    // A retry while it is still down changes nothing visible.
    op.handle(
        SupMsg::VmOperatorTimer(crate::api::msg::VmOperatorTimer::Retry { id: 0 }).event(),
        &mut ctx,
    );
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Retry(SimDuration(20_000_000_000))]
    );
    let repair = SupMsg::DatastoreRepaired {
        datastore: "ds-12".into(),
    };
    op.handle(repair.event(), &mut ctx);
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Place(id(2), small(), vec![HostId(1), HostId(2)])]
    );
}

#[test]
fn a_restart_retries_waiting_vms_and_replaces_lives_whose_answer_may_be_lost() {
    let (mut op, mut ctx) = operator();
    op.handle(
        changed(
            vm("a", "guaranteed-small", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    op.handle(
        changed(
            vm("b", "guaranteed-large", PowerState::PoweredOn, &[]),
            false,
        ),
        &mut ctx,
    );
    let failed = SupMsg::PlaceFailed {
        vm: id(1),
        reason: "full".into(),
    };
    from_placement(&mut op, &mut ctx, failed.event());
    ctx.take_sent();
    // Crashed meanwhile: a's Placed and b's timer were lost. The restart
    // replaces a's life; the start that follows the relist retries b.
    op.handle(SupMsg::Restart.event(), &mut ctx);
    assert_eq!(
        outs(&mut ctx),
        vec![Out::Delete(id(0)), Out::Place(id(2), small(), vec![])]
    );
    op.handle(Event::Start, &mut ctx);
    assert_eq!(outs(&mut ctx), vec![Out::Place(id(3), large(), vec![])]);
    // The old life's answer arrives late: ignored.
    let late = SupMsg::Placed {
        vm: id(0),
        host: HostId(0),
    };
    from_placement(&mut op, &mut ctx, late.event());
    assert!(ctx.take_sent().is_empty());
}
