//! `eve dump`: every root and its contents as EDN.

use crate::common::{attribute_edn, bytes_edn, fail, kind_name, open_read_only, stdout, Outcome};
use eve::dao::{edn_string, Index, Schema};
use eve::{RootKind, Slab};
use std::io::Write;
use std::path::PathBuf;

/// Print roots, maps, sets and B+trees as EDN, and databases' basis t and datom count
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Print every root (or the roots named) as one EDN map each: its :name, :index, \
:kind (:raw, :map, :set, :btree, :database) and :value (the root word: a raw root's number, \
or the offset of a structure's root block). Maps add their :entries as a map, sets their \
:members as a set, B+trees their :keys as a vector in order; keys and values are EDN strings \
when they are valid UTF-8 and #eve/bytes \"hex\" otherwise, and map entries are sorted by key. \
Databases add their :basis-t and :datoms (the number of current datoms), and with --datoms \
the current datoms themselves as :current, [e :attribute value] vectors in EAVT order."
)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
    /// Only these roots (default: all)
    #[arg(value_name = "ROOT")]
    roots: Vec<String>,
    /// Also print databases' current datoms
    #[arg(long)]
    datoms: bool,
    /// Print at most N entries, members, keys or datoms per root
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

pub fn run(args: Args) -> Outcome {
    let slab = open_read_only(&args.slab)?;
    let roots = slab.roots()?;
    for name in &args.roots {
        if !roots.iter().any(|r| &r.name == name) {
            return Err(fail(format!(
                "{}: no root named {name:?}",
                args.slab.display()
            )));
        }
    }
    let mut out = stdout();
    writeln!(out, ";; {}: {} roots", args.slab.display(), roots.len())?;
    for root in &roots {
        if !args.roots.is_empty() && !args.roots.contains(&root.name) {
            continue;
        }
        let head = format!(
            "{{:name {}, :index {}, :kind :{}, :value {}",
            edn_string(&root.name),
            root.index,
            kind_name(root.kind),
            root.value
        );
        let body = contents(&slab, &root.name, root.kind, &args)?;
        writeln!(out, "{head}{body}}}")?;
    }
    Ok(out.flush()?)
}

/// The EDN entries a root's map gets after its head.
fn contents(
    slab: &Slab,
    name: &str,
    kind: RootKind,
    args: &Args,
) -> Result<String, crate::common::Failure> {
    let guard = slab.pin()?;
    let limit = args.limit.unwrap_or(usize::MAX);
    let lines = |items: Vec<String>, open: &str, close: &str| -> String {
        if items.is_empty() {
            format!("{open}{close}")
        } else {
            format!("{open}\n   {}{close}", items.join("\n   "))
        }
    };
    Ok(match kind {
        RootKind::Raw => String::new(),
        RootKind::HamtMap => {
            let snapshot = slab.map(name)?.snapshot(&guard)?;
            let mut entries = snapshot.iter().collect::<eve::Result<Vec<_>>>()?;
            entries.sort_unstable();
            let count = entries.len();
            let items = entries
                .iter()
                .take(limit)
                .map(|(k, v)| format!("{} {}", bytes_edn(k), bytes_edn(v)))
                .collect();
            format!(", :count {count}, :entries {}", lines(items, "{", "}"))
        }
        RootKind::HamtSet => {
            let snapshot = slab.set(name)?.snapshot(&guard)?;
            let mut members = snapshot
                .iter()
                .map(|e| e.map(|(k, _)| k))
                .collect::<eve::Result<Vec<_>>>()?;
            members.sort_unstable();
            let count = members.len();
            let items = members.iter().take(limit).map(|m| bytes_edn(m)).collect();
            format!(", :count {count}, :members {}", lines(items, "#{", "}"))
        }
        RootKind::BTree => {
            let snapshot = slab.btree(name)?.snapshot(&guard)?;
            let keys = snapshot.iter().collect::<eve::Result<Vec<_>>>()?;
            let count = keys.len();
            let items = keys.iter().take(limit).map(|k| bytes_edn(k)).collect();
            format!(", :count {count}, :keys {}", lines(items, "[", "]"))
        }
        RootKind::Dao => {
            let db = slab.database(name)?;
            let snapshot = db.snapshot(&guard)?;
            let schema = Schema::read(&snapshot)?;
            let mut count = 0u64;
            let mut items = Vec::new();
            for datom in snapshot.current(Index::Eavt, &[]) {
                let datom = datom?;
                if args.datoms && items.len() < limit {
                    items.push(format!(
                        "[{} {} {}]",
                        datom.e,
                        attribute_edn(&schema, datom.a),
                        datom.v.to_edn()
                    ));
                }
                count += 1;
            }
            let mut text = format!(", :basis-t {}, :datoms {count}", snapshot.basis_t());
            if args.datoms {
                text.push_str(&format!(", :current {}", lines(items, "[", "]")));
            }
            text
        }
    })
}
