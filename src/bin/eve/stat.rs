//! `eve stat`: the slab's counters, readers and roots, read without changing anything.

use crate::common::{kind_name, line, open_read_only, stdout, Outcome};
use eve::dao::edn_string;
use std::io::Write;
use std::path::PathBuf;

/// Show size, free space, roots, readers (with their pids), the oldest pinned epoch and
/// retired bytes
#[derive(clap::Args)]
#[command(after_help = crate::EXIT_CODES)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
    /// Print one EDN map instead of text
    #[arg(long)]
    edn: bool,
}

pub fn run(args: Args) -> Outcome {
    let slab = open_read_only(&args.slab)?;
    let stats = slab.stats();
    let roots = slab.roots()?;
    let readers = slab.readers();
    let others = slab.others_attached()?;
    // The retirement list can change under a concurrent reclaimer; report what we can.
    let retired = slab.retired().ok();
    let mut out = stdout();
    if args.edn {
        let retired_edn = retired.map_or("nil".to_string(), |r| {
            format!(
                "{{:blocks {}, :bytes {}, :records {}, :record-bytes {}}}",
                r.blocks, r.bytes, r.records, r.record_bytes
            )
        });
        let readers_edn: Vec<String> = readers
            .iter()
            .map(|r| {
                format!(
                    "{{:slot {}, :pid {}, :alive {}, :pinned-epoch {}}}",
                    r.slot,
                    r.pid,
                    r.alive,
                    r.pinned_epoch.map_or("nil".into(), |e| e.to_string())
                )
            })
            .collect();
        let roots_edn: Vec<String> = roots
            .iter()
            .map(|r| {
                format!(
                    "{{:index {}, :name {}, :kind :{}}}",
                    r.index,
                    edn_string(&r.name),
                    kind_name(r.kind)
                )
            })
            .collect();
        let text = format!(
            "{{:file {}, :format-version {}, :file-bytes {}, :heap-bytes {}, :used-bytes {}, \
             :used-blocks {}, :free-bytes {}, :max-bytes {}, :global-epoch {}, \
             :oldest-pinned-epoch {}, :pinned-readers {}, :reader-slots {}, :readers [{}], \
             :other-handles {}, :retired {}, :sweeps {}, :roots [{}]}}",
            edn_string(&args.slab.display().to_string()),
            eve::FORMAT_VERSION,
            stats.file_len,
            stats.heap_bytes,
            stats.bytes_in_use,
            stats.blocks_in_use,
            stats.free_bytes,
            stats.max_size,
            stats.global_epoch,
            stats
                .oldest_pinned_epoch
                .map_or("nil".into(), |e| e.to_string()),
            stats.live_readers,
            stats.reader_slots,
            readers_edn.join(" "),
            others,
            retired_edn,
            stats.sweeps,
            roots_edn.join(" ")
        );
        line(&mut out, &text)?;
        return Ok(out.flush()?);
    }
    let pinned = readers.iter().filter(|r| r.pinned_epoch.is_some()).count();
    writeln!(out, "slab           {}", args.slab.display())?;
    writeln!(out, "format         version {}", eve::FORMAT_VERSION)?;
    writeln!(out, "size           {}", bytes(stats.file_len))?;
    writeln!(
        out,
        "used           {} in {} blocks",
        bytes(stats.bytes_in_use),
        stats.blocks_in_use
    )?;
    writeln!(out, "free           {}", bytes(stats.free_bytes))?;
    match retired {
        Some(r) => writeln!(
            out,
            "retired        {} in {} blocks ({} records, {})",
            bytes(r.bytes),
            r.blocks,
            r.records,
            bytes(r.record_bytes)
        )?,
        None => writeln!(
            out,
            "retired        {} blocks (the list changed while it was read)",
            stats.retired_blocks
        )?,
    }
    writeln!(out, "global epoch   {}", stats.global_epoch)?;
    writeln!(
        out,
        "oldest pinned  {}",
        stats
            .oldest_pinned_epoch
            .map_or("none".to_string(), |e| format!("epoch {e}"))
    )?;
    writeln!(
        out,
        "readers        {} slots claimed of {}, {pinned} pinned",
        readers.len(),
        stats.reader_slots
    )?;
    for r in &readers {
        let state = match (r.alive, r.pinned_epoch) {
            (true, Some(e)) => format!("pinned at epoch {e}"),
            (true, None) => "idle".to_string(),
            (false, Some(e)) => format!("dead (was pinned at epoch {e})"),
            (false, None) => "dead".to_string(),
        };
        writeln!(out, "  slot {:<5} pid {:<8} {state}", r.slot, r.pid)?;
    }
    writeln!(
        out,
        "other handles  {}",
        if others {
            "yes (other handles have the slab open)"
        } else {
            "none"
        }
    )?;
    writeln!(out, "sweeps         {}", stats.sweeps)?;
    if stats.rolled_back_roots > 0 {
        writeln!(
            out,
            "rolled back    {} root(s) to their last synced value",
            stats.rolled_back_roots
        )?;
    }
    writeln!(out, "roots          {}", roots.len())?;
    for r in &roots {
        writeln!(
            out,
            "  {:<4} {:<9} {}",
            r.index,
            kind_name(r.kind),
            edn_string(&r.name)
        )?;
    }
    Ok(out.flush()?)
}

/// `1234567 bytes (1.2 MiB)`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{n} bytes ({value:.1} {})", UNITS[unit])
}
