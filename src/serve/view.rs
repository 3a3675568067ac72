//! What a read sees between deliveries: the Supervisor's store, or a
//! guest cluster's objects, with the proxy that decides who may read.

use super::guest::GuestStore;
use super::rollout::{Rollouts, SetCounts};
use crate::actors::WorldActor;
use crate::api::objects::{Body, Object, ObjectKey};
use crate::check::Violation;
use crate::inputs::WorldSource;
use crate::model::{ActorId, SimTime};
use crate::sim::Kernel;
use crate::supervisor::actors::SupActor;
use crate::supervisor::api_server::ApiServer;
use crate::supervisor::auth_proxy::AuthProxy;
use crate::supervisor::guest::GuestCluster;

/// The state a read sees.
pub struct View<'a> {
    pub api: &'a ApiServer,
    pub rollouts: &'a Rollouts,
    pub proxy: &'a AuthProxy,
    pub now: SimTime,
    pub delivered: u64,
    pub violation: Option<&'a Violation>,
    pub(super) guests: Guests<'a>,
}

/// The objects one API serves: the Supervisor's store, or a guest
/// cluster's (see [`GuestStore`]).
pub enum Store<'a> {
    Supervisor {
        api: &'a ApiServer,
        rollouts: &'a Rollouts,
    },
    Guest(Box<GuestStore>),
}

impl Store<'_> {
    pub fn objects(&self) -> Box<dyn Iterator<Item = &Object> + '_> {
        match self {
            Store::Supervisor { api, .. } => Box::new(api.objects()),
            Store::Guest(g) => Box::new(g.objects()),
        }
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        match self {
            Store::Supervisor { api, .. } => api.get(key),
            Store::Guest(g) => g.get(key),
        }
    }

    pub fn resource_version(&self) -> u64 {
        match self {
            Store::Supervisor { api, .. } => api.resource_version(),
            Store::Guest(g) => g.resource_version(),
        }
    }

    /// A Deployment's pod counts (its status).
    pub fn counts(&self, o: &Object) -> Option<SetCounts> {
        match self {
            Store::Supervisor { rollouts, .. } => rollouts.counts(o),
            Store::Guest(g) => g.counts(o),
        }
    }

    /// Finishes an object's rendering (a guest node's kubelet).
    pub fn finish(&self, rendered: &mut serde_json::Value) {
        if let Store::Guest(g) = self {
            g.kubelet(rendered);
        }
    }

    /// The kubelet version nodes report, when a guest's.
    pub fn guest_version(&self) -> Option<&str> {
        match self {
            Store::Supervisor { .. } => None,
            Store::Guest(g) => Some(&g.version),
        }
    }
}

/// Why a guest cluster's API cannot answer.
pub enum NoGuest {
    /// No such TanzuKubernetesCluster.
    NotFound,
    /// Not (yet, or no longer) reachable: why.
    Unavailable(String),
}

/// Finds guest cluster actors through Cluster API, which knows them.
pub(super) struct Guests<'a> {
    pub(super) kernel: &'a Kernel<WorldActor, WorldSource>,
    pub(super) capi: ActorId,
}

impl<'a> Guests<'a> {
    fn get(&self, tkc: &ObjectKey) -> Option<&'a GuestCluster> {
        let Some(SupActor::Capi(capi)) = sup_part(self.kernel, self.capi) else {
            return None;
        };
        match sup_part(self.kernel, capi.guest(tkc)?)? {
            SupActor::Guest(g) => Some(g),
            _ => None,
        }
    }
}

impl View<'_> {
    /// The objects the Supervisor's API (`guest` None) or the guest
    /// cluster of TKC `guest` serves.
    pub fn store(&self, guest: Option<&ObjectKey>) -> Result<Store<'_>, NoGuest> {
        let Some(tkc) = guest else {
            return Ok(Store::Supervisor {
                api: self.api,
                rollouts: self.rollouts,
            });
        };
        let Some(Body::TanzuKubernetesCluster(spec)) = self.api.get(tkc).map(|o| &o.body) else {
            return Err(NoGuest::NotFound);
        };
        match self.guests.get(tkc) {
            Some(g) if g.api_available() => Ok(Store::Guest(Box::new(GuestStore::of(g, spec)))),
            _ => Err(NoGuest::Unavailable(format!(
                "guest cluster {}/{} has no Ready control-plane node yet (phase {})",
                tkc.namespace,
                tkc.name,
                spec.phase.name()
            ))),
        }
    }
}

/// The Supervisor part at `id`, if that is one.
pub(super) fn sup_part(kernel: &Kernel<WorldActor, WorldSource>, id: ActorId) -> Option<&SupActor> {
    match kernel.actors().get(id.0 as usize)? {
        WorldActor::Supervisor(part) => Some(&part.actor),
        _ => None,
    }
}
