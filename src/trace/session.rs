//! A served session's log (`pacsim serve`): its scenario text carries a
//! comment line saying so, and its requests are in the records, as calls
//! of the gateway with ids from [`GATEWAY_CALLS`]. Replaying it injects
//! them again at their instants ([`crate::run::drive_session`]).

use crate::api::msg::{GATEWAY_CALLS, SupMsg};
use crate::event::{Event, Record};
use crate::run::Injection;

const MARK: &str =
    "# pacsim serve: a served session; its requests are the gateway's calls in its records";

/// `scenario` marked as a served session's.
pub fn mark(scenario: &str) -> String {
    if is_session(scenario) {
        return scenario.to_string();
    }
    let mut text = scenario.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(MARK);
    text.push('\n');
    text
}

pub fn is_session(scenario: &str) -> bool {
    scenario.lines().any(|l| l == MARK)
}

/// The request a record delivered, if it is one of the gateway's.
pub fn injection(r: &Record) -> Option<Injection> {
    if r.cause.is_some() {
        return None;
    }
    let Event::Supervisor(msg) = &r.event else {
        return None;
    };
    match &**msg {
        SupMsg::Call { id, .. } | SupMsg::GuestRequest { id, .. } if *id >= GATEWAY_CALLS => {
            Some(Injection {
                at: r.at,
                from: r.from,
                to: r.to,
                event: r.event.clone(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_found_and_added_once() {
        let text = "name: x\nseed: 1";
        assert!(!is_session(text));
        let marked = mark(text);
        assert!(is_session(&marked));
        assert_eq!(mark(&marked), marked);
        assert!(marked.starts_with("name: x\nseed: 1\n"));
    }
}
