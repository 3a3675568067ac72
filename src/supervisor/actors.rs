//! The closed set of Supervisor actors, dispatched statically (one boxed
//! variant in the world's actor table).

use super::api_server::ApiServer;
use super::auth_proxy::AuthProxy;
use super::capi::Capi;
use super::clients::Clients;
use super::guest::GuestCluster;
use super::network::Network;
use super::node_controller::NodeController;
use super::replicaset::ReplicaSetController;
use super::scheduler::Scheduler;
use super::spherelet::Spherelet;
use super::storage::Storage;
use super::vm_operator::VmOperator;
use super::wps::Wps;
use crate::actor::{Actor, Context};
use crate::event::Event;

#[derive(Clone, Debug)]
// Boxed once in the world table; few parts, so size differences do not matter.
#[allow(clippy::large_enum_variant)]
pub enum SupActor {
    ApiServer(ApiServer),
    AuthProxy(AuthProxy),
    Scheduler(Scheduler),
    NodeController(NodeController),
    ReplicaSetController(ReplicaSetController),
    VmOperator(VmOperator),
    Wps(Wps),
    Network(Network),
    Storage(Storage),
    Spherelet(Spherelet),
    Clients(Clients),
    Capi(Capi),
    Guest(GuestCluster),
}

impl SupActor {}

impl Actor for SupActor {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match self {
            SupActor::ApiServer(a) => a.handle(event, ctx),
            SupActor::AuthProxy(a) => a.handle(event, ctx),
            SupActor::Scheduler(a) => a.handle(event, ctx),
            SupActor::NodeController(a) => a.handle(event, ctx),
            SupActor::ReplicaSetController(a) => a.handle(event, ctx),
            SupActor::VmOperator(a) => a.handle(event, ctx),
            SupActor::Wps(a) => a.handle(event, ctx),
            SupActor::Network(a) => a.handle(event, ctx),
            SupActor::Storage(a) => a.handle(event, ctx),
            SupActor::Spherelet(a) => a.handle(event, ctx),
            SupActor::Clients(a) => a.handle(event, ctx),
            SupActor::Capi(a) => a.handle(event, ctx),
            SupActor::Guest(a) => a.handle(event, ctx),
        }
    }
}
