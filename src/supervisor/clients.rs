//! The scenario's users as one actor: their calls come from the manifest
//! source (inputs) and the replies and denials come back here. Keeping the
//! outcome of every call lets tests and the summary ask what happened to it.

use crate::actor::{Actor, Context};
use crate::api::msg::{ApiError, CallId, SupMsg};
use crate::event::Event;
use std::collections::BTreeMap;

/// What became of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    Ok { resource_version: u64 },
    Refused(ApiError),
    Denied { reason: String },
}

#[derive(Clone, Debug, Default)]
pub struct Clients {
    outcomes: BTreeMap<CallId, CallOutcome>,
}

impl Clients {
    pub fn outcomes(&self) -> &BTreeMap<CallId, CallOutcome> {
        &self.outcomes
    }
}

impl Actor for Clients {
    fn handle<C: Context>(&mut self, event: Event, _ctx: &mut C) {
        let Event::Supervisor(msg) = event else {
            return;
        };
        match *msg {
            SupMsg::Reply { id, result } => {
                let outcome = match result {
                    Ok(rv) => CallOutcome::Ok {
                        resource_version: rv,
                    },
                    Err(e) => CallOutcome::Refused(e),
                };
                self.outcomes.insert(id, outcome);
            }
            SupMsg::Denied { id, reason, .. } => {
                self.outcomes.insert(id, CallOutcome::Denied { reason });
            }
            _ => {}
        }
    }
}
