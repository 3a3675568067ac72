//! What a read sees between deliveries: the Supervisor's store, or a
//! guest cluster's objects, with the proxy that decides who may read.

use super::guest::GuestStore;
use super::guest_versions::{GuestChange, GuestVersions};
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
use std::cell::RefCell;
use std::collections::BTreeMap;

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

/// Finds guest cluster actors through Cluster API, which knows them,
/// with the versions serve gives their objects.
pub(super) struct Guests<'a> {
    pub(super) kernel: &'a Kernel<WorldActor, WorldSource>,
    pub(super) capi: ActorId,
    pub(super) versions: &'a RefCell<BTreeMap<ObjectKey, GuestVersions>>,
    /// Where a guest's versions start (see `guest_versions`).
    pub(super) version_base: u64,
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
            self.guests.versions.borrow_mut().remove(tkc);
            return Err(NoGuest::NotFound);
        };
        match self.guests.get(tkc) {
            Some(g) if g.api_available() => {
                let mut store = GuestStore::of(g, spec);
                let base = self.guests.version_base;
                (self.guests.versions.borrow_mut())
                    .entry(tkc.clone())
                    .or_insert_with(|| GuestVersions::new(base))
                    .observe(&mut store);
                Ok(Store::Guest(Box::new(store)))
            }
            _ => Err(NoGuest::Unavailable(format!(
                "guest cluster {}/{} has no Ready control-plane node yet (phase {})",
                tkc.namespace,
                tkc.name,
                spec.phase.name()
            ))),
        }
    }
}

impl View<'_> {
    /// What host `host` has allocated (its vSphere Pods and VMs).
    pub fn host_used(&self, host: crate::model::HostId) -> Option<crate::model::Resources> {
        let actor = crate::world::host_actor(host.0 as usize);
        match self.guests.kernel.actors().get(actor.0 as usize)? {
            WorldActor::Host(h) => Some(h.used()),
            _ => None,
        }
    }

    /// The guest cluster of `tkc` as it is now, and its changes after
    /// version `after`: `Ok(Err(floor))` when those are gone.
    pub fn guest_changes(
        &self,
        tkc: &ObjectKey,
        after: u64,
    ) -> Result<(Store<'_>, Result<Vec<GuestChange>, u64>), NoGuest> {
        let store = self.store(Some(tkc))?;
        let versions = self.guests.versions.borrow();
        let changes = versions
            .get(tkc)
            .map_or(Err(self.guests.version_base), |v| v.since(after));
        Ok((store, changes))
    }
}

/// The Supervisor part at `id`, if that is one.
pub(super) fn sup_part(kernel: &Kernel<WorldActor, WorldSource>, id: ActorId) -> Option<&SupActor> {
    match kernel.actors().get(id.0 as usize)? {
        WorldActor::Supervisor(part) => Some(&part.actor),
        _ => None,
    }
}
