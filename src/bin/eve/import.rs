//! `eve import`: run the transactions of an `eve export` file (or any file of EDN
//! transaction vectors) against a database.

use crate::common::{
    database, edn_text, fail, line, line_of, open_writable, progress_bytes, skip_blank, stdout,
    Failure, Outcome,
};
use clojure_reader::edn::{self, Edn};
use eve::dao::{Change, Database, Durability, Schema, Value};
use std::io::{Read, Write};
use std::path::PathBuf;

/// Import datoms written by `eve export` (or EDN transaction vectors) into a database
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Read an `eve export` file (or stdin) and run its transactions against a database; \
the slab and the database are created if missing.\n\n\
The input is the export's header map followed by its transactions. Without a header, every \
form is taken as EDN transaction data, as `eve transact` takes it. Statements-format \
transactions run as they are; log-format ones ([e :attribute value t added] vectors, from \
`export --history`) become [:db/add e a v] and [:db/retract e a v] statements, one \
transaction per t, and into an empty database the t's are kept (empty transactions fill \
the gaps).\n\n\
Entity ids are kept as exported, so the same datoms come back; afterwards the database's \
counter of new entity ids is raised past every imported id (and the exported :next-entity), \
so later transactions never reuse one. Importing into a database that already has entities \
merges datoms into entities with the same ids. Byte values that are not UTF-8 \
(#eve/bytes \"hex\") are written in a separate transaction after the rest of theirs.\n\n\
Prints {:imported N, :transactions M, :basis-t T}. A progress bar is drawn on stderr when \
it is a terminal (not with --quiet)."
)]
pub struct Args {
    /// The slab file (created if missing)
    slab: PathBuf,
    /// The database (created if missing)
    db: String,
    /// The file to read; stdin when absent or `-`
    file: Option<PathBuf>,
    /// No progress bar
    #[arg(long, short)]
    quiet: bool,
    /// Do not wait for the disk after each transaction
    #[arg(long)]
    no_sync: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Statements,
    Log,
}

pub fn run(args: Args) -> Outcome {
    let source = args
        .file
        .as_ref()
        .filter(|f| f.as_os_str() != "-")
        .map_or("stdin".to_string(), |f| f.display().to_string());
    let text = read_input(&args)?;
    let slab = open_writable(&args.slab, true)?;
    let mut db = database(&slab, &args.slab, &args.db, true)?;
    if !args.no_sync {
        db = db.with_durability(Durability::Synced);
    }
    let fresh = db.basis_t()? == 0;
    let bar = progress_bytes(text.len() as u64, args.quiet, "importing");
    let mut importer = Importer {
        db,
        slab: &slab,
        fresh,
        max_entity: 0,
        datoms: 0,
        transactions: 0,
    };
    // Read every form first, so that malformed input is refused before anything is written.
    let mut forms = Vec::new();
    let mut rest = skip_blank(&text);
    while !rest.is_empty() {
        let at = text.len() - rest.len();
        let (form, after) = edn::read(rest).map_err(|e| {
            let start = line_of(&text, at);
            fail(format!(
                "{source}: malformed EDN in the form starting at line {start}: {:?} at line {}, column {}",
                e.code,
                start + e.line.unwrap_or(1).saturating_sub(1),
                e.column.unwrap_or(0)
            ))
        })?;
        forms.push((at, form, &rest[..rest.len() - after.len()]));
        rest = skip_blank(after);
    }
    let mut format = Format::Statements;
    let mut next_entity = 0u64;
    for (number, (at, form, form_text)) in forms.iter().enumerate() {
        let where_ = format!("{source}, line {}", line_of(&text, *at));
        if let Edn::Map(header) = form {
            if number > 0 || !header.contains_key(&Edn::Key("eve/export".into())) {
                return Err(fail(format!(
                    "{where_}: expected a transaction vector, found a map"
                )));
            }
            if header.get(&Edn::Key("format".into())) == Some(&Edn::Key("log".into())) {
                format = Format::Log;
            }
            if let Some(Edn::Int(n)) = header.get(&Edn::Key("next-entity".into())) {
                next_entity = (*n).max(0) as u64;
            }
            continue;
        }
        let result = match format {
            Format::Statements => importer.statements(form, form_text),
            Format::Log => importer.log(form),
        };
        result.map_err(|e| match e {
            Failure::Message(m) => fail(format!("{where_}: {m}")),
            other => other,
        })?;
        bar.set_position((at + form_text.len()) as u64);
    }
    bar.finish_and_clear();
    let reserve = next_entity.max(importer.max_entity.saturating_add(1));
    importer.db.reserve_entity_ids(reserve)?;
    let mut out = stdout();
    line(
        &mut out,
        &format!(
            "{{:imported {}, :transactions {}, :basis-t {}}}",
            importer.datoms,
            importer.transactions,
            importer.db.basis_t()?
        ),
    )?;
    Ok(out.flush()?)
}

fn read_input(args: &Args) -> Result<String, Failure> {
    let mut text = String::new();
    match args.file.as_ref().filter(|f| f.as_os_str() != "-") {
        Some(path) => {
            std::fs::File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
        }
        None => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| fail(format!("reading stdin: {e}")))?;
        }
    }
    Ok(text)
}

struct Importer<'s> {
    db: Database<'s>,
    slab: &'s eve::Slab,
    /// The database was empty when the import began: log t's can be kept.
    fresh: bool,
    max_entity: u64,
    datoms: u64,
    transactions: u64,
}

/// A statement whose value EDN transaction data cannot express (bytes that are not UTF-8).
struct Raw {
    add: bool,
    e: u64,
    attribute: String,
    value: Vec<u8>,
}

impl Importer<'_> {
    /// One transaction of statements (or entity maps), as `eve transact` takes them.
    fn statements(&mut self, form: &Edn<'_>, form_text: &str) -> Outcome {
        let (Edn::Vector(items) | Edn::List(items)) = form else {
            return Err(fail(format!(
                "a transaction is a vector of statements, not {form}"
            )));
        };
        let mut kept = Vec::new();
        let mut raw = Vec::new();
        for item in items {
            self.note_entities(item);
            match raw_statement(item)? {
                Some(r) => raw.push(r),
                None => kept.push(item),
            }
        }
        let tx = if raw.is_empty() {
            form_text.to_string()
        } else {
            format!(
                "[{}]",
                kept.iter()
                    .map(|s| edn_text(s))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        self.run(&tx, items.len() as u64, raw)
    }

    /// One transaction of the log: `[e :attribute value t added]` datoms of one `t`.
    fn log(&mut self, form: &Edn<'_>) -> Outcome {
        let (Edn::Vector(datoms) | Edn::List(datoms)) = form else {
            return Err(fail(format!(
                "a log transaction is a vector of [e a v t added] datoms, not {form}"
            )));
        };
        let mut t = None;
        let mut statements = Vec::new();
        let mut raw = Vec::new();
        for datom in datoms {
            let (Edn::Vector(parts) | Edn::List(parts)) = datom else {
                return Err(fail(format!("{datom} is not an [e a v t added] datom")));
            };
            let [e, a, v, Edn::Int(dt), Edn::Bool(added)] = parts.as_slice() else {
                return Err(fail(format!("{datom} is not an [e a v t added] datom")));
            };
            if *t.get_or_insert(*dt) != *dt {
                return Err(fail(format!(
                    "a log transaction holds datoms of t {} and t {dt}",
                    t.unwrap_or(0)
                )));
            }
            if let Edn::Int(e) = e {
                self.max_entity = self.max_entity.max((*e).max(0) as u64);
            }
            let op = if *added { ":db/add" } else { ":db/retract" };
            match (e, a, v) {
                (Edn::Int(e), Edn::Key(attribute), Edn::Tagged(tag, hex)) if tag == "eve/bytes" => {
                    raw.push(Raw {
                        add: *added,
                        e: (*e).max(0) as u64,
                        attribute: attribute.to_string(),
                        value: unhex(hex)?,
                    })
                }
                _ => statements.push(format!(
                    "[{op} {} {} {}]",
                    edn_text(e),
                    edn_text(a),
                    edn_text(v)
                )),
            }
        }
        if self.fresh {
            // Keep the exported t: fill the gaps left by transactions without datoms.
            let target = t.unwrap_or(0).max(0) as u64;
            while self.db.basis_t()? + 1 < target {
                self.db.transact_edn("[]", None)?;
            }
        }
        self.run(
            &format!("[{}]", statements.join(" ")),
            datoms.len() as u64,
            raw,
        )
    }

    fn run(&mut self, tx: &str, count: u64, raw: Vec<Raw>) -> Outcome {
        if tx.trim() != "[]" || raw.is_empty() {
            self.db.transact_edn(tx, None)?;
            self.transactions += 1;
        }
        if !raw.is_empty() {
            let guard = self.slab.pin()?;
            let schema = Schema::read(&self.db.snapshot(&guard)?)?;
            let changes = raw
                .into_iter()
                .map(|r| {
                    let a = schema.attribute(&r.attribute)?.id;
                    let v = Value::Bytes(r.value);
                    Ok(if r.add {
                        Change::Add { e: r.e, a, v }
                    } else {
                        Change::Retract { e: r.e, a, v }
                    })
                })
                .collect::<eve::Result<Vec<_>>>()?;
            drop(guard);
            self.db.transact(&changes)?;
            self.transactions += 1;
        }
        self.datoms += count;
        Ok(())
    }

    /// Remembers the highest explicit entity id, so the id counter can be raised past it.
    fn note_entities(&mut self, statement: &Edn<'_>) {
        let id = match statement {
            Edn::Vector(v) | Edn::List(v) => v.get(1),
            Edn::Map(m) => m.get(&Edn::Key("db/id".into())),
            _ => None,
        };
        if let Some(Edn::Int(e)) = id {
            self.max_entity = self.max_entity.max((*e).max(0) as u64);
        }
    }
}

/// `[:db/add e :attribute #eve/bytes "hex"]` (or `:db/retract`) as a raw change.
fn raw_statement(statement: &Edn<'_>) -> Result<Option<Raw>, Failure> {
    let (Edn::Vector(v) | Edn::List(v)) = statement else {
        return Ok(None);
    };
    match v.as_slice() {
        [Edn::Key(op), Edn::Int(e), Edn::Key(attribute), Edn::Tagged(tag, hex)]
            if tag == "eve/bytes" && (op == "db/add" || op == "db/retract") =>
        {
            Ok(Some(Raw {
                add: op == "db/add",
                e: (*e).max(0) as u64,
                attribute: attribute.to_string(),
                value: unhex(hex)?,
            }))
        }
        _ => Ok(None),
    }
}

fn unhex(edn: &Edn<'_>) -> Result<Vec<u8>, Failure> {
    let bad = || fail(format!("#eve/bytes {edn}: not a string of hex digits"));
    let Edn::Str(hex) = edn else {
        return Err(bad());
    };
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}
