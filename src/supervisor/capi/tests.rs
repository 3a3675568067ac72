//! The controller alone: what it asks of the API server for a new TKC,
//! and that the API server tells it about every kind it needs.

use super::*;
use crate::actor::testing::TestCtx;
use crate::api::addrs::Part;
use crate::api::msg::ApiError;
use crate::api::objects::{ClusterPhase, Meta, NodePool, TanzuKubernetesCluster};
use crate::supervisor::testkit;
use crate::supervisor::vm_operator::backoff;

#[test]
fn the_api_server_tells_capi_about_every_kind_it_needs() {
    let addrs = testkit::addrs(1);
    for kind in WATCHED {
        assert!(
            addrs.watchers(kind).contains(&addrs[Part::Capi]),
            "{kind:?}"
        );
    }
}

fn tkc(cp: u32, workers: u32) -> Object {
    let pool = |name: &str, replicas| NodePool {
        name: name.into(),
        replicas,
        vm_class: "small".into(),
        storage_class: "shared".into(),
        autoscale: None,
    };
    Object {
        meta: Meta {
            name: "tkc-a".into(),
            namespace: "ns".into(),
            ..Meta::default()
        },
        body: Body::TanzuKubernetesCluster(TanzuKubernetesCluster {
            version: "v1".into(),
            control_plane: pool("control-plane", cp),
            node_pools: vec![pool("workers", workers)],
            phase: ClusterPhase::Creating,
            endpoint: None,
            nodes_ready: 0,
        }),
    }
}

/// The System ops sent to the API server, in order.
fn ops(ctx: &mut TestCtx, api: ActorId) -> Vec<SystemOp> {
    ctx.take_sent()
        .into_iter()
        .filter(|(to, ..)| *to == api)
        .filter_map(|(_, _, e)| match e {
            Event::Supervisor(m) => match *m {
                SupMsg::System { op, .. } => Some(op),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn a_new_tkc_asks_for_its_endpoint_and_one_vm_per_machine_then_writes_creating() {
    let config = testkit::config(&["ns"]);
    let addrs = testkit::addrs(1);
    let mut capi = Capi::new(&config, addrs.clone());
    let mut ctx = TestCtx::new(addrs[Part::Capi]);
    let changed = SupMsg::Changed {
        rv: 1,
        object: tkc(1, 2).into(),
        deleted: false,
    };
    capi.handle(changed.event(), &mut ctx);
    let ops = ops(&mut ctx, addrs[Part::ApiServer]);
    let created: Vec<String> = ops
        .iter()
        .filter_map(|op| match op {
            SystemOp::Create(o) => Some(o.key().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        created,
        [
            "Service/ns/tkc-a-control-plane-service",
            "VirtualMachine/ns/tkc-a-control-plane-0",
            "VirtualMachine/ns/tkc-a-workers-0",
            "VirtualMachine/ns/tkc-a-workers-1",
        ]
    );
    assert!(matches!(
        ops.last(),
        Some(SystemOp::TkcStatus {
            phase: ClusterPhase::Creating,
            nodes_ready: 0,
            ..
        })
    ));
    let c = capi.cluster(&tkc(1, 2).key()).unwrap();
    assert_eq!(c.machines.len(), 3);
    // The same event again (a relist) changes nothing.
    let again = SupMsg::Changed {
        rv: 1,
        object: tkc(1, 2).into(),
        deleted: false,
    };
    capi.handle(again.event(), &mut ctx);
    assert!(self::ops(&mut ctx, addrs[Part::ApiServer]).is_empty());
}

/// A refused VM delete (the API server unavailable) is asked again after
/// a backoff. Before, the machine stayed Deleting with its VM for good
/// unless the VM happened to change (a fuzz seed of `guest-clusters.yaml`
/// found one, with the API server crashed while a machine was deleted).
#[test]
fn a_refused_vm_delete_is_sent_again_after_a_backoff() {
    let config = testkit::config(&["ns"]);
    let addrs = testkit::addrs(1);
    let mut capi = Capi::new(&config, addrs.clone());
    let mut ctx = TestCtx::new(addrs[Part::Capi]);
    let changed = |rv, object: Object| SupMsg::Changed {
        rv,
        object: object.into(),
        deleted: false,
    };
    capi.handle(changed(1, tkc(1, 1)).event(), &mut ctx);
    ctx.take_sent();
    let mut deleting = tkc(1, 1);
    if let Body::TanzuKubernetesCluster(t) = &mut deleting.body {
        t.phase = ClusterPhase::Deleting;
    }
    capi.handle(changed(2, deleting).event(), &mut ctx);
    let worker = ObjectKey::new(Kind::VirtualMachine, "ns", "tkc-a-workers-0");
    let deletes = |ctx: &mut TestCtx| -> Vec<(CallId, SimDuration)> {
        ctx.take_sent()
            .into_iter()
            .filter_map(|(_, delay, e)| match e {
                Event::Supervisor(m) => match *m {
                    SupMsg::System {
                        id,
                        op: SystemOp::Delete(k),
                    } if k == worker => Some((id, delay)),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    };
    let [(id, _)] = deletes(&mut ctx)[..] else {
        panic!("one delete of the worker's VM");
    };
    let refused = SupMsg::Reply {
        id,
        result: Err(ApiError::Unavailable("down".into())),
    };
    capi.handle(refused.event(), &mut ctx);
    let retry: Vec<(SimDuration, SupMsg)> = ctx
        .take_sent()
        .into_iter()
        .filter_map(|(to, delay, e)| match e {
            Event::Supervisor(m) if to == addrs[Part::Capi] => Some((delay, *m)),
            _ => None,
        })
        .collect();
    let [(delay, ref timer)] = retry[..] else {
        panic!("one retry timer: {retry:?}");
    };
    assert_eq!(delay, backoff(1));
    capi.handle(timer.clone().event(), &mut ctx);
    assert_eq!(deletes(&mut ctx).len(), 1, "the delete is sent again");
}
