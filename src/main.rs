//! The `pacsim` command line. Thin glue over the library; for now only
//! `run FILE`, which loads the scenario. Errors go to stderr as
//! `error: <file>:<line>:<col>: <message>` with exit code 2.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pacsim", about = "Simulate a vSphere Supervisor datacenter")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a scenario and run it.
    Run {
        file: PathBuf,
        /// Overrides the scenario's `seed:`.
        #[arg(long)]
        seed: Option<u64>,
    },
}

fn main() -> ExitCode {
    let Command::Run { file, seed } = Cli::parse().command;
    match pacsim::scenario::load_scenario(&file) {
        Ok(mut scenario) => {
            scenario.seed = seed.unwrap_or(scenario.seed);
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
