//! `eve check`: walk every block and every structure, report damage and leaks.

use crate::common::{kind_name, open_read_only, stdout, Failure, Outcome};
use eve::dao::{edn_string, Index, Schema, Value};
use eve::{RootInfo, RootKind, Slab};
use std::io::Write;
use std::path::PathBuf;

/// Walk every reachable block, verify structure and checksums (seals), report leaks
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Walk every reachable block, verify structure and checksums (seals), report leaks.\n\n\
The slab is opened read-only and nothing is changed. The header's checksum and geometry \
are verified on open; then every block reachable from a root is validated (its page, \
position, header, size class, seal — the checksum of its contents, place and page — and, \
for B+tree nodes, key order and prefixes), \
and so is the header of every other block of the heap. Every structure is then read \
whole: maps and sets entry by entry against their counts, B+trees in key order, and \
databases index by index, each datom decoded, the four indexes and the log compared.\n\n\
Allocated blocks that no root reaches and no retirement record holds are leaks (left by a \
writer killed mid-update); `eve repair` frees them. While other handles have the slab \
open, such blocks may be updates in flight and are only reported, not counted as problems.\n\n\
Exits with 1 if anything is damaged or leaked."
)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
}

/// What a check found.
#[derive(Default)]
pub struct Findings {
    /// One line per root, and the block totals.
    pub lines: Vec<String>,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

pub fn run(args: Args) -> Outcome {
    let slab = open_read_only(&args.slab)?;
    let findings = examine(&slab);
    let mut out = stdout();
    writeln!(out, "checking {}", args.slab.display())?;
    for line in &findings.lines {
        writeln!(out, "  {line}")?;
    }
    for note in &findings.notes {
        writeln!(out, "note: {note}")?;
    }
    for problem in &findings.problems {
        writeln!(out, "problem: {problem}")?;
    }
    if findings.problems.is_empty() {
        writeln!(out, "ok: no problems found")?;
        return Ok(out.flush()?);
    }
    out.flush()?;
    eprintln!(
        "eve: check failed: {} problem(s) in {}",
        findings.problems.len(),
        args.slab.display()
    );
    Err(Failure::Reported)
}

/// Checks the whole slab: blocks first, then every structure's contents.
pub fn examine(slab: &Slab) -> Findings {
    let mut findings = Findings::default();
    let roots = match slab.roots() {
        Ok(roots) => roots,
        Err(e) => {
            findings.problems.push(format!("root table: {e}"));
            return findings;
        }
    };
    for root in &roots {
        match summary(slab, root) {
            Ok(line) => findings.lines.push(line),
            Err(problem) => findings.problems.push(problem),
        }
    }
    match slab.audit() {
        Err(e) => findings.problems.push(format!("blocks: {e}")),
        Ok(audit) => {
            findings.lines.push(format!(
                "blocks: {} reachable ({} bytes), {} retired ({} bytes), {} leaked ({} bytes); {} bytes free in {} pages",
                audit.reachable_blocks,
                audit.reachable_bytes,
                audit.retired_blocks,
                audit.retired_bytes,
                audit.leaked_blocks,
                audit.leaked_bytes,
                audit.free_bytes,
                audit.pages
            ));
            if audit.leaked_blocks > 0 {
                let others = slab.others_attached().unwrap_or(true);
                let text = format!(
                    "{} blocks ({} bytes) are allocated but no root reaches them",
                    audit.leaked_blocks, audit.leaked_bytes
                );
                if others {
                    findings.notes.push(format!(
                        "{text}; other handles have the slab open, so they may be updates in flight"
                    ));
                } else {
                    findings
                        .problems
                        .push(format!("{text}: leaked; `eve repair` frees them"));
                }
            }
        }
    }
    findings
}

/// Reads the structure under `root` whole: `kind "name": what it holds`, or what is wrong
/// with it. Equal summaries mean equal counts (`compact` compares them).
pub fn summary(slab: &Slab, root: &RootInfo) -> Result<String, String> {
    let what = format!("{} {}", kind_name(root.kind), edn_string(&root.name));
    match contents(slab, &root.name, root.kind) {
        Ok(summary) => Ok(format!("{what}: {summary}")),
        Err(problem) => Err(format!("{what}: {problem}")),
    }
}

/// Reads one structure whole; a summary line, or what is wrong.
fn contents(slab: &Slab, name: &str, kind: RootKind) -> Result<String, String> {
    let guard = slab.pin().map_err(|e| e.to_string())?;
    let err = |e: eve::Error| e.to_string();
    match kind {
        RootKind::Raw => Ok(format!("value {}", slab.root(name).map_err(err)?.load())),
        RootKind::HamtMap | RootKind::HamtSet => {
            let snapshot = if kind == RootKind::HamtMap {
                slab.map(name).map_err(err)?.snapshot(&guard)
            } else {
                slab.set(name).map_err(err)?.snapshot(&guard)
            }
            .map_err(err)?;
            let counted = snapshot.len().map_err(err)?;
            let mut seen = 0u64;
            for entry in snapshot.iter() {
                let (key, _) = entry.map_err(err)?;
                if snapshot.get(key).map_err(err)?.is_none() {
                    return Err(format!(
                        "key {} is stored but a lookup does not find it",
                        crate::common::bytes_edn(key)
                    ));
                }
                seen += 1;
            }
            if seen != counted {
                return Err(format!("holds {seen} entries but counts {counted}"));
            }
            Ok(format!(
                "{seen} {}",
                if kind == RootKind::HamtMap {
                    "entries"
                } else {
                    "members"
                }
            ))
        }
        RootKind::BTree => {
            let snapshot = slab
                .btree(name)
                .map_err(err)?
                .snapshot(&guard)
                .map_err(err)?;
            let mut previous: Option<&[u8]> = None;
            let mut n = 0u64;
            for key in snapshot.iter() {
                let key = key.map_err(err)?;
                if previous.is_some_and(|p| p >= key) {
                    return Err(format!("keys out of order at key {n}"));
                }
                previous = Some(key);
                n += 1;
            }
            Ok(format!("{n} keys in order"))
        }
        RootKind::Dao => {
            let db = slab.database(name).map_err(err)?;
            let snapshot = db.snapshot(&guard).map_err(err)?;
            Schema::read(&snapshot).map_err(|e| format!("schema: {e}"))?;
            let basis = snapshot.basis_t();
            let mut counts = Vec::new();
            let mut refs = 0u64;
            for index in Index::ALL {
                let mut n = 0u64;
                for datom in snapshot.history(index, &[]) {
                    let datom = datom.map_err(|e| format!("{index:?}: {e}"))?;
                    if datom.t == 0 || datom.t > basis {
                        return Err(format!(
                            "{index:?} holds a datom of t {} but the basis t is {basis}",
                            datom.t
                        ));
                    }
                    if index == Index::Eavt && matches!(datom.v, Value::Ref(_)) {
                        refs += 1;
                    }
                    n += 1;
                }
                counts.push((index, n));
            }
            let mut logged = 0u64;
            let mut last_t = 0;
            for datom in snapshot.log_from(0) {
                let datom = datom.map_err(|e| format!("log: {e}"))?;
                if datom.t < last_t || datom.t > basis {
                    return Err(format!("log out of order at t {}", datom.t));
                }
                last_t = datom.t;
                logged += 1;
            }
            for (index, n) in &counts {
                let expected = if *index == Index::Vaet { refs } else { logged };
                if *n != expected {
                    return Err(format!(
                        "{index:?} holds {n} datoms where the log implies {expected}"
                    ));
                }
            }
            let current = snapshot.current(Index::Eavt, &[]).count();
            Ok(format!(
                "basis t {basis}, {current} current datoms, {logged} in the history; indexes and log agree"
            ))
        }
    }
}
