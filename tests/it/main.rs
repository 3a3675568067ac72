//! The one integration-test binary; each module is one area.

mod architecture;
mod bad_input;
mod cli_output;
mod determinism;
mod faults;
mod golden;
mod guest_capi;
mod guest_pods;
mod hardening;
mod import;
mod input_fuzz;
mod live;
mod log_salvage;
mod plan;
mod real_manifests;
mod replay;
mod run_cli;
mod scenario_parse;
mod serve;
mod supervisor;
mod supervisor_pods;
mod supervisor_vms;
mod support;
mod trace;
mod trace_damage;
mod wire;
