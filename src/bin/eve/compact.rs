//! `eve compact`: write a fresh, defragmented copy of a slab, then check it.

use crate::check;
use crate::common::{fail, open_read_only, progress, stdout, Failure, Outcome};
use eve::dao::Datom;
use eve::{Guard, Op, OpenOptions, RootInfo, RootKind, Slab};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write a fresh, defragmented copy of a slab with the same roots and contents
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Write a fresh, defragmented copy of a slab to OUT, check it, and only then move \
it into place (it is built beside OUT and renamed, so OUT is never half-written).\n\n\
Preserved: every root, by name and kind, in the same order (so with the same root indexes \
when the source has no gaps); raw roots' values; every entry of maps, every member of sets \
and every key of B+trees; and databases whole: the full history and transaction log with \
every datom's e, a, v, t and m (transaction metadata included), the basis t and the \
counter of new entity ids, so queries as of any t answer as before. The copy's reader \
slots number as many as the source's.\n\n\
Not preserved: retired and leaked blocks, free space, reader slots' owners, the global \
epoch and the sweep count. Each structure is built bottom-up in one pass, so the copy is \
usually smaller. The source is opened read-only; roots are copied one at a time, so if \
other processes write meanwhile each root is copied as of its own moment.\n\n\
Refuses to overwrite an existing OUT unless --force."
)]
pub struct Args {
    /// The slab to copy
    slab: PathBuf,
    /// The new slab file
    out: PathBuf,
    /// Replace OUT if it exists
    #[arg(long)]
    force: bool,
    /// No progress bar
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: Args) -> Outcome {
    let src = open_read_only(&args.slab)?;
    if args.out.exists() {
        if same_file(&args.slab, &args.out) {
            return Err(fail(format!(
                "{} is the slab being compacted; write the copy elsewhere",
                args.out.display()
            )));
        }
        if !args.force {
            return Err(fail(format!(
                "{} exists; use --force to replace it",
                args.out.display()
            )));
        }
    }
    let file_name = args
        .out
        .file_name()
        .ok_or_else(|| fail(format!("{}: not a file name", args.out.display())))?;
    let tmp = args.out.with_file_name(format!(
        ".{}.eve-compact-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = copy_and_check(&src, &args, &tmp);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    let (roots, notes) = result?;
    std::fs::rename(&tmp, &args.out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(format!("moving the copy to {}: {e}", args.out.display()))
    })?;
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut out = stdout();
    for note in notes {
        writeln!(out, "note: {note}")?;
    }
    writeln!(
        out,
        "compacted {} ({} bytes) into {} ({} bytes): {roots} root{} copied; check: ok",
        args.slab.display(),
        size(&args.slab),
        args.out.display(),
        size(&args.out),
        if roots == 1 { "" } else { "s" }
    )?;
    Ok(out.flush()?)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Builds the copy at `tmp`, checks it and compares it with the source; returns the
/// number of roots copied and notes for the user.
fn copy_and_check(src: &Slab, args: &Args, tmp: &Path) -> Result<(usize, Vec<String>), Failure> {
    let _ = std::fs::remove_file(tmp);
    let roots = src.roots()?;
    let mut notes = Vec::new();
    let mut expected = Vec::new();
    {
        let options = OpenOptions {
            create: true,
            reader_slots: src.stats().reader_slots as u32,
            ..OpenOptions::default()
        };
        let dst = Slab::open_with(tmp, &options)?;
        let bar = progress(roots.len() as u64, args.quiet, "compacting");
        for root in &roots {
            bar.set_message(format!("compacting {}", root.name));
            {
                let guard = src.pin()?;
                copy_root(src, &guard, &dst, root)?;
            }
            // What the source held, for the comparison below (after the copy, so a root
            // that changes meanwhile is told apart from a faulty copy).
            expected.push(check::summary(src, root).map_err(fail)?);
            bar.inc(1);
        }
        bar.finish_and_clear();
        for (copied, root) in dst.roots()?.iter().zip(&roots) {
            if copied.index != root.index {
                notes.push(format!(
                    "root {:?} moved from index {} to {} (the source's root table has gaps)",
                    root.name, root.index, copied.index
                ));
            }
        }
        dst.reclaim()?;
    }
    std::fs::File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| fail(format!("syncing {}: {e}", tmp.display())))?;
    let copy = open_read_only(tmp)?;
    let findings = check::examine(&copy);
    if !findings.problems.is_empty() {
        return Err(fail(format!(
            "the copy failed its check (nothing was written to {}): {}",
            args.out.display(),
            findings.problems.join("; ")
        )));
    }
    let copied: Vec<String> = copy
        .roots()?
        .iter()
        .map(|r| check::summary(&copy, r).map_err(fail))
        .collect::<Result<_, _>>()?;
    if copied != expected {
        let others = src.others_attached().unwrap_or(true);
        let differences: Vec<String> = expected
            .iter()
            .zip(&copied)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("source {a} / copy {b}"))
            .collect();
        let text = format!(
            "the copy differs from the source: {}",
            differences.join("; ")
        );
        if others {
            notes.push(format!(
                "{text} (other processes have the source open and may have written meanwhile)"
            ));
        } else {
            return Err(fail(text));
        }
    }
    Ok((roots.len(), notes))
}

fn copy_root(src: &Slab, guard: &Guard<'_>, dst: &Slab, root: &RootInfo) -> Result<(), Failure> {
    let name = root.name.as_str();
    match root.kind {
        RootKind::Raw => {
            let value = src.root(name)?.load();
            if dst.root(name)?.compare_exchange(0, value)?.is_err() {
                return Err(fail(format!("raw root {name:?} changed in the copy")));
            }
        }
        RootKind::HamtMap => {
            let entries = src
                .map(name)?
                .snapshot(guard)?
                .iter()
                .collect::<eve::Result<Vec<_>>>()?;
            let ops: Vec<Op<'_>> = entries.iter().map(|(k, v)| Op::Insert(k, v)).collect();
            dst.map(name)?.apply(&ops)?;
        }
        RootKind::HamtSet => {
            let members = src
                .set(name)?
                .snapshot(guard)?
                .iter()
                .map(|e| e.map(|(k, _)| k))
                .collect::<eve::Result<Vec<_>>>()?;
            dst.set(name)?.apply(&members, &[])?;
        }
        RootKind::BTree => {
            let keys = src
                .btree(name)?
                .snapshot(guard)?
                .iter()
                .collect::<eve::Result<Vec<_>>>()?;
            dst.btree(name)?.extend(keys)?;
        }
        RootKind::Dao => {
            let snapshot = src.database(name)?.snapshot(guard)?;
            let log = snapshot.log_from(0).collect::<eve::Result<Vec<Datom>>>()?;
            let db = dst.database(name)?;
            if log.is_empty() && snapshot.basis_t() == 0 {
                db.reserve_entity_ids(snapshot.next_entity())?;
            } else {
                db.restore(&log, snapshot.basis_t(), snapshot.next_entity())?;
            }
        }
    }
    Ok(())
}
