//! Power loss in durable mode (RELIABILITY.md). A writer process commits random batches
//! with `Durability::Synced`, one at a time; after each acknowledged commit the parent
//! copies the file: the recorded state at that sync point. Between two recorded states the
//! disk may hold any mixture of the two (the kernel writes dirty pages back in any order),
//! except that the root of commit k+1 reaches the disk only after its data: the writer
//! `fdatasync`s before its CAS. So the harness also builds mixtures of consecutive states —
//! every page (or 512-byte sector) written since the last sync replaced by its previous
//! contents or not, at random or as a prefix of the file, with the root table of the older
//! state — and reopens every state in a child process: each must open (recovery runs),
//! pass `check`, hold exactly the acknowledged commits 1..k (whole, in every index), and
//! accept a new commit.
//!
//! `torn_unsynced_commits_open_whole_or_fall_back_to_the_checkpoint` records a run where
//! about one commit in six is synced and mixes, for a synced state c and a later state k,
//! every 512-byte sector (root table and header included) from any state c..=k: after a
//! power loss following unsynced commits, recovery must open to a whole commit in c..=k.
//!
//! `EVE_TORTURE_ROUNDS` scales the number of commits recorded (default 40 in release),
//! `EVE_TORTURE_SEED` sets the seed.

mod common;

use common::torture::*;
use common::*;
use eve::dao::Durability;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

const DB: &str = "db";
/// The root table (FORMAT.md): a mixture before commit k+1's sync holds commit k's roots.
const ROOT_TABLE: std::ops::Range<usize> = 12288..45056;
const HEADER_PAGE: usize = 4096;

/// How often a plan's commits are synced.
const ALL_SYNCED: u64 = 0;
/// Every second commit synced.
const EVERY_SECOND: u64 = 1;
/// The first commit and about one in six after it synced, the others not.
const ONE_IN_SIX: u64 = 2;

/// The commits of a run, the same in the writer and the verifiers: `(batch, synced)`.
fn plan(seed: u64, commits: u64, mode: u64) -> Vec<(Batch, bool)> {
    let mut rng = Rng::new(seed);
    let mut syncs = Rng::new(seed ^ 0x5EC7);
    (1..=commits)
        .map(|seq| {
            // Now and then a large batch, so the file grows between sync points.
            let max = if rng.chance(20) { 1500 } else { 24 };
            let synced = match mode {
                ALL_SYNCED => true,
                EVERY_SECOND => seq % 2 == 0,
                _ => seq == 1 || syncs.below(6) == 0,
            };
            (Batch::random(&mut rng, 0, seq, max), synced)
        })
        .collect()
}

fn read_line() {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
}

/// Commits the plan one transaction at a time, acknowledging each and waiting for the
/// parent to record the file before going on.
#[test]
#[ignore]
fn child_recorded_writer() {
    if !is_child() {
        return;
    }
    let plan = plan(
        env_u64("EVE_SEED"),
        env_u64("EVE_COMMITS"),
        env_u64("EVE_MIXED"),
    );
    let slab = eve::Slab::open(env_path()).unwrap();
    let db = slab.database(DB).unwrap();
    println!("ready");
    read_line();
    for (i, (batch, synced)) in plan.iter().enumerate() {
        let durability = if *synced {
            Durability::Synced
        } else {
            Durability::None
        };
        let report = db
            .with_durability(durability)
            .transact(&batch.changes)
            .unwrap();
        assert_eq!(report.t, i as u64 + 1);
        let stats = slab.stats();
        println!(
            "stats {} {} {} {}",
            stats.retired_blocks, stats.blocks_in_use, stats.free_bytes, stats.heap_bytes
        );
        println!("{}", batch.marker().ack_line(report.t));
        read_line();
    }
}

/// What `record` saw: the length of each state's file, and the writer's counters after
/// each commit (`[retired blocks, blocks in use, free bytes, heap bytes]`; index 0: none).
struct Recording {
    lengths: Vec<u64>,
    stats: Vec<[u64; 4]>,
}

/// Records the file after each acknowledged commit: `states/<k>.slab` holds the file as
/// it was once commit k (0: none yet) was acknowledged.
fn record(dir: &Path, seed: u64, commits: u64, mode: u64) -> Recording {
    let path = dir.join("live.slab");
    let states = dir.join("states");
    std::fs::create_dir_all(&states).unwrap();
    let mut writer = spawn_with_stdin(
        "child_recorded_writer",
        &path,
        &[
            ("EVE_SEED", seed.to_string()),
            ("EVE_COMMITS", commits.to_string()),
            ("EVE_MIXED", mode.to_string()),
        ],
    );
    writer.expect("ready");
    let mut lengths = vec![];
    let mut stats = vec![[0; 4]];
    for k in 0..=commits {
        if k > 0 {
            let words: Vec<u64> = writer
                .expect("stats")
                .split(' ')
                .map(|w| w.parse().unwrap())
                .collect();
            stats.push(words.try_into().unwrap());
            let (t, _) = Marker::from_ack(&writer.expect("ack"));
            assert_eq!(t, k);
        }
        let copy = states.join(format!("{k}.slab"));
        std::fs::copy(&path, &copy).unwrap();
        lengths.push(std::fs::metadata(&copy).unwrap().len());
        writer.say("next");
    }
    writer.finish();
    Recording { lengths, stats }
}

/// How to build one state to reopen, from the recorded ones.
#[derive(Debug, Clone)]
enum Spec {
    /// Recorded state k as it is.
    Exact(u64),
    /// State k with each grain (4096 or 512 bytes) written before state k+1 taken from
    /// k+1 with probability `percent`, except the root table.
    Mix {
        k: u64,
        seed: u64,
        grain: usize,
        percent: u64,
    },
    /// State k with the bytes of state k+1 below `cut` (writeback in file order), except
    /// the root table.
    Prefix { k: u64, cut: usize },
    /// State k with the header page of state k+1 (its file length and heap top) while the
    /// file keeps the length of state k: a growth whose `fallocate` had not reached the
    /// disk when the header page had.
    HeaderAhead(u64),
    /// State `k` with the root table of the later state `later` (whose data may not be
    /// on disk): what an unsynced commit's root written back early leaves behind.
    RootAhead { k: u64, later: u64 },
    /// A power loss after the unsynced commits c+1..=k following the sync at c: each grain
    /// (512-byte sector, or 4 KiB page for `how` 4 and 5) of the file, the root table and
    /// the header included, holds what it held in some recorded state j, c <= j <= k,
    /// chosen independently per grain (`how`: 0 uniformly, 1 mostly k, 2 mostly c, 3 k but
    /// for 10 % from earlier states; 4 and 5 as 0 and 3 per page; 6 and 7 one state but for
    /// a few runs of sectors, see `build`). The file is as long as state k; bytes past a
    /// shorter state read as zeros where that state is chosen.
    Torn { c: u64, k: u64, seed: u64, how: u64 },
}

impl Spec {
    fn line(&self) -> String {
        match self {
            Spec::Exact(k) => format!("exact {k}"),
            Spec::Mix {
                k,
                seed,
                grain,
                percent,
            } => format!("mix {k} {seed} {grain} {percent}"),
            Spec::Prefix { k, cut } => format!("prefix {k} {cut}"),
            Spec::HeaderAhead(k) => format!("header {k}"),
            Spec::RootAhead { k, later } => format!("root {k} {later}"),
            Spec::Torn { c, k, seed, how } => format!("torn {c} {k} {seed} {how}"),
        }
    }

    fn parse(line: &str) -> Spec {
        let w: Vec<u64> = line
            .split(' ')
            .skip(1)
            .map(|x| x.parse().unwrap())
            .collect();
        match line.split(' ').next().unwrap() {
            "exact" => Spec::Exact(w[0]),
            "mix" => Spec::Mix {
                k: w[0],
                seed: w[1],
                grain: w[2] as usize,
                percent: w[3],
            },
            "prefix" => Spec::Prefix {
                k: w[0],
                cut: w[1] as usize,
            },
            "header" => Spec::HeaderAhead(w[0]),
            "root" => Spec::RootAhead {
                k: w[0],
                later: w[1],
            },
            "torn" => Spec::Torn {
                c: w[0],
                k: w[1],
                seed: w[2],
                how: w[3],
            },
            other => panic!("unknown spec {other}"),
        }
    }

    /// The range of basis `t`s the state may open to.
    fn expected_basis(&self) -> std::ops::RangeInclusive<u64> {
        match *self {
            Spec::Exact(k)
            | Spec::Mix { k, .. }
            | Spec::Prefix { k, .. }
            | Spec::HeaderAhead(k) => k..=k,
            Spec::RootAhead { k, later } => k..=later,
            Spec::Torn { c, k, .. } => c..=k,
        }
    }

    fn build(&self, states: &Path) -> Vec<u8> {
        let state = |k: u64| std::fs::read(states.join(format!("{k}.slab"))).unwrap();
        // A state older than the file's length reads as zeros there (fallocated space).
        let pair = |k: u64| {
            let (mut old, new) = (state(k), state(k + 1));
            if old.len() < new.len() {
                old.resize(new.len(), 0);
            }
            (old, new)
        };
        let keep_root = |out: &mut Vec<u8>, old: &[u8]| {
            out[ROOT_TABLE].copy_from_slice(&old[ROOT_TABLE]);
        };
        match *self {
            Spec::Exact(k) => state(k),
            Spec::Mix {
                k,
                seed,
                grain,
                percent,
            } => {
                let (mut out, new) = pair(k);
                let mut rng = Rng::new(seed);
                for (i, chunk) in out.chunks_mut(grain).enumerate() {
                    let at = i * grain;
                    if chunk != &new[at..at + chunk.len()] && rng.chance(percent) {
                        chunk.copy_from_slice(&new[at..at + chunk.len()]);
                    }
                }
                let old = state(k);
                keep_root(&mut out, &old);
                out
            }
            Spec::Prefix { k, cut } => {
                let (mut out, new) = pair(k);
                let cut = cut.min(out.len());
                out[..cut].copy_from_slice(&new[..cut]);
                keep_root(&mut out, &state(k));
                out
            }
            Spec::HeaderAhead(k) => {
                let (mut out, new) = (state(k), state(k + 1));
                out[..HEADER_PAGE].copy_from_slice(&new[..HEADER_PAGE]);
                out
            }
            Spec::RootAhead { k, later } => {
                let (mut out, new) = (state(k), state(later));
                out[ROOT_TABLE].copy_from_slice(&new[ROOT_TABLE]);
                out
            }
            Spec::Torn { c, k, seed, how } => {
                let olds: Vec<Vec<u8>> = (c..=k).map(state).collect();
                let n = olds.len() as u64;
                let len = olds[n as usize - 1].len();
                let mut rng = Rng::new(seed);
                // Sector `s` of state `c + j` (zeros past its end).
                let sector = |j: u64, s: usize| -> [u8; 512] {
                    let mut out = [0u8; 512];
                    let from = &olds[j as usize];
                    let at = s * 512;
                    let end = (at + 512).min(from.len());
                    if at < end {
                        out[..end - at].copy_from_slice(&from[at..end]);
                    }
                    out
                };
                let sectors = len / 512;
                let mut choice = vec![n - 1; sectors];
                if how >= 6 {
                    // One state m whole but for a few runs of sectors (blocks, nodes or
                    // their parts) from other states: 6, m anywhere in c..=k and the runs
                    // start where the states differ; 7, m = k and the runs start on heap
                    // data of state c that a later commit overwrote (a reused block), taken
                    // back from c.
                    let heap_start = u64_of(&olds[0][64..72]) as usize / 512;
                    let starts: Vec<usize> = (0..sectors)
                        .filter(|&s| {
                            let last = sector(n - 1, s);
                            if how == 6 {
                                (0..n - 1).any(|j| sector(j, s) != last)
                            } else {
                                let first = sector(0, s);
                                s >= heap_start && first != last && first.iter().any(|&x| x != 0)
                            }
                        })
                        .collect();
                    let m = if how == 7 || rng.chance(50) {
                        n - 1
                    } else {
                        rng.below(n)
                    };
                    choice.fill(m);
                    if !starts.is_empty() {
                        for _ in 0..rng.range(1, 5) {
                            let start = starts[rng.below(starts.len() as u64) as usize];
                            let run = [1, 1, 2, 4, 8, 16][rng.below(6) as usize];
                            let j = if how == 7 { 0 } else { rng.below(n) };
                            for x in choice.iter_mut().skip(start).take(run) {
                                *x = j;
                            }
                        }
                    }
                } else {
                    let grain = if how >= 4 { 8 } else { 1 };
                    for group in choice.chunks_mut(grain) {
                        let j = match how {
                            0 | 4 => rng.below(n),
                            1 if rng.chance(70) => n - 1,
                            2 if rng.chance(70) => 0,
                            1 | 2 => rng.below(n),
                            _ if rng.chance(10) => rng.below(n - 1),
                            _ => n - 1,
                        };
                        group.fill(j);
                    }
                }
                let mut out = vec![0u8; len];
                for (s, &j) in choice.iter().enumerate() {
                    out[s * 512..s * 512 + 512].copy_from_slice(&sector(j, s));
                }
                out
            }
        }
    }
}

/// Opens one state and checks it holds exactly commits 1..=basis of the plan, whole;
/// then commits once more. Returns the basis and the roots recovery set back.
fn verify_state(path: &Path, plan: &[(Batch, bool)], spec: &Spec) -> Result<(u64, u64), String> {
    let slab = eve::Slab::open(path).map_err(|e| format!("open: {e}"))?;
    let rolled_back = slab.stats().rolled_back_roots;
    let check = slab.check().map_err(|e| format!("check: {e}"))?;
    if slab.stats().blocks_in_use != check.reachable_blocks {
        return Err(format!("leak after recovery: {:?} {check:?}", slab.stats()));
    }
    let db = slab.database(DB).map_err(|e| format!("database: {e}"))?;
    let basis = {
        let guard = slab.pin().map_err(|e| e.to_string())?;
        let snapshot = db.snapshot(&guard).map_err(|e| format!("snapshot: {e}"))?;
        let basis = snapshot.basis_t();
        if !spec.expected_basis().contains(&basis) {
            return Err(format!(
                "opened at t {basis}, not in {:?}",
                spec.expected_basis()
            ));
        }
        let markers = verify_log(&snapshot, 1)?;
        for (t, marker) in markers {
            let want = plan[t as usize - 1].0.marker();
            if marker != want {
                return Err(format!("t {t} holds {marker:?}, not {want:?}"));
            }
        }
        verify_indexes(&snapshot)?;
        basis
    };
    // Still usable: one more commit, and it checks.
    let mut rng = Rng::new(basis);
    let report = db
        .with_durability(Durability::Synced)
        .transact(&Batch::random(&mut rng, 1, 0, 8).changes)
        .map_err(|e| format!("a commit after reopening: {e}"))?;
    if report.t != basis + 1 {
        return Err(format!("the next commit got t {}", report.t));
    }
    slab.check()
        .map_err(|e| format!("check after a commit: {e}"))?;
    Ok((basis, rolled_back))
}

/// Builds and verifies each state of a spec file: prints `try <i>` before, then `ok <i>
/// <basis> <roots rolled back>` or `bad <i> <problem>`.
#[test]
#[ignore]
fn child_verify_states() {
    if !is_child() {
        return;
    }
    let dir = PathBuf::from(std::env::var("EVE_DIR").unwrap());
    let plan = plan(
        env_u64("EVE_SEED"),
        env_u64("EVE_COMMITS"),
        env_u64("EVE_MIXED"),
    );
    let specs = std::fs::read_to_string(std::env::var("EVE_SPECS").unwrap()).unwrap();
    let scratch = PathBuf::from(env_path());
    for (i, line) in specs.lines().enumerate() {
        let spec = Spec::parse(line);
        std::fs::write(&scratch, spec.build(&dir.join("states"))).unwrap();
        println!("try {i}");
        match verify_state(&scratch, &plan, &spec) {
            Ok((basis, rolled)) => println!("ok {i} {basis} {rolled}"),
            Err(problem) => println!("bad {i} {}", problem.replace('\n', " ")),
        }
    }
}

struct Outcome {
    states: usize,
    bad: Vec<String>,
    /// Each state that opened: its spec, basis and the roots recovery set back.
    opened: Vec<(Spec, u64, u64)>,
}

/// Verifies `specs` in child processes, a batch per child, both cores busy.
fn verify_all(dir: &Path, seed: u64, commits: u64, mode: u64, specs: &[Spec]) -> Outcome {
    let per_child = specs.len().div_ceil(2).max(1);
    let mut kids = vec![];
    for (c, chunk) in specs.chunks(per_child).enumerate() {
        let list = dir.join(format!("specs-{c}"));
        let text: Vec<String> = chunk.iter().map(Spec::line).collect();
        std::fs::write(&list, text.join("\n")).unwrap();
        let kid = spawn(
            "child_verify_states",
            &dir.join(format!("scratch-{c}.slab")),
            &[
                ("EVE_DIR", dir.display().to_string()),
                ("EVE_SPECS", list.display().to_string()),
                ("EVE_SEED", seed.to_string()),
                ("EVE_COMMITS", commits.to_string()),
                ("EVE_MIXED", mode.to_string()),
            ],
        );
        kids.push((kid, chunk));
    }
    let mut outcome = Outcome {
        states: 0,
        bad: vec![],
        opened: vec![],
    };
    for (mut kid, chunk) in kids {
        let mut trying = None;
        for line in kid.rest() {
            let mut words = line.splitn(3, ' ');
            let (word, i) = (words.next(), words.next().and_then(|i| i.parse().ok()));
            match (word, i) {
                (Some("try"), Some(i)) => trying = Some(i),
                (Some("ok"), Some(i)) => {
                    outcome.states += 1;
                    let mut rest = words.next().unwrap_or("").split(' ');
                    let mut number =
                        || rest.next().and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                    let (basis, rolled) = (number(), number());
                    let spec: &Spec = &chunk[i];
                    outcome.opened.push((spec.clone(), basis, rolled));
                }
                (Some("bad"), Some(i)) => {
                    outcome.states += 1;
                    let spec: &Spec = &chunk[i];
                    outcome
                        .bad
                        .push(format!("{}: {}", spec.line(), words.next().unwrap_or("")));
                }
                _ => {}
            }
        }
        let status = kid.status();
        assert!(
            status.success(),
            "verifying crashed ({status}) on state {:?}",
            trying.map(|i: usize| chunk[i].line())
        );
    }
    outcome
}

/// The recorded states and their mixtures for a durable run.
fn durable_specs(seed: u64, commits: u64, mixes: u64, lengths: &[u64]) -> Vec<Spec> {
    let mut rng = Rng::new(seed ^ 0xD15C);
    let mut specs: Vec<Spec> = (0..=commits).map(Spec::Exact).collect();
    for k in 0..commits {
        // Every page of commit k+1's data, with k's roots: the moment after its fdatasync.
        specs.push(Spec::Mix {
            k,
            seed: 0,
            grain: 4096,
            percent: 100,
        });
        for m in 0..mixes {
            specs.push(Spec::Mix {
                k,
                seed: rng.next(),
                grain: if m % 2 == 0 { 4096 } else { 512 },
                percent: [10, 50, 90][rng.below(3) as usize],
            });
        }
        let len = lengths[k as usize + 1] as usize;
        specs.push(Spec::Prefix {
            k,
            cut: rng.below(len as u64) as usize,
        });
    }
    specs
}

#[test]
fn every_recorded_and_torn_state_opens_to_a_prefix_of_acknowledged_commits() {
    const TEST: &str = "power_loss_durable";
    let commits = rounds(if cfg!(debug_assertions) { 30 } else { 60 });
    let mixes = 4;
    let seed = seed(TEST);
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let lengths = record(dir.path(), seed, commits, ALL_SYNCED).lengths;
    let specs = durable_specs(seed, commits, mixes, &lengths);
    let outcome = verify_all(dir.path(), seed, commits, ALL_SYNCED, &specs);
    assert!(
        outcome.bad.is_empty(),
        "seed {seed}: {} of {} states are not a prefix of the acknowledged commits:\n{}",
        outcome.bad.len(),
        outcome.states,
        outcome.bad.join("\n")
    );
    assert_eq!(outcome.states, specs.len());
    let grown = lengths.windows(2).filter(|w| w[1] > w[0]).count();
    figure(
        TEST,
        &format!(
            "{commits} synced commits recorded ({grown} of them grew the file), {} states \
             reopened ({} recorded, {} torn mixtures of consecutive states), all opened to \
             exactly the acknowledged prefix, checked and took a new commit; {:.1}s",
            outcome.states,
            commits + 1,
            outcome.states as u64 - commits - 1,
            started.elapsed().as_secs_f64()
        ),
    );
}

/// The file length is metadata that reaches the disk with the journal, the header page
/// with page writeback: in between, the header can be ahead of the file.
#[test]
fn a_header_ahead_of_the_file_length_still_opens() {
    const TEST: &str = "power_loss_header_ahead";
    let commits = rounds(40);
    let seed = seed(TEST);
    let dir = tempfile::tempdir().unwrap();
    let lengths = record(dir.path(), seed, commits, ALL_SYNCED).lengths;
    let specs: Vec<Spec> = (0..commits)
        .filter(|&k| lengths[k as usize + 1] > lengths[k as usize])
        .map(Spec::HeaderAhead)
        .collect();
    assert!(!specs.is_empty(), "no commit grew the file");
    let outcome = verify_all(dir.path(), seed, commits, ALL_SYNCED, &specs);
    assert!(
        outcome.bad.is_empty(),
        "seed {seed}: {} of {} states do not open:\n{}",
        outcome.bad.len(),
        outcome.states,
        outcome.bad.join("\n")
    );
    assert_eq!(outcome.states, specs.len());
    figure(
        TEST,
        &format!(
            "{commits} synced commits recorded, {} of them grew the file; each growth's header \
             page over the state before it opened, checked and took a new commit",
            specs.len()
        ),
    );
}

/// Unsynced commits between synced ones: the root of an unsynced commit may be written
/// back before its data, and then the synced commits before it must still be readable.
#[test]
fn unsynced_roots_written_back_early_keep_the_synced_prefix() {
    const TEST: &str = "power_loss_mixed_durability";
    let commits = rounds(30);
    let seed = seed(TEST);
    let dir = tempfile::tempdir().unwrap();
    record(dir.path(), seed, commits, EVERY_SECOND);
    // State k (after synced commit k, k even) with the roots of unsynced commit k+1 —
    // unless a checkpoint ran during commit k+1 (retired blocks past the backlog): then
    // its data was synced before its root table could hold a new synced value, and that
    // root table over state k's data is no state a disk can be left in.
    let states = dir.path().join("states");
    let synced_value = |k: u64| {
        let bytes = std::fs::read(states.join(format!("{k}.slab"))).unwrap();
        let entry = ROOT_TABLE.start;
        assert_eq!(&bytes[entry + 48..entry + 50], b"db");
        u64_of(&bytes[entry + 40..entry + 48])
    };
    let specs: Vec<Spec> = (0..commits)
        .filter(|&k| k % 2 == 0 && synced_value(k + 1) == synced_value(k))
        .map(|k| Spec::RootAhead { k, later: k + 1 })
        .collect();
    assert!(
        specs.len() as u64 >= commits / 4,
        "seed {seed}: only {} pairs without a checkpoint in between",
        specs.len()
    );
    let outcome = verify_all(dir.path(), seed, commits, EVERY_SECOND, &specs);
    assert!(
        outcome.bad.is_empty(),
        "seed {seed}: {} of {} states lost synced commits:\n{}",
        outcome.bad.len(),
        outcome.states,
        outcome.bad.join("\n")
    );
    assert_eq!(outcome.states, specs.len());
    figure(
        TEST,
        &format!(
            "{commits} commits recorded, every second one synced; {} states (a synced commit's \
             state with the root table of the unsynced commit after it) all opened to the \
             synced prefix or the whole, checked and took a new commit",
            specs.len()
        ),
    );
}

/// The blocks of a root's synced value stay as they are through any number of unsynced
/// commits after it (the sync floor keeps reclamation from reusing them), so a recovery
/// that must fall back to it finds a whole version, however far back: exactly the synced
/// one when the unsynced commits retired too little to make a checkpoint worth it, the
/// last checkpoint otherwise.
#[test]
fn a_synced_version_stays_whole_behind_many_unsynced_commits() {
    const TEST: &str = "power_loss_fallback_far_back";
    let seed = seed(TEST);
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut figures = vec![];
    for (run, (commits, max)) in [(41u64, 6u64), (301, 24)].into_iter().enumerate() {
        let path = dir.path().join(format!("live-{run}.slab"));
        let copy = dir.path().join(format!("lost-{run}.slab"));
        let slab = eve::Slab::open(&path).unwrap();
        let db = slab.database(DB).unwrap();
        let mut batches = vec![];
        for seq in 1..=commits {
            let batch = Batch::random(&mut rng, 0, seq, max);
            let durability = if seq == 1 {
                Durability::Synced
            } else {
                Durability::None
            };
            let report = db
                .with_durability(durability)
                .transact(&batch.changes)
                .unwrap();
            assert_eq!(report.t, seq);
            batches.push(batch);
        }
        let retired = slab.stats().retired_blocks;
        // A copy while the slab is open: recovery runs when it is opened.
        std::fs::copy(&path, &copy).unwrap();
        drop(slab);
        // The root of the last commit reached the disk, its blocks did not: it names a
        // place that holds no block.
        let mut bytes = std::fs::read(&copy).unwrap();
        let heap_start = u64_of(&bytes[64..72]);
        let entry = ROOT_TABLE.start;
        assert_eq!(&bytes[entry + 48..entry + 50], b"db");
        bytes[entry..entry + 8].copy_from_slice(&(heap_start + 24).to_le_bytes());
        std::fs::write(&copy, &bytes).unwrap();

        let slab = eve::Slab::open(&copy).unwrap();
        assert_eq!(slab.stats().rolled_back_roots, 1);
        let check = slab.check().unwrap();
        assert_eq!(slab.stats().blocks_in_use, check.reachable_blocks);
        let db = slab.database(DB).unwrap();
        let basis = {
            let guard = slab.pin().unwrap();
            let snapshot = db.snapshot(&guard).unwrap();
            let basis = snapshot.basis_t();
            assert!((1..commits).contains(&basis), "opened at t {basis}");
            for (t, marker) in verify_log(&snapshot, 1).unwrap() {
                assert_eq!(marker, batches[t as usize - 1].marker(), "t {t}");
            }
            verify_indexes(&snapshot).unwrap();
            basis
        };
        if run == 0 {
            assert_eq!(
                basis, 1,
                "{retired} blocks were held back; no checkpoint was due"
            );
        }
        let report = db
            .transact(&Batch::random(&mut rng, 1, 0, 8).changes)
            .unwrap();
        assert_eq!(report.t, basis + 1);
        slab.check().unwrap();
        drop(slab);
        // The count of roots set back is kept in the file, and the C ABI reports it.
        assert_eq!(c_abi_stats(&copy).rolled_back_roots, 1);
        figures.push(format!(
            "1 synced commit and {} unsynced ({retired} blocks retired and held), the last \
             root lost its blocks: recovery fell back to t {basis}, whole",
            commits - 1
        ));
    }
    figure(TEST, &figures.join("; "));
}

/// Unsynced commits after a synced one, then a power loss: the kernel may have written any
/// dirty page back at any time, in any order, and torn any of them, so each 512-byte sector
/// (root table and header included) may hold what it held after any commit since the last
/// sync. Recovery must find the last commit whose tree is whole, or fall back to the
/// checkpoint; never a tree that merely looks whole.
#[test]
fn torn_unsynced_commits_open_whole_or_fall_back_to_the_checkpoint() {
    const TEST: &str = "power_loss_torn_unsynced";
    let commits = rounds(if cfg!(debug_assertions) { 30 } else { 60 });
    let seed = seed(TEST);
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(seed, commits, ONE_IN_SIX);
    let recording = record(dir.path(), seed, commits, ONE_IN_SIX);
    let states = dir.path().join("states");
    let read = |k: u64| std::fs::read(states.join(format!("{k}.slab"))).unwrap();
    // The database's root entry in each state: its value and its synced value.
    let entry = ROOT_TABLE.start;
    let roots: Vec<(u64, u64)> = (0..=commits)
        .map(|k| {
            let bytes = read(k);
            assert_eq!(&bytes[entry + 48..entry + 50], b"db");
            (
                u64_of(&bytes[entry..entry + 8]),
                u64_of(&bytes[entry + 40..entry + 48]),
            )
        })
        .collect();
    // A checkpoint (with every synced commit, or when retired blocks pile up behind the
    // sync floor) changes the synced value: after it, the disk holds at least the commit
    // whose root it recorded, whole.
    let barriers: Vec<u64> = (1..=commits)
        .filter(|&k| roots[k as usize].1 != roots[k as usize - 1].1)
        .collect();
    for (k, (_, synced)) in plan.iter().enumerate() {
        if *synced {
            assert!(
                barriers.contains(&(k as u64 + 1)),
                "synced commit {} made no checkpoint",
                k + 1
            );
        }
    }
    let unsynced_checkpoints = barriers
        .iter()
        .filter(|&&b| !plan[b as usize - 1].1)
        .count();
    let mut rng = Rng::new(seed ^ 0x7EA2);
    let mut specs: Vec<Spec> = (0..=commits).map(Spec::Exact).collect();
    let mut windows = vec![];
    let mut pairs = 0u64;
    for (i, &b) in barriers.iter().enumerate() {
        // The commit the checkpoint recorded: the last state whose root is its synced value.
        let synced = roots[b as usize].1 & !3;
        let c = (0..=b)
            .rev()
            .find(|&j| roots[j as usize].0 == synced)
            .expect("the synced value is a recorded root");
        let end = barriers.get(i + 1).copied().unwrap_or(commits + 1);
        if end > c + 1 {
            windows.push((c, end - 1));
        }
        for k in c + 1..end {
            // Two of the six per-grain distributions in turn, and two of each targeted one.
            pairs += 1;
            for how in [2 * pairs % 6, (2 * pairs + 1) % 6, 6, 6, 7, 7] {
                specs.push(Spec::Torn {
                    c,
                    k,
                    seed: rng.next(),
                    how,
                });
            }
        }
    }
    // Blocks freed and reused: retired blocks that went away, commits served from freed
    // space (the heap did not grow), and sectors of the heap holding data at a sync that
    // were overwritten by the unsynced commits after it (reused blocks).
    let stats = &recording.stats;
    let freed: u64 = stats
        .windows(2)
        .skip(1)
        .map(|w| w[0][0].saturating_sub(w[1][0]))
        .sum();
    let from_free_space = stats
        .windows(2)
        .skip(1)
        .filter(|w| w[1][3] == w[0][3])
        .count();
    let mut rewritten = 0u64;
    for &(c, last) in &windows {
        let old = read(c);
        let heap_start = u64_of(&old[64..72]) as usize;
        let mut hit = vec![false; old.len() / 512];
        for j in c + 1..=last {
            let new = read(j);
            for (s, hit) in hit.iter_mut().enumerate().skip(heap_start / 512) {
                let at = s * 512;
                let sector = &old[at..at + 512];
                if sector.iter().any(|&x| x != 0) && new[at..at + 512] != *sector {
                    *hit = true;
                }
            }
        }
        rewritten += hit.iter().filter(|&&h| h).count() as u64;
    }
    let outcome = verify_all(dir.path(), seed, commits, ONE_IN_SIX, &specs);
    let (mut at_c, mut at_k, mut between, mut rolled) = (0, 0, 0, 0);
    for (spec, basis, rolled_back) in &outcome.opened {
        if let Spec::Torn { c, k, .. } = *spec {
            match basis {
                b if *b == k => at_k += 1,
                b if *b == c => at_c += 1,
                _ => between += 1,
            }
            rolled += (*rolled_back > 0) as u64;
        }
    }
    let torn = specs.len() as u64 - commits - 1;
    figure(
        TEST,
        &format!(
            "{commits} commits recorded ({} synced, {unsynced_checkpoints} more checkpoints \
             from the sync floor's backlog); reuse: at least {freed} retired blocks freed, \
             {from_free_space} commits without heap growth, {rewritten} heap sectors holding \
             data at a sync overwritten before the next; {} states reopened ({} recorded, \
             {torn} torn mixtures over {} windows): of the torn ones that opened, {at_c} at \
             the synced c, {at_k} at k, {between} in between, {rolled} rolled back; {} bad; \
             {:.1}s",
            plan.iter().filter(|p| p.1).count(),
            outcome.states,
            commits + 1,
            windows.len(),
            outcome.bad.len(),
            started.elapsed().as_secs_f64()
        ),
    );
    assert!(
        outcome.bad.is_empty(),
        "seed {seed}: {} of {} states did not open whole to a commit between the sync and \
         the power loss:\n{}",
        outcome.bad.len(),
        outcome.states,
        outcome.bad.join("\n")
    );
    assert_eq!(outcome.states, specs.len());
}

/// The counters of the slab file `path` as `eve_slab_stats` gives them.
fn c_abi_stats(path: &Path) -> eve::ffi::eve_stats {
    let path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let mut slab = std::ptr::null_mut();
    let mut stats = eve::ffi::eve_stats::default();
    // SAFETY: a NUL-terminated path, NULL options, and out-pointers to live locals; the
    // handle is closed once, after its last use.
    unsafe {
        assert_eq!(
            eve::ffi::eve_slab_open(path.as_ptr(), std::ptr::null(), &mut slab),
            eve::ffi::EveStatus::EVE_OK
        );
        assert_eq!(
            eve::ffi::eve_slab_stats(slab, &mut stats),
            eve::ffi::EveStatus::EVE_OK
        );
        assert_eq!(eve::ffi::eve_slab_close(slab), eve::ffi::EveStatus::EVE_OK);
    }
    stats
}
