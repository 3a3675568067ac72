//! The one integration-test binary; each module is one area.

mod bad_input;
mod scenario_parse;
