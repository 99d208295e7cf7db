//! `eve transact`: run EDN transaction data against a database.

use crate::common::{database, datom_edn, line, open_writable, stdout, text_or_stdin, Outcome};
use eve::dao::{edn_string, Durability, Schema};
use std::io::Write;
use std::path::PathBuf;

/// Run EDN transaction data against a DaoDB database (created if missing)
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Run EDN transaction data against a DaoDB database: a vector of entity maps and \
[:db/add e a v], [:db/retract e a v], [:db/retract e a] and [:db/retractEntity e] \
statements, with tempids (strings or negative numbers), lookup refs and idents. The slab \
and the database are created if they are missing. The transaction is all or nothing, and \
is synced to disk before eve returns unless --no-sync.\n\n\
Prints {:t T, :tempids {\"tempid\" id ...}, :tx-data [[e :attribute value t added] ...]}.\n\n\
Example:\n  eve transact people.slab people '[{:db/ident :person/name :db/valueType \
:db.type/string :db/cardinality :db.cardinality/one}]'\n  eve transact people.slab people \
'[{:db/id \"ada\" :person/name \"Ada\"}]'"
)]
pub struct Args {
    /// The slab file (created if missing)
    slab: PathBuf,
    /// The database (created if missing)
    db: String,
    /// The transaction data as EDN; `-` or nothing reads it from stdin
    tx: Option<String>,
    /// An EDN map describing the transaction itself (becomes the transaction's entity)
    #[arg(long, value_name = "EDN")]
    meta: Option<String>,
    /// Return once published in memory, without waiting for the disk
    #[arg(long)]
    no_sync: bool,
}

pub fn run(args: Args) -> Outcome {
    let tx = text_or_stdin(args.tx.as_deref(), "transaction data")?;
    let slab = open_writable(&args.slab, true)?;
    let mut db = database(&slab, &args.slab, &args.db, true)?;
    if !args.no_sync {
        db = db.with_durability(Durability::Synced);
    }
    let result = db.transact_edn(&tx, args.meta.as_deref())?;
    let guard = slab.pin()?;
    let schema = Schema::read(&db.snapshot(&guard)?)?;
    let tempids: Vec<String> = result
        .tempids
        .iter()
        .map(|(tempid, id)| format!("{} {id}", edn_string(tempid)))
        .collect();
    let datoms: Vec<String> = result
        .report
        .datoms
        .iter()
        .map(|d| datom_edn(&schema, d))
        .collect();
    let mut out = stdout();
    line(
        &mut out,
        &format!(
            "{{:t {}, :tempids {{{}}}, :tx-data [{}]}}",
            result.report.t,
            tempids.join(", "),
            datoms.join(" ")
        ),
    )?;
    Ok(out.flush()?)
}
