//! `eve`: look inside, check, repair, query and copy eve slabs from the command line.
//!
//! One module per subcommand (`src/bin/eve/`); `common` holds what they share: opening
//! slabs and databases with clear errors, EDN printing, progress bars. Every command
//! returns `Result<(), Failure>`; `main` turns a failure into a message on stderr and exit
//! code 1, and clap turns usage errors into exit code 2.

// The subcommands live in src/bin/eve/ (a crate root's modules resolve beside it).
#[path = "eve/check.rs"]
mod check;
#[path = "eve/common.rs"]
mod common;
#[path = "eve/compact.rs"]
mod compact;
#[path = "eve/datoms.rs"]
mod datoms;
#[path = "eve/dump.rs"]
mod dump;
#[path = "eve/export.rs"]
mod export;
#[path = "eve/import.rs"]
mod import;
#[path = "eve/query.rs"]
mod query;
#[path = "eve/repair.rs"]
mod repair;
#[path = "eve/stat.rs"]
mod stat;
#[path = "eve/transact.rs"]
mod transact;

use clap::{Parser, Subcommand};
use common::Failure;
use std::process::ExitCode;

/// Shown under every `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a problem: the check found damage or leaks, the file is missing or not a slab, bad EDN,
     an unknown database, a failed query or transaction, a refused repair
  2  usage error (unknown command or option, missing argument)";

const EXAMPLES_AND_EXIT_CODES: &str = "\
Examples:
  eve transact people.slab people '[{:db/ident :person/name :db/valueType :db.type/string
                                     :db/cardinality :db.cardinality/one}]'
  eve transact people.slab people '[{:person/name \"Ada\"}]'
  eve query people.slab people '[:find ?n :where [_ :person/name ?n]]'
  eve check people.slab && eve compact people.slab people-compact.slab

`eve help COMMAND` or `eve COMMAND --help` describes each command.

Exit codes:
  0  success
  1  a problem: the check found damage or leaks, the file is missing or not a slab, bad EDN,
     an unknown database, a failed query or transaction, a refused repair
  2  usage error (unknown command or option, missing argument)";

#[derive(Parser)]
#[command(
    name = "eve",
    version,
    about = "Inspect, check, repair, query and copy eve slabs",
    long_about = "Inspect, check, repair, query and copy eve slabs: files holding persistent maps, \
sets, B+trees and DaoDB databases that many processes share in place.\n\n\
Commands that only read (stat, check, dump, query, pull, datoms, export) open the slab \
read-only and never create or change it; transact and import create the slab and the \
database if they are missing.",
    after_help = EXAMPLES_AND_EXIT_CODES,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Stat(stat::Args),
    Check(check::Args),
    Repair(repair::Args),
    Dump(dump::Args),
    Transact(transact::Args),
    Query(query::Args),
    Pull(query::PullArgs),
    Datoms(datoms::Args),
    Export(export::Args),
    Import(import::Args),
    Compact(compact::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stat(args) => stat::run(args),
        Command::Check(args) => check::run(args),
        Command::Repair(args) => repair::run(args),
        Command::Dump(args) => dump::run(args),
        Command::Transact(args) => transact::run(args),
        Command::Query(args) => query::run(args),
        Command::Pull(args) => query::run_pull(args),
        Command::Datoms(args) => datoms::run(args),
        Command::Export(args) => export::run(args),
        Command::Import(args) => import::run(args),
        Command::Compact(args) => compact::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`eve dump big.slab | head`) is not an error.
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::from(1),
        Err(Failure::Message(message)) => {
            eprintln!("eve: {message}");
            ExitCode::from(1)
        }
    }
}
