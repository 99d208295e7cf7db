//! `eve query` and `eve pull`: Datalog and pull on a database, EDN in and out.

use crate::common::{database, line, open_read_only, stdout, text_or_stdin, Outcome, ViewArgs};
use eve::query::{pull_edn, q_edn_with};
use std::io::Write;
use std::path::PathBuf;

/// Run a Datalog query against a database; prints the answer as EDN
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Run a Datalog query against a database and print the answer as EDN: a \
relation as a set of vectors, a scalar find as a value (or nil), a collection or tuple as a \
vector, :keys maps as a vector of maps.\n\n\
INPUTS is one EDN vector with an item per :in binding after $: a value for ?x, a vector for \
[?x ...] or [[?a ?b]], rules for %, and #eve/db N for another database of the same slab (N \
is its root index, see `eve stat`).\n\n\
Example:\n  eve query people.slab people '[:find ?n :in $ ?min :where [?e :person/age ?a] \
[(>= ?a ?min)] [?e :person/name ?n]]' '[30]'"
)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
    /// The database
    db: String,
    /// The query as EDN; `-` reads it from stdin
    query: String,
    /// The inputs for the query's :in bindings after $, as one EDN vector
    inputs: Option<String>,
    #[command(flatten)]
    view: ViewArgs,
}

pub fn run(args: Args) -> Outcome {
    let query = text_or_stdin(Some(&args.query), "query")?;
    let slab = open_read_only(&args.slab)?;
    let db = database(&slab, &args.slab, &args.db, false)?;
    let guard = slab.pin()?;
    let snapshot = db.snapshot(&guard)?;
    let open_other = |root: u64| {
        let name = slab.root_at(root)?.name()?;
        slab.database(&name)?.snapshot(&guard)
    };
    let answer = q_edn_with(
        &snapshot,
        args.view.view(),
        &query,
        args.inputs.as_deref(),
        &open_other,
    )?;
    let mut out = stdout();
    line(&mut out, &answer.to_edn())?;
    Ok(out.flush()?)
}

/// Pull an entity's attributes with a pull pattern; prints an EDN map
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Pull an entity with a pull pattern and print the result as an EDN map.\n\n\
Example:\n  eve pull people.slab people '[:person/name {:person/friend [:person/name]}]' \
'[:person/email \"ada@example.com\"]'"
)]
pub struct PullArgs {
    /// The slab file
    slab: PathBuf,
    /// The database
    db: String,
    /// The pull pattern, an EDN vector such as [*] or [:person/name {:person/friend [*]}]
    pattern: String,
    /// The entity: an id, an ident keyword or a lookup ref such as [:person/email "a@x"]
    entity: String,
}

pub fn run_pull(args: PullArgs) -> Outcome {
    let slab = open_read_only(&args.slab)?;
    let db = database(&slab, &args.slab, &args.db, false)?;
    let guard = slab.pin()?;
    let snapshot = db.snapshot(&guard)?;
    let answer = pull_edn(&snapshot, &args.pattern, &args.entity)?;
    let mut out = stdout();
    line(&mut out, &answer.to_edn())?;
    Ok(out.flush()?)
}
