//! `eve export`: a database's datoms as EDN that `eve import` reads back.
//!
//! The file is EDN forms: a header map, then one transaction per line. Statements format
//! (the default): the current datoms as `[:db/add e :attribute value]` statements, the
//! schema (datoms of the built-in `:db/...` attributes) in the first transactions, then
//! everything else in AEVT order, `--batch` statements a transaction. Log format
//! (`--history`): every transaction of the log, in order, as a vector of
//! `[e :attribute value t added]` datoms. Entity ids are written as they are, and `import`
//! keeps them.

use crate::common::{database, fail, open_read_only, progress, Failure, Outcome};
use eve::dao::{edn_string, Datom, Index, Schema, Value, FIRST_ENTITY};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Export a database's datoms as EDN (for `eve import`)
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Write a database's datoms as EDN that `eve import` reads back, to FILE or stdout.\n\n\
The output is a header map {:eve/export 1, :database ..., :format ..., :basis-t ..., \
:next-entity ..., :datoms N} and then one transaction per line:\n\
  - by default the current datoms, as [:db/add e :attribute value] statements: first the \
schema (the datoms of the built-in :db/... attributes), then the rest in attribute order, \
--batch statements per transaction;\n\
  - with --history the whole transaction log, one line per transaction, as \
[e :attribute value t added] vectors.\n\n\
Entity ids are written as they are and import keeps them. Values are EDN: byte values as \
strings when they are UTF-8, else #eve/bytes \"hex\". Not exported: which transaction-\
metadata entity each datom's m names (the metadata entities' own datoms are exported).\n\n\
A progress bar is drawn on stderr when it is a terminal (not with --quiet)."
)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
    /// The database
    db: String,
    /// Where to write; stdout when absent or `-`
    file: Option<PathBuf>,
    /// Export the whole transaction log instead of the current datoms
    #[arg(long)]
    history: bool,
    /// Statements per transaction (current datoms only)
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// Overwrite FILE if it exists
    #[arg(long)]
    force: bool,
    /// No progress bar and no summary
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: Args) -> Outcome {
    let to_file = args.file.as_ref().filter(|f| f.as_os_str() != "-");
    let Some(path) = to_file else {
        return export(&args, Box::new(std::io::stdout().lock()));
    };
    if path.exists() && !args.force {
        return Err(fail(format!(
            "{} exists; use --force to overwrite it",
            path.display()
        )));
    }
    // Written beside the target and renamed at the end, so a failed export leaves no
    // half-written file behind (and an existing one untouched).
    let name = path
        .file_name()
        .ok_or_else(|| fail(format!("{}: not a file name", path.display())))?;
    let tmp = path.with_file_name(format!(
        ".{}.eve-export-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let file = std::fs::File::create(&tmp)
        .map_err(|e| fail(format!("creating {}: {e}", tmp.display())))?;
    let result = export(&args, Box::new(file)).and_then(|()| {
        std::fs::rename(&tmp, path)
            .map_err(|e| fail(format!("moving the export to {}: {e}", path.display())))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn export(args: &Args, sink: Box<dyn Write>) -> Outcome {
    let slab = open_read_only(&args.slab)?;
    let db = database(&slab, &args.slab, &args.db, false)?;
    let guard = slab.pin()?;
    let snapshot = db.snapshot(&guard)?;
    let schema = Schema::read(&snapshot)?;
    let to_file = args.file.as_ref().filter(|f| f.as_os_str() != "-");
    let mut out = BufWriter::with_capacity(1 << 20, sink);

    // A first pass counts, for the header and the progress bar.
    let total = if args.history {
        snapshot.log_from(0).count() as u64
    } else {
        snapshot.current(Index::Aevt, &[]).count() as u64
    };
    writeln!(
        out,
        ";; eve export of database {} from {}: {total} {} at t {}",
        edn_string(&args.db),
        args.slab.display(),
        if args.history {
            "datoms in the log"
        } else {
            "current datoms"
        },
        snapshot.basis_t()
    )?;
    writeln!(
        out,
        "{{:eve/export 1, :database {}, :format {}, :basis-t {}, :next-entity {}, :datoms {total}}}",
        edn_string(&args.db),
        if args.history { ":log" } else { ":statements" },
        snapshot.basis_t(),
        snapshot.next_entity()
    )?;
    let bar = progress(total, args.quiet, "exporting");
    let mut transactions = 0u64;
    let mut batch: Vec<String> = Vec::new();
    let mut flush = |out: &mut BufWriter<Box<dyn Write>>, batch: &mut Vec<String>| -> Outcome {
        if !batch.is_empty() {
            writeln!(out, "[{}]", batch.join(" "))?;
            bar.inc(batch.len() as u64);
            batch.clear();
            transactions += 1;
        }
        Ok(())
    };
    if args.history {
        let mut t = 0;
        for datom in snapshot.log_from(0) {
            let datom = datom?;
            if datom.t != t {
                flush(&mut out, &mut batch)?;
                t = datom.t;
            }
            batch.push(format!(
                "[{} {} {} {} {}]",
                datom.e,
                attribute(&schema, &datom)?,
                value_edn(&datom.v),
                datom.t,
                datom.m != eve::dao::RETRACTED
            ));
        }
    } else {
        let mut in_schema = true;
        for datom in snapshot.current(Index::Aevt, &[]) {
            let datom = datom?;
            // The schema's own transactions come first, so that the data can use it.
            let schema_datom = datom.a < FIRST_ENTITY;
            if batch.len() as u64 >= args.batch || (in_schema && !schema_datom) {
                flush(&mut out, &mut batch)?;
            }
            in_schema = schema_datom;
            batch.push(format!(
                "[:db/add {} {} {}]",
                datom.e,
                attribute(&schema, &datom)?,
                value_edn(&datom.v)
            ));
        }
    }
    flush(&mut out, &mut batch)?;
    out.flush()?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "exported {total} datoms in {transactions} transactions{}",
            to_file.map_or(String::new(), |p| format!(" to {}", p.display()))
        );
    }
    Ok(())
}

/// The attribute's ident; one without an ident cannot be imported, so it is an error here.
fn attribute(schema: &Schema, datom: &Datom) -> Result<String, Failure> {
    match schema.attribute_by_id(datom.a) {
        Some(a) => Ok(format!(":{}", a.ident)),
        None => Err(fail(format!(
            "datom [{} {} {}] has an attribute without an ident, which EDN cannot name",
            datom.e,
            datom.a,
            datom.v.to_edn()
        ))),
    }
}

/// A value as import reads it back: bytes as a string when they are UTF-8.
fn value_edn(value: &Value) -> String {
    match value {
        Value::Bytes(b) => crate::common::bytes_edn(b),
        other => other.to_edn(),
    }
}
