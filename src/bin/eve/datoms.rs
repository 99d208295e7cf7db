//! `eve datoms`: the datoms of one index (or the log), read in place.

use crate::common::{database, datom_edn, fail, line, open_read_only, stdout, Outcome, ViewArgs};
use clojure_reader::edn::{self, Edn};
use eve::dao::{Index, Schema};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Which {
    Eavt,
    Aevt,
    Avet,
    Vaet,
    /// The transaction log, in order of t
    Log,
}

/// Print the datoms of an index, or the transaction log, as EDN vectors
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Print the datoms of one index of a database, one [e :attribute value t added] \
vector per line, in the index's order.\n\n\
COMPONENTS narrows the scan to the datoms whose leading components match, as an EDN vector \
in the index's order: [e], [e :attr] or [e :attr value] for eavt, [:attr], [:attr e] for \
aevt, [:attr value] for avet, [ref-value :attr] for vaet; entities may be ids, idents or \
lookup refs. For the log, COMPONENTS is [t], the first transaction to print.\n\n\
Example:\n  eve datoms people.slab people avet '[:person/age 42]'"
)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
    /// The database
    db: String,
    /// The index to read
    #[arg(value_enum)]
    index: Which,
    /// Leading components to match, as an EDN vector in the index's order
    components: Option<String>,
    #[command(flatten)]
    view: ViewArgs,
    /// Print at most N datoms
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

pub fn run(args: Args) -> Outcome {
    let slab = open_read_only(&args.slab)?;
    let db = database(&slab, &args.slab, &args.db, false)?;
    let guard = slab.pin()?;
    let snapshot = db.snapshot(&guard)?;
    let schema = Schema::read(&snapshot)?;
    let limit = args.limit.unwrap_or(usize::MAX);
    let mut out = stdout();
    let index = match args.index {
        Which::Eavt => Index::Eavt,
        Which::Aevt => Index::Aevt,
        Which::Avet => Index::Avet,
        Which::Vaet => Index::Vaet,
        Which::Log => {
            if !args.view.is_current() {
                return Err(fail(
                    "the log lists every transaction; --as-of, --since and --history do not apply",
                ));
            }
            let from = match &args.components {
                None => 0,
                Some(text) => log_start(text)?,
            };
            for datom in snapshot.log_from(from).take(limit) {
                line(&mut out, &datom_edn(&schema, &datom?))?;
            }
            return Ok(out.flush()?);
        }
    };
    let prefix = match &args.components {
        None => Vec::new(),
        Some(text) => snapshot.index_prefix(index, text)?,
    };
    for datom in snapshot
        .range(index, args.view.view(), &prefix, None)
        .take(limit)
    {
        line(&mut out, &datom_edn(&schema, &datom?))?;
    }
    Ok(out.flush()?)
}

/// The `t` of `[t]`.
fn log_start(text: &str) -> Result<u64, crate::common::Failure> {
    let bad = || fail(format!("the log's components are [t], not {text}"));
    let (form, rest) = edn::read(text).map_err(|_| bad())?;
    if !crate::common::skip_blank(rest).is_empty() {
        return Err(bad());
    }
    match &form {
        Edn::Vector(v) | Edn::List(v) => match v.as_slice() {
            [] => Ok(0),
            [Edn::Int(t)] if *t >= 0 => Ok(*t as u64),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}
