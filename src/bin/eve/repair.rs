//! `eve repair`: the reachability sweep, which frees leaked blocks.

use crate::common::{fail, open_read_only, open_writable, stdout, Outcome};
use eve::ErrorKind;
use std::io::Write;
use std::path::PathBuf;

/// Run the reachability sweep: free every block no root reaches
#[derive(clap::Args)]
#[command(
    after_help = crate::EXIT_CODES,
    long_about = "Run the reachability sweep: every allocated block that no root reaches (leaked \
by a writer killed mid-update) and every retired block goes back to the free lists, and \
the allocation counters are recomputed. The sweep validates everything it traces before it \
changes anything, so a damaged slab is reported and left as it was.\n\n\
The sweep needs the slab to itself: while another handle (in any process) has it open, \
repair refuses, naming the pids that hold reader slots. With --force it runs anyway as \
long as no thread is reading or writing at that moment; only use it when the other \
processes are known to be idle (or stopped), since one that starts an update during the \
sweep can lose blocks."
)]
pub struct Args {
    /// The slab file
    slab: PathBuf,
    /// Sweep even though other handles have the slab open, if none is reading or writing
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args) -> Outcome {
    // Counters before: the first writable open of a slab that was not closed cleanly
    // sweeps by itself, and what that sweep freed belongs in the report too.
    let before = open_read_only(&args.slab)?.stats();
    let mut slab = open_writable(&args.slab, false)?;
    let opened = slab.stats();
    let swept_on_open = opened.sweeps > before.sweeps;
    let result = if args.force {
        slab.recover_forced()
    } else {
        slab.recover()
    };
    let report = match result {
        Ok(report) => report,
        Err(e) if e.kind() == ErrorKind::Busy => {
            let pids: Vec<String> = {
                let mut pids: Vec<u32> = slab
                    .readers()
                    .iter()
                    .filter(|r| r.alive && r.pid != std::process::id())
                    .map(|r| r.pid)
                    .collect();
                pids.sort_unstable();
                pids.dedup();
                pids.iter().map(u32::to_string).collect()
            };
            let holders = if pids.is_empty() {
                String::new()
            } else {
                format!(" (processes holding reader slots: {})", pids.join(", "))
            };
            return Err(fail(if args.force {
                format!("refusing to repair: {e}{holders}")
            } else {
                format!(
                    "refusing to repair {}: another handle has it open{holders}; close the other \
                     processes, or use --force if they are idle",
                    args.slab.display()
                )
            }));
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = stdout();
    if swept_on_open {
        writeln!(
            out,
            "the slab was not closed cleanly: opening it ran a sweep, which freed {} blocks ({} bytes)",
            before.blocks_in_use.saturating_sub(opened.blocks_in_use),
            before.bytes_in_use.saturating_sub(opened.bytes_in_use)
        )?;
    }
    writeln!(
        out,
        "swept {}: {} live blocks ({} bytes); freed {} blocks ({} bytes)",
        args.slab.display(),
        report.live_blocks,
        report.live_bytes,
        report.freed_blocks,
        report.freed_bytes
    )?;
    Ok(out.flush()?)
}
