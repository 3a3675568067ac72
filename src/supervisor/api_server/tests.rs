//! The API server alone, driven message by message with a test context.

use super::*;
use crate::actor::testing::TestCtx;
use crate::api::objects::*;
use crate::model::{HostId, Resources};
use crate::scenario::*;
use crate::supervisor::testkit::sup_sent;

pub(crate) fn config() -> SupervisorConfig {
    let mut c = crate::supervisor::testkit::config(&["team-a"]);
    c.control_plane.vms = 3;
    c.control_plane.boot = crate::model::Dist::Fixed(120_000_000_000);
    c.users = vec![UserConfig {
        name: "alice".into(),
        groups: vec!["devs".into()],
    }];
    let ns = &mut c.namespaces[0];
    ns.cpu_limit_millis = Some(4000);
    ns.permissions = vec![(Subject::User("alice".into()), Role::Edit)];
    c
}

pub(crate) fn addrs() -> Addrs {
    let hosts = vec!["esx-01".into(), "esx-02".into(), "esx-03".into()];
    Addrs::laid_out(ActorId(0), ActorId(10), hosts, [])
}

fn pod(name: &str, cpu_millis: u64) -> Object {
    Object {
        meta: Meta {
            name: name.into(),
            namespace: "team-a".into(),
            ..Meta::default()
        },
        body: Body::Pod(Pod {
            spec: PodSpec {
                requests: Resources::new(cpu_millis, 1 << 30, 0),
                ..PodSpec::default()
            },
            node: None,
            phase: PodPhase::Pending,
            reason: None,
            ip: None,
            started: None,
        }),
    }
}

fn call(api: &mut ApiServer, ctx: &mut TestCtx, id: CallId, object: Object) {
    ctx.sender = ActorId(11);
    let msg = SupMsg::Authorized {
        id,
        caller: addrs().clients,
        user: "alice".into(),
        verb: Verb::Create,
        object,
    };
    api.handle(msg.event(), ctx);
}

fn sent_msgs(ctx: &mut TestCtx) -> Vec<(ActorId, SupMsg)> {
    (sup_sent(ctx).into_iter())
        .map(|(to, _, m)| (to, m))
        .collect()
}

#[test]
fn a_create_past_the_namespace_cpu_limit_is_refused_with_the_quota_reason() {
    let mut api = ApiServer::new(&config(), addrs());
    let mut ctx = TestCtx::new(ActorId(10));
    api.handle(Event::Start, &mut ctx);
    ctx.take_sent();
    call(&mut api, &mut ctx, 1, pod("a", 3000));
    // Asks NSX for an address before acknowledging.
    let sent = sent_msgs(&mut ctx);
    assert!(matches!(
        sent[0],
        (
            ActorId(17),
            SupMsg::IpRequest {
                ticket: 0,
                vip: false,
                ..
            }
        )
    ));
    ctx.sender = ActorId(17);
    api.handle(
        SupMsg::IpGranted {
            ticket: 0,
            ip: "10.244.0.2".into(),
        }
        .event(),
        &mut ctx,
    );
    let sent = sent_msgs(&mut ctx);
    assert!(sent.iter().any(|(to, m)| *to == addrs().clients
        && matches!(
            m,
            SupMsg::Reply {
                id: 1,
                result: Ok(_)
            }
        )));
    call(&mut api, &mut ctx, 2, pod("b", 2000));
    let sent = sent_msgs(&mut ctx);
    assert_eq!(
        sent,
        vec![(
            addrs().clients,
            SupMsg::Reply {
                id: 2,
                result: Err(ApiError::QuotaExceeded(
                    "exceeded quota in namespace team-a: cpu requested 2, used 3, limited 4".into()
                ))
            }
        )]
    );
}

#[test]
fn below_quorum_every_call_fails_with_the_reason_and_comes_back_after_boot() {
    let mut api = ApiServer::new(&config(), addrs());
    let mut ctx = TestCtx::new(ActorId(10));
    api.handle(Event::Start, &mut ctx);
    ctx.sender = ActorId(0);
    for (i, host) in [0u32, 1, 2].into_iter().enumerate() {
        let vm = workload_id(IdRange::ControlPlane, i as u64);
        api.handle(
            SupMsg::Placed {
                vm,
                host: HostId(host),
            }
            .event(),
            &mut ctx,
        );
    }
    for i in 0..2 {
        let vm = workload_id(IdRange::ControlPlane, i);
        api.handle(SupMsg::Displaced { vm }.event(), &mut ctx);
    }
    assert!(!api.available());
    ctx.take_sent();
    call(&mut api, &mut ctx, 7, pod("a", 100));
    let sent = sent_msgs(&mut ctx);
    assert_eq!(
        sent,
        vec![(
            addrs().clients,
            SupMsg::Reply {
                id: 7,
                result: Err(ApiError::Unavailable(
                    "control plane unavailable: 1 of 3 control-plane VMs running, quorum is 2"
                        .into()
                ))
            }
        )]
    );
    // HA restarts one member elsewhere; it serves after its boot time.
    ctx.sender = ActorId(0);
    let vm = workload_id(IdRange::ControlPlane, 0);
    api.handle(
        SupMsg::Placed {
            vm,
            host: HostId(2),
        }
        .event(),
        &mut ctx,
    );
    let boot = ctx.take_sent();
    assert_eq!(boot.len(), 1);
    assert_eq!(boot[0].1, SimDuration(120_000_000_000));
    assert!(!api.available());
    ctx.sender = ActorId(10);
    api.handle(boot[0].2.clone(), &mut ctx);
    assert!(api.available());
}

#[test]
fn a_dry_run_decides_as_the_call_does_and_changes_nothing() {
    let mut api = ApiServer::new(&config(), addrs());
    let mut ctx = TestCtx::new(ActorId(10));
    api.handle(Event::Start, &mut ctx);
    ctx.take_sent();
    let now = crate::model::SimTime(5_000_000_000);
    let version = api.resource_version();
    // A create that fits: the object as it would be; nothing stored or sent.
    let would = api.dry_run(&Verb::Create, pod("a", 3000), now).unwrap();
    let would = would.expect("a create shows its object");
    assert_eq!((would.meta.creation, would.meta.resource_version), (now, 0));
    assert!(api.get(&would.key()).is_none());
    // Past the quota: the call's own refusal.
    assert!(matches!(
        api.dry_run(&Verb::Create, pod("b", 5000), now),
        Err(ApiError::QuotaExceeded(_))
    ));
    // Now really created (NSX grants the address).
    call(&mut api, &mut ctx, 1, pod("a", 3000));
    ctx.sender = ActorId(17);
    let granted = SupMsg::IpGranted {
        ticket: 0,
        ip: "10.244.0.2".into(),
    };
    api.handle(granted.event(), &mut ctx);
    ctx.take_sent();
    let stored = api.get(&would.key()).cloned().expect("created");
    let version = version.max(stored.meta.resource_version);
    assert!(matches!(
        api.dry_run(&Verb::Create, pod("a", 100), now),
        Err(ApiError::AlreadyExists(_))
    ));
    let mut stale = stored.clone();
    stale.meta.resource_version = stored.meta.resource_version + 7;
    assert!(matches!(
        api.dry_run(&Verb::Update, stale, now),
        Err(ApiError::Conflict(_))
    ));
    assert_eq!(api.dry_run(&Verb::Delete, stored.clone(), now), Ok(None));
    // Nothing of it happened.
    assert_eq!(api.get(&stored.key()), Some(&stored));
    assert_eq!(api.resource_version(), version);
    assert!(ctx.take_sent().is_empty());
}
