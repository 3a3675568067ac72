//! The Authentication Proxy: vCenter SSO identities become Kubernetes users,
//! and every call is checked against the caller's role in the object's
//! namespace before it reaches the API server. A denial goes back to the
//! caller as an `ApiDenied` record: the log is the audit trail.

use crate::actor::{Actor, Context, Note};
use crate::api::Verb;
use crate::api::msg::{CallId, SupMsg};
use crate::api::notes::{CallExample, SupNote};
use crate::api::objects::{Object, ObjectKey};
use crate::event::Event;
use crate::model::{ActorId, SimDuration};
use crate::scenario::{ADMIN_USER, NamespaceConfig, Role, Subject, SupervisorConfig};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct AuthProxy {
    api_server: ActorId,
    /// Where calls on guest clusters go (Cluster API knows their actors).
    capi: ActorId,
    /// User name -> groups.
    users: BTreeMap<String, Vec<String>>,
    namespaces: BTreeMap<String, Vec<(Subject, Role)>>,
}

impl AuthProxy {
    pub fn new(config: &SupervisorConfig, api_server: ActorId, capi: ActorId) -> Self {
        AuthProxy {
            api_server,
            capi,
            users: config
                .users
                .iter()
                .map(|u| (u.name.clone(), u.groups.clone()))
                .collect(),
            namespaces: config
                .namespaces
                .iter()
                .map(|n: &NamespaceConfig| (n.name.clone(), n.permissions.clone()))
                .collect(),
        }
    }

    /// The caller's role in `namespace`: the highest of the bindings that
    /// name the user or one of its groups.
    pub fn role(&self, user: &str, namespace: &str) -> Option<Role> {
        let groups = self.users.get(user)?;
        self.namespaces
            .get(namespace)?
            .iter()
            .filter(|(subject, _)| match subject {
                Subject::User(u) => u == user,
                Subject::Group(g) => groups.contains(g),
            })
            .map(|(_, role)| *role)
            .max()
    }

    pub fn authorize(
        &self,
        user: &str,
        verb: &Verb,
        cluster_scoped: bool,
        namespace: &str,
    ) -> Result<(), String> {
        if cluster_scoped && user != ADMIN_USER && self.users.contains_key(user) {
            return match verb {
                Verb::Get => Ok(()),
                _ => Err(format!(
                    "user {user} may not {} cluster-scoped objects: only the vSphere administrator may",
                    verb.name()
                )),
            };
        }
        self.role_check(user, verb, namespace, |role, needed| match role {
            // A list or watch across every namespace (`kubectl -A`).
            None if namespace.is_empty() => format!(
                "across all namespaces only the vSphere administrator may {}; user {user} may in the namespaces where it has a role: name one (kubectl -n NAMESPACE)",
                verb.name()
            ),
            None => format!("user {user} has no role in namespace {namespace}"),
            Some(role) => format!(
                "user {user} has role {} in namespace {namespace}; {} needs {}",
                role.name(),
                verb.name(),
                needed.name()
            ),
        })
    }

    /// A call on the guest cluster of `tkc`, as vSphere with Tanzu grants
    /// it: `edit` on the TKC's namespace is cluster-admin in the guest,
    /// `view` is read-only there.
    pub fn authorize_guest(&self, user: &str, verb: &Verb, tkc: &ObjectKey) -> Result<(), String> {
        let (namespace, cluster) = (&tkc.namespace, &tkc.name);
        self.role_check(user, verb, namespace, |role, _| match role {
            None => format!(
                "user {user} has no role in namespace {namespace}, so none in its guest cluster {cluster}"
            ),
            Some(role) => format!(
                "user {user} has role {} in namespace {namespace}, which is read-only in guest cluster {cluster}; {} needs edit",
                role.name(),
                verb.name()
            ),
        })
    }

    /// The administrator may; an unknown user may not; anyone else needs
    /// `view` in `namespace` to read and `edit` to write. `why` words a
    /// refusal from the role the user has there (if any) and the one
    /// needed.
    fn role_check(
        &self,
        user: &str,
        verb: &Verb,
        namespace: &str,
        why: impl FnOnce(Option<Role>, Role) -> String,
    ) -> Result<(), String> {
        if user == ADMIN_USER {
            return Ok(());
        }
        if !self.users.contains_key(user) {
            return Err(format!("unknown user {user}"));
        }
        let needed = match verb {
            Verb::Get => Role::View,
            Verb::Create | Verb::Update | Verb::Delete => Role::Edit,
        };
        match self.role(user, namespace) {
            Some(role) if role >= needed => Ok(()),
            role => Err(why(role, needed)),
        }
    }

    /// Denies a call: a note for the summary, `Denied` to the caller (the
    /// record is the audit).
    fn deny<C: Context>(&self, denied: Denial, ctx: &mut C) {
        let Denial {
            id,
            user,
            verb,
            object,
            reason,
        } = denied;
        ctx.note(Note::Sup(SupNote::CallDenied {
            example: Box::new(CallExample {
                object: Some(object.key()),
                message: reason.clone(),
            }),
        }));
        let msg = SupMsg::Denied {
            id,
            user,
            verb,
            resource: object.kind().resource().to_string(),
            namespace: object.meta.namespace,
            reason,
        };
        ctx.send(ctx.sender(), SimDuration::ZERO, msg.event());
    }
}

/// A call the proxy refuses, and why.
struct Denial {
    id: CallId,
    user: String,
    verb: Verb,
    object: Object,
    reason: String,
}

/// A call the proxy decides on: on the Supervisor's API, or on a guest
/// cluster's.
enum Incoming {
    Api {
        id: CallId,
        user: String,
        verb: Verb,
        object: Object,
    },
    Guest {
        id: CallId,
        user: String,
        tkc: ObjectKey,
        verb: Verb,
        object: Object,
    },
}

impl Incoming {
    /// The message that carries it on, allowed, for `caller`.
    fn authorized(self, caller: ActorId) -> SupMsg {
        match self {
            Incoming::Api {
                id,
                user,
                verb,
                object,
            } => SupMsg::Authorized {
                id,
                caller,
                user,
                verb,
                object,
            },
            Incoming::Guest {
                id,
                tkc,
                verb,
                object,
                ..
            } => SupMsg::GuestAuthorized {
                id,
                caller,
                tkc,
                verb,
                object,
            },
        }
    }

    fn denied(self, reason: String) -> Denial {
        let (Incoming::Api {
            id,
            user,
            verb,
            object,
        }
        | Incoming::Guest {
            id,
            user,
            verb,
            object,
            ..
        }) = self;
        Denial {
            id,
            user,
            verb,
            object,
            reason,
        }
    }
}

impl Actor for AuthProxy {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let Event::Supervisor(msg) = event else {
            return;
        };
        let (call, verdict, to) = match *msg {
            SupMsg::Call {
                id,
                user,
                verb,
                object,
            } => {
                let scoped = object.kind().cluster_scoped();
                let verdict = self.authorize(&user, &verb, scoped, &object.meta.namespace);
                let call = Incoming::Api {
                    id,
                    user,
                    verb,
                    object,
                };
                (call, verdict, self.api_server)
            }
            SupMsg::GuestRequest {
                id,
                user,
                tkc,
                verb,
                object,
            } => {
                let verdict = self.authorize_guest(&user, &verb, &tkc);
                let call = Incoming::Guest {
                    id,
                    user,
                    tkc,
                    verb,
                    object,
                };
                // Cluster API knows the guest clusters' actors.
                (call, verdict, self.capi)
            }
            other => {
                ctx.note(Note::Unexpected {
                    actor: "auth-proxy",
                    kind: other.kind(),
                });
                return;
            }
        };
        match verdict {
            Ok(()) => {
                let msg = call.authorized(ctx.sender());
                ctx.send(to, SimDuration::ZERO, msg.event());
            }
            Err(reason) => self.deny(call.denied(reason), ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::api::objects::{Body, Meta, NamespaceObj, Object};
    use crate::supervisor::api_server::tests::config;

    fn object(namespace: &str) -> Object {
        Object {
            meta: Meta {
                name: "x".into(),
                namespace: namespace.into(),
                ..Meta::default()
            },
            body: Body::Namespace(NamespaceObj {}),
        }
    }

    fn outcome(proxy: &mut AuthProxy, user: &str, verb: Verb, namespace: &str) -> SupMsg {
        let mut ctx = TestCtx::new(ActorId(11));
        ctx.sender = ActorId(19);
        let mut o = object(namespace);
        // A namespaced kind (the body only decides the scope).
        o.body = Body::Service(crate::api::objects::Service {
            load_balancer: false,
            selector: Default::default(),
            vip: None,
        });
        let msg = SupMsg::Call {
            id: 3,
            user: user.into(),
            verb,
            object: o,
        };
        proxy.handle(msg.event(), &mut ctx);
        let (to, _, e) = ctx.take_sent().pop().expect("one message");
        let Event::Supervisor(m) = e else { panic!() };
        assert_eq!(
            to,
            if matches!(*m, SupMsg::Denied { .. }) {
                ActorId(19)
            } else {
                ActorId(10)
            }
        );
        *m
    }

    #[test]
    fn calls_outside_the_users_namespaces_or_role_are_denied_with_the_reason() {
        let mut config = config();
        config.users.push(crate::scenario::UserConfig {
            name: "carol".into(),
            groups: vec!["auditors".into()],
        });
        config.namespaces[0]
            .permissions
            .push((Subject::Group("auditors".into()), Role::View));
        let mut proxy = AuthProxy::new(&config, ActorId(10), ActorId(12));
        assert!(matches!(
            outcome(&mut proxy, "alice", Verb::Create, "team-a"),
            SupMsg::Authorized { .. }
        ));
        let reason = |m: SupMsg| match m {
            SupMsg::Denied { reason, .. } => reason,
            other => panic!("not denied: {other:?}"),
        };
        assert_eq!(
            reason(outcome(&mut proxy, "carol", Verb::Create, "team-a")),
            "user carol has role view in namespace team-a; create needs edit"
        );
        assert!(matches!(
            outcome(&mut proxy, "carol", Verb::Get, "team-a"),
            SupMsg::Authorized { .. }
        ));
        assert_eq!(
            reason(outcome(&mut proxy, "alice", Verb::Create, "team-b")),
            "user alice has no role in namespace team-b"
        );
        assert_eq!(
            reason(outcome(&mut proxy, "alice", Verb::Get, "")),
            "across all namespaces only the vSphere administrator may get; user alice may in the namespaces where it has a role: name one (kubectl -n NAMESPACE)"
        );
        assert!(matches!(
            outcome(&mut proxy, ADMIN_USER, Verb::Delete, "team-b"),
            SupMsg::Authorized { .. }
        ));
    }
}
