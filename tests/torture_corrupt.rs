//! Corrupted files (RELIABILITY.md): many random byte flips, overwritten words, zeroed or
//! misplaced pages and truncations, across the header, the allocator table, the root
//! table, the reader slots, page headers and nodes of a slab holding a DaoDB database, a
//! map, a set and a B+tree. Every damaged file goes through open, check, reads of every
//! structure (index scans, the log, entities, queries, pulls), writes, reclamation and
//! recovery — in child processes, many files each, so that a SIGSEGV or SIGBUS is a
//! failed test, not a dead harness. An error is fine; a signal is not.
//!
//! `EVE_TORTURE_ROUNDS` sets the number of damaged files (default 600 in release),
//! `EVE_TORTURE_SEED` the seed.

mod common;

use common::torture::*;
use common::*;
use eve::dao::{Index, View};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SCHEMA: &str = r#"[
  {:db/ident :p/email :db/valueType :db.type/string :db/unique :db.unique/identity}
  {:db/ident :p/name :db/valueType :db.type/string}
  {:db/ident :p/age :db/valueType :db.type/long}
  {:db/ident :p/tag :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
  {:db/ident :p/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
  {:db/ident :p/blob :db/valueType :db.type/bytes}
]"#;

const QUERIES: &[&str] = &[
    "[:find ?n ?a :where [?e :p/name ?n] [?e :p/age ?a] [(> ?a 30)]]",
    "[:find (count ?e) . :where [?e :p/email _]]",
    "[:find ?n :where [?e :p/friend ?f] [?f :p/friend ?e] [?e :p/name ?n]]",
    "[:find ?e ?t :where [?e :p/tag ?t] (not [?e :p/age 40])]",
];

/// A slab with something of every kind in it: a database built through the transactor
/// and through raw batches, with long values and history; a map with small, large and
/// removed entries; a set; a B+tree; retired and free blocks.
fn build_base(path: &Path) {
    let slab = eve::Slab::open(path).unwrap();
    let db = slab.database("db").unwrap();
    db.transact_edn(SCHEMA, None).unwrap();
    for chunk in 0..10 {
        let people: Vec<String> = (0..30)
            .map(|i| {
                let n = chunk * 30 + i;
                // A friend from the same transaction (by tempid) or an earlier one (by
                // lookup ref), so that friendships form cycles across transactions.
                let friend = if chunk == 0 {
                    format!(r#""p{}""#, (n * 7) % 30)
                } else {
                    format!(r#"[:p/email "p{}@x"]"#, (n * 7) % (chunk * 30))
                };
                format!(
                    r#"{{:db/id "p{n}" :p/email "p{n}@x" :p/name "Person {n}" :p/age {} :p/tag ["t{}" "t{}"] :p/friend [{friend}]}}"#,
                    20 + n % 50,
                    n % 7,
                    n % 11,
                )
            })
            .collect();
        db.transact_edn(&format!("[{}]", people.join(" ")), None)
            .unwrap();
    }
    // Raw batches: every value type, history, and values long enough for key blocks.
    let mut rng = Rng::new(7);
    for seq in 0..60 {
        db.transact(&Batch::random(&mut rng, 1, seq, 40).changes)
            .unwrap();
    }
    let map = slab.map("m").unwrap();
    for i in 0..1500u64 {
        map.insert(&i.to_le_bytes(), &vec![i as u8; (i % 200) as usize])
            .unwrap();
    }
    for i in (0..1500u64).step_by(4) {
        map.remove(&i.to_le_bytes()).unwrap();
    }
    map.insert(b"big", &vec![7u8; 150_000]).unwrap();
    slab.set("s")
        .unwrap()
        .apply(&[b"a", b"b", b"c", b"d"], &[])
        .unwrap();
    let tree = slab.btree("b").unwrap();
    let keys: Vec<Vec<u8>> = (0..800u64)
        .map(|i| format!("key-{i:05}").into_bytes())
        .collect();
    tree.extend(keys.iter().map(|k| &k[..])).unwrap();
    slab.reclaim().unwrap();
}

/// One way of damaging a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    /// Bit flips in the first 128 bytes (fixed header, checksummed).
    FixedHeader,
    /// Random words in the mutable header (file length, heap top, epochs, counters).
    MutableHeader,
    /// Random words in the allocator table (free-list heads and tags).
    AllocTable,
    /// Random words or flips in the root table (root words, kinds, names).
    RootTable,
    /// Random words in the reader slots.
    ReaderSlots,
    /// Random words in a page header.
    PageHeader,
    /// Bit flips anywhere in the heap.
    HeapFlips,
    /// Words in the heap replaced by plausible offsets (inside the file, 8-aligned).
    HeapOffsets,
    /// A 4 KiB page of the heap zeroed (a lost write).
    ZeroPage,
    /// A 4 KiB page of the heap replaced by another one (a misdirected write).
    MovedPage,
    /// The file cut short.
    Truncate,
}

const DAMAGES: [Damage; 11] = [
    Damage::FixedHeader,
    Damage::MutableHeader,
    Damage::AllocTable,
    Damage::RootTable,
    Damage::ReaderSlots,
    Damage::PageHeader,
    Damage::HeapFlips,
    Damage::HeapOffsets,
    Damage::ZeroPage,
    Damage::MovedPage,
    Damage::Truncate,
];

const HEAP_START: usize = 128 * 1024;
const PAGE: usize = 65536;

/// The damaged file, and where it was damaged.
fn damage(base: &[u8], which: Damage, rng: &mut Rng) -> (Vec<u8>, String) {
    let mut bytes = base.to_vec();
    let len = bytes.len();
    let notes = std::cell::RefCell::new(Vec::<String>::new());
    let word = |bytes: &mut Vec<u8>, at: usize, value: u64| {
        notes.borrow_mut().push(format!("word@{at}={value:#x}"));
        bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    };
    let flip = |bytes: &mut Vec<u8>, at: usize, bit: u64| {
        notes.borrow_mut().push(format!("flip@{at}.{bit}"));
        bytes[at] ^= 1 << bit
    };
    // Random words mixing small numbers, offsets inside the file and noise.
    let value = |rng: &mut Rng| match rng.below(4) {
        0 => rng.below(16),
        1 => rng.below(len as u64) & !7,
        2 => rng.below(len as u64 * 4),
        _ => rng.next(),
    };
    let times = 1 + rng.below(4);
    match which {
        Damage::FixedHeader => {
            for _ in 0..times {
                let at = rng.below(128) as usize;
                flip(&mut bytes, at, rng.below(8));
            }
        }
        Damage::MutableHeader => {
            for _ in 0..times {
                let at = (128 + rng.below((4096 - 128) / 8) * 8) as usize;
                let v = value(rng);
                word(&mut bytes, at, v);
            }
        }
        Damage::AllocTable => {
            for _ in 0..times {
                let at = (4096 + rng.below(8192 / 8) * 8) as usize;
                let v = value(rng);
                word(&mut bytes, at, v);
            }
        }
        Damage::RootTable => {
            for _ in 0..times {
                // Mostly the first entries, which are in use.
                let entry = 12288 + rng.below(8) as usize * 128;
                let at = entry + rng.below(16) as usize * 8;
                if rng.chance(50) {
                    let v = value(rng);
                    word(&mut bytes, at, v);
                } else {
                    flip(&mut bytes, at + rng.below(8) as usize, rng.below(8));
                }
            }
        }
        Damage::ReaderSlots => {
            for _ in 0..times {
                let at = (45056 + rng.below(8 * 8) * 8) as usize;
                let v = value(rng);
                word(&mut bytes, at, v);
            }
        }
        Damage::PageHeader => {
            let pages = (len - HEAP_START) / PAGE;
            for _ in 0..times {
                let at = HEAP_START
                    + rng.below(pages as u64) as usize * PAGE
                    + rng.below(4) as usize * 8;
                let v = value(rng);
                word(&mut bytes, at, v);
            }
        }
        Damage::HeapFlips => {
            for _ in 0..rng.range(1, 33) {
                let at = HEAP_START + rng.below((len - HEAP_START) as u64) as usize;
                flip(&mut bytes, at, rng.below(8));
            }
        }
        Damage::HeapOffsets => {
            for _ in 0..times {
                let at = HEAP_START + (rng.below((len - HEAP_START) as u64 / 8) * 8) as usize;
                let v = value(rng);
                word(&mut bytes, at, v);
            }
        }
        Damage::ZeroPage => {
            let at = HEAP_START + rng.below(((len - HEAP_START) / 4096) as u64) as usize * 4096;
            notes.borrow_mut().push(format!("zero@{at}"));
            bytes[at..at + 4096].fill(0);
        }
        Damage::MovedPage => {
            let pages = ((len - HEAP_START) / 4096) as u64;
            let to = HEAP_START + rng.below(pages) as usize * 4096;
            let from = HEAP_START + rng.below(pages) as usize * 4096;
            let page = bytes[from..from + 4096].to_vec();
            notes.borrow_mut().push(format!("copy@{from}->{to}"));
            bytes[to..to + 4096].copy_from_slice(&page);
        }
        Damage::Truncate => {
            let cut = match rng.below(3) {
                0 => rng.below(len as u64) as usize,
                1 => rng.below((len / 4096) as u64) as usize * 4096,
                _ => len - 1 - rng.below(4096) as usize,
            };
            notes.borrow_mut().push(format!("cut@{cut}"));
            bytes.truncate(cut);
        }
    }
    let notes = notes.into_inner().join(" ");
    (bytes, notes)
}

/// Does the damage leave a root entry claimed by a process that looks alive but not ready?
/// Every root lookup then waits 2 s for that process before it reports `Busy` (see
/// `a_damaged_root_claim_does_not_hang_lookups`), and the exercise makes a dozen lookups,
/// so such files (about one in 700) are left out of the main run to keep it short, and
/// counted; `EVE_NO_SKIP=1` includes them.
fn claimed_by_the_living(bytes: &[u8]) -> bool {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    if bytes.len() < 45056 {
        return false;
    }
    (0..256).any(|i| {
        let entry = 12288 + 128 * i;
        let (state, claimer) = (word(entry + 16), word(entry + 24));
        (state == 0 || state == 1) && claimer != 0 && owner_looks_alive(claimer)
    })
}

/// eve's liveness test for an owner word (pid in the low half, start time in the high
/// half; a zero start time matches any process with that pid).
fn owner_looks_alive(owner: u64) -> bool {
    let pid = owner as u32;
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let start: u64 = fields[19].parse().unwrap_or(0);
    !matches!(fields[0], "Z" | "X" | "x")
        && ((owner >> 32) == 0 || (owner >> 32) as u32 == start as u32)
}

/// What one damaged file did.
#[derive(Default)]
struct Seen {
    /// What `exercise` was doing last (reported with a panic).
    stage: &'static str,
    refused_at_open: bool,
    check_failed: bool,
    read_errors: u64,
    write_errors: u64,
}

/// Every read of every structure; returns the number of errors.
fn reads(slab: &eve::Slab) -> u64 {
    const LIMIT: usize = 100_000;
    let mut errors = 0u64;
    let mut count = |r: bool| errors += r as u64;
    if let Ok(db) = slab.database("db") {
        if let Ok(guard) = slab.pin() {
            match db.snapshot(&guard) {
                Ok(snapshot) => {
                    for index in Index::ALL {
                        for view in [View::Current, View::History, View::AsOf(5), View::Since(3)] {
                            for d in snapshot.range(index, view, &[], None).take(LIMIT) {
                                count(d.is_err());
                            }
                        }
                        let _ = snapshot.estimate(index, &[]);
                    }
                    for d in snapshot.log_from(1).take(LIMIT) {
                        count(d.is_err());
                    }
                    for e in [1u64, 20, 1 << 20, (1 << 20) + 7, 1000, 1010] {
                        count(snapshot.entity(e).is_err());
                        count(snapshot.entity_edn(e).is_err());
                    }
                    count(snapshot.resolve_entity("[:p/email \"p3@x\"]").is_err());
                    for query in QUERIES {
                        count(eve::query::q(&snapshot, query, &[]).is_err());
                    }
                    count(
                        eve::query::pull_edn(
                            &snapshot,
                            "[* {:p/friend [:p/name]}]",
                            "[:p/email \"p5@x\"]",
                        )
                        .is_err(),
                    );
                }
                Err(_) => count(true),
            }
        }
    }
    if let Ok(map) = slab.map("m") {
        if let Ok(guard) = slab.pin() {
            if let Ok(snapshot) = map.snapshot(&guard) {
                for entry in snapshot.iter().take(LIMIT) {
                    count(entry.is_err());
                }
                for i in 0..200u64 {
                    count(snapshot.get(&i.to_le_bytes()).is_err());
                }
                count(snapshot.get(b"big").is_err());
                let _ = snapshot.len();
            }
        }
        count(map.len().is_err());
    }
    if let Ok(set) = slab.set("s") {
        if let Ok(guard) = slab.pin() {
            if let Ok(snapshot) = set.snapshot(&guard) {
                for entry in snapshot.iter().take(LIMIT) {
                    count(entry.is_err());
                }
            }
            count(set.contains(&guard, b"b").is_err());
        }
    }
    if let Ok(tree) = slab.btree("b") {
        if let Ok(guard) = slab.pin() {
            if let Ok(snapshot) = tree.snapshot(&guard) {
                for key in snapshot.iter().take(LIMIT) {
                    count(key.is_err());
                }
                count(snapshot.contains(b"key-00400").is_err());
                count(snapshot.len().is_err());
            }
        }
    }
    errors
}

/// Every operation on a damaged file; errors are counted, never unwrapped. Scans are
/// bounded so that a damaged structure cannot keep a scan going for long.
fn exercise(path: &Path, seen: &mut Seen) {
    // First a read-only look, which never recovers: reads of the file as it is.
    seen.stage = "read-only open";
    let options = eve::OpenOptions {
        read_only: true,
        ..Default::default()
    };
    if let Ok(reader) = eve::Slab::open_with(path, &options) {
        seen.stage = "read-only check";
        let _ = reader.stats();
        let _ = reader.readers();
        seen.check_failed |= reader.check().is_err();
        let _ = reader.audit();
        seen.stage = "read-only read";
        seen.read_errors += reads(&reader);
        seen.stage = "read-only close";
    }
    seen.stage = "open";
    let mut slab = match eve::Slab::open(path) {
        Ok(slab) => slab,
        Err(_) => {
            seen.refused_at_open = true;
            return;
        }
    };
    seen.stage = "check";
    let _ = slab.stats();
    let _ = slab.roots();
    let _ = slab.readers();
    let _ = slab.retired();
    seen.check_failed = slab.check().is_err();
    let _ = slab.audit();
    seen.stage = "read";
    seen.read_errors += reads(&slab);
    seen.stage = "write";
    // Writes: each may fail; none may crash.
    let mut errors = 0u64;
    let mut count = |r: bool| errors += r as u64;
    if let Ok(db) = slab.database("db") {
        let mut rng = Rng::new(3);
        count(
            db.transact(&Batch::random(&mut rng, 2, 0, 10).changes)
                .is_err(),
        );
        count(
            db.transact_edn(
                r#"[{:p/email "new@x" :p/name "New" :p/friend [[:p/email "p1@x"]]}]"#,
                None,
            )
            .is_err(),
        );
    }
    if let Ok(map) = slab.map("m") {
        for i in 0..20u64 {
            count(map.insert(&(i * 13).to_le_bytes(), b"rewritten").is_err());
            count(map.remove(&(i * 17).to_le_bytes()).is_err());
        }
    }
    if let Ok(tree) = slab.btree("b") {
        count(tree.insert(b"key-new").is_err());
        count(tree.remove(b"key-00001").is_err());
    }
    seen.stage = "reclaim";
    count(slab.reclaim().is_err());
    seen.stage = "recover";
    count(slab.recover().is_err());
    count(slab.check().is_err());
    seen.write_errors = errors;
    seen.stage = "close";
}

/// Damages the base file in every way the spec file lists and exercises each result:
/// prints `try <i>` before and `done <i> <open> <check> <reads> <writes>` or `panic <i>
/// <message>` after.
#[test]
#[ignore]
fn child_exercise_damaged() {
    if !is_child() {
        return;
    }
    let base = std::fs::read(std::env::var("EVE_BASE").unwrap()).unwrap();
    let specs = std::fs::read_to_string(std::env::var("EVE_SPECS").unwrap()).unwrap();
    let scratch = PathBuf::from(env_path());
    let last_panic = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let last_panic = last_panic.clone();
        std::panic::set_hook(Box::new(move |info| {
            *last_panic.lock().unwrap() = info.to_string().replace('\n', " ");
            if std::env::var_os("EVE_PANIC_BACKTRACE").is_some() {
                eprintln!("{info}\n{}", std::backtrace::Backtrace::force_capture());
            }
        }));
    }
    for line in specs.lines() {
        let v: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
        let (i, which, seed) = (v[0], DAMAGES[v[1] as usize], v[2]);
        let (bytes, notes) = damage(&base, which, &mut Rng::new(seed));
        if std::env::var_os("EVE_NO_SKIP").is_none() && claimed_by_the_living(&bytes) {
            println!("skip {i}");
            continue;
        }
        std::fs::write(&scratch, &bytes).unwrap();
        println!("try {i} {notes}");
        let mut seen = Seen::default();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            exercise(&scratch, &mut seen)
        }));
        match result {
            Ok(()) => println!(
                "done {i} {} {} {} {}",
                seen.refused_at_open as u8,
                seen.check_failed as u8,
                seen.read_errors,
                seen.write_errors
            ),
            Err(_) => println!(
                "panic {i} {} (open refused {}, check failed {}): {}",
                seen.stage,
                seen.refused_at_open,
                seen.check_failed,
                last_panic.lock().unwrap()
            ),
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    files: u64,
    refused_at_open: u64,
    check_failed: u64,
    read_errors: u64,
    files_with_read_errors: u64,
    write_errors: u64,
    files_with_write_errors: u64,
    unnoticed: u64,
    /// Files left out because their lookups would each wait 2 s (`claimed_by_the_living`).
    skipped: u64,
    panics: Vec<String>,
    crashes: Vec<String>,
    /// Per kind of damage: (files, files where something reported it).
    by_kind: BTreeMap<String, (u64, u64)>,
}

/// Runs `specs` (`(i, damage, seed)`) in child processes, two at a time.
fn run(dir: &Path, base: &Path, specs: &[Spec], per_child: usize) -> Tally {
    let mut tally = Tally::default();
    let chunks: Vec<&[Spec]> = specs.chunks(per_child).collect();
    for pair in chunks.chunks(2) {
        let kids: Vec<(Kid, &[Spec])> = pair
            .iter()
            .enumerate()
            .map(|(c, chunk)| {
                let list = dir.join(format!("specs-{c}"));
                let text: Vec<String> = chunk
                    .iter()
                    .map(|(i, d, s)| format!("{i} {d} {s}"))
                    .collect();
                std::fs::write(&list, text.join("\n")).unwrap();
                let kid = spawn(
                    "child_exercise_damaged",
                    &dir.join(format!("damaged-{c}.slab")),
                    &[
                        ("EVE_BASE", base.display().to_string()),
                        ("EVE_SPECS", list.display().to_string()),
                    ],
                );
                (kid, *chunk)
            })
            .collect();
        for (mut kid, chunk) in kids {
            let mut notes = BTreeMap::new();
            let describe = |i: u64, notes: &BTreeMap<u64, String>| {
                let (_, d, s) = chunk.iter().find(|x| x.0 == i).unwrap();
                format!(
                    "{:?} seed {s} [{}]",
                    DAMAGES[*d],
                    notes.get(&i).map_or("", |n| n.as_str())
                )
            };
            // A hang is a failure too: the watchdog kills a child that stops reporting.
            let pid = kid.pid();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let watchdog = std::thread::spawn(move || loop {
                match rx.recv_timeout(Duration::from_secs(60)) {
                    Ok(()) => continue,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return false,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        // SAFETY: signalling our own child.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                        return true;
                    }
                }
            });
            let mut trying = None;
            while let Some(line) = kid.line() {
                let _ = tx.send(());
                let words: Vec<&str> = line.splitn(3, ' ').collect();
                let i = words.get(1).and_then(|w| w.parse::<u64>().ok());
                match (words[0], i) {
                    ("try", Some(i)) => {
                        trying = Some(i);
                        notes.insert(i, words.get(2).unwrap_or(&"").to_string());
                    }
                    ("done", Some(i)) => {
                        let v: Vec<u64> = words[2].split(' ').map(|x| x.parse().unwrap()).collect();
                        let (_, d, _) = chunk.iter().find(|x| x.0 == i).unwrap();
                        let kind = tally
                            .by_kind
                            .entry(format!("{:?}", DAMAGES[*d]))
                            .or_default();
                        kind.0 += 1;
                        kind.1 += (v[0] + v[1] + v[2] + v[3] > 0) as u64;
                        tally.files += 1;
                        tally.refused_at_open += v[0];
                        tally.check_failed += v[1];
                        tally.read_errors += v[2];
                        tally.files_with_read_errors += (v[2] > 0) as u64;
                        tally.unnoticed += (v[0] + v[1] + v[2] + v[3] == 0) as u64;
                        tally.write_errors += v[3];
                        tally.files_with_write_errors += (v[3] > 0) as u64;
                        trying = None;
                    }
                    ("skip", Some(_)) => {
                        tally.files += 1;
                        tally.skipped += 1;
                        trying = None;
                    }
                    ("panic", Some(i)) => {
                        tally.files += 1;
                        let what = words.get(2).unwrap_or(&"");
                        tally
                            .panics
                            .push(format!("{}: {what}", describe(i, &notes)));
                        trying = None;
                    }
                    _ => {}
                }
            }
            // Stop the watchdog before reaping, so it never signals a reused pid.
            drop(tx);
            let hung = watchdog.join().unwrap();
            let status = kid.status();
            if !status.success() {
                tally.crashes.push(format!(
                    "{} on {}",
                    if hung {
                        "hang".to_string()
                    } else {
                        status.to_string()
                    },
                    trying.map_or("?".to_string(), |i| describe(i, &notes))
                ));
            }
        }
    }
    tally
}

/// One damaged file to try: its number, the index of its kind of damage in `DAMAGES`, and
/// the seed of the damage.
type Spec = (u64, usize, u64);

fn specs(seed: u64, files: u64) -> Vec<Spec> {
    let mut rng = Rng::new(seed);
    (0..files)
        .map(|i| (i, (i % DAMAGES.len() as u64) as usize, rng.next()))
        .collect()
}

/// Builds the two bases in `dir` (one closed cleanly, one copied while open, which the
/// open must recover) and checks that, undamaged, they go through everything without a
/// single error.
fn bases(dir: &Path) -> (PathBuf, PathBuf) {
    let clean = dir.join("clean.slab");
    build_base(&clean);
    let open = dir.join("open.slab");
    let keep = eve::Slab::open(&clean).unwrap();
    std::fs::copy(&clean, &open).unwrap();
    drop(keep);
    for base in [&clean, &open] {
        let copy = dir.join("undamaged.slab");
        std::fs::copy(base, &copy).unwrap();
        let mut seen = Seen::default();
        exercise(&copy, &mut seen);
        assert!(
            !seen.refused_at_open
                && !seen.check_failed
                && seen.read_errors == 0
                && seen.write_errors == 0,
            "the undamaged base reports errors"
        );
    }
    (clean, open)
}

/// Damages `files` copies (half of each base) and exercises them all.
fn torture(files: u64, seed: u64) -> Tally {
    let dir = tempfile::tempdir().unwrap();
    let (clean, open) = bases(dir.path());
    let all = specs(seed, files);
    let (first, second) = all.split_at(all.len() / 2);
    let mut total = Tally::default();
    for (base, specs) in [(&clean, first), (&open, second)] {
        let t = run(dir.path(), base, specs, specs.len().div_ceil(2).max(1));
        total.files += t.files;
        total.refused_at_open += t.refused_at_open;
        total.check_failed += t.check_failed;
        total.read_errors += t.read_errors;
        total.files_with_read_errors += t.files_with_read_errors;
        total.write_errors += t.write_errors;
        total.files_with_write_errors += t.files_with_write_errors;
        total.unnoticed += t.unnoticed;
        total.skipped += t.skipped;
        total.panics.extend(t.panics);
        total.crashes.extend(t.crashes);
        for (kind, (n, noticed)) in t.by_kind {
            let entry = total.by_kind.entry(kind).or_default();
            entry.0 += n;
            entry.1 += noticed;
        }
    }
    assert!(
        total.crashes.is_empty(),
        "seed {seed}: damaged files crashed or hung the process:\n{}",
        total.crashes.join("\n")
    );
    assert_eq!(total.files, files, "some damaged files were never tried");
    total
}

#[test]
fn damaged_files_give_errors_never_signals() {
    const TEST: &str = "damaged_files";
    let files = rounds(if cfg!(debug_assertions) { 330 } else { 660 });
    let seed = seed(TEST);
    let started = Instant::now();
    let total = torture(files, seed);
    // Opening, checking, reading, writing, reclaiming, recovering and closing a damaged
    // slab return errors: no signal (checked in `torture`), no panic.
    assert!(
        total.panics.is_empty(),
        "seed {seed}: damaged files made eve panic:\n{}",
        total.panics.join("\n")
    );
    figure(
        TEST,
        &format!(
            "{} damaged files (11 kinds of damage, half on a cleanly closed slab, half on one \
             needing recovery): {} refused at open, {} failed check, {} gave read errors ({} \
             errors), {} gave write errors ({} errors), {} unnoticed (damage in free space or \
             unused fields, or repaired by recovery), {} left out (a root entry claimed by a \
             live process: every lookup waits 2 s); no signal, no panic, no hang; {:.1}s; \
             noticed per kind: {}",
            total.files,
            total.refused_at_open,
            total.check_failed,
            total.files_with_read_errors,
            total.read_errors,
            total.files_with_write_errors,
            total.write_errors,
            total.unnoticed,
            total.skipped,
            started.elapsed().as_secs_f64(),
            total
                .by_kind
                .iter()
                .map(|(k, (n, noticed))| format!("{k} {noticed}/{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
}

/// A B+tree node whose keys are damaged (here a zeroed page of the cleanly closed base)
/// passes the checks of a read; a transaction that rewrites it must return an error. (When
/// this test was written `btree::node::encode` sliced every key with the prefix shared by
/// the first and the last key and panicked — range start out of range — found by the main
/// run with seed 1795636751531837850. Fixed since.)
#[test]
fn a_write_into_a_damaged_btree_node_returns_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (clean, _) = bases(dir.path());
    let base = std::fs::read(&clean).unwrap();
    // The first seed whose zeroed page lies inside an index node and leaves its header
    // whole: `check` then finds the node by its seal (any other damage is found by its
    // header). The base's layout changes with the allocator, so it is searched for.
    let probe = dir.path().join("probe.slab");
    let read_only = eve::OpenOptions {
        read_only: true,
        ..Default::default()
    };
    let seed = (0..1000u64)
        .find(|&seed| {
            let (bytes, _) = damage(&base, Damage::ZeroPage, &mut Rng::new(seed));
            std::fs::write(&probe, &bytes).unwrap();
            let Ok(slab) = eve::Slab::open_with(&probe, &read_only) else {
                return false;
            };
            slab.check().is_err_and(|e| {
                let text = e.to_string();
                text.contains("of kind 0x20 does not match its seal")
                    || text.contains("of kind 0x21 does not match its seal")
            })
        })
        .expect("no zeroed page inside an index node in 1000 seeds");
    let which = DAMAGES.iter().position(|d| *d == Damage::ZeroPage).unwrap();
    let tally = run(dir.path(), &clean, &[(0, which, seed)], 1);
    assert_eq!(tally.files, 1);
    assert!(tally.panics.is_empty(), "{:?}", tally.panics);
    assert!(
        tally.check_failed + tally.files_with_write_errors > 0,
        "the damage went unnoticed (seed {seed})"
    );
}

/// For reproducing a failure by hand: writes the two base files into `$EVE_DIR`
/// (`clean.slab`, `open.slab`); then run `child_exercise_damaged` on a spec file holding
/// `<i> <damage index> <seed>` lines (see RELIABILITY.md).
#[test]
#[ignore]
fn write_bases() {
    let Ok(dir) = std::env::var("EVE_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let clean = dir.join("clean.slab");
    let open = dir.join("open.slab");
    let _ = std::fs::remove_file(&clean);
    build_base(&clean);
    let keep = eve::Slab::open(&clean).unwrap();
    std::fs::copy(&clean, &open).unwrap();
    drop(keep);
}

/// A root entry whose claimer word names a live process but whose state is not ready
/// (what a damaged state or claimer word leaves, or a process stopped between claiming
/// an entry and naming it) must not hang root lookups. (When this test was written
/// `root::find` yielded in a loop for as long as the claimer was alive, with no bound —
/// and `process::is_alive` counts a word whose start-time half is zero as alive whenever a
/// process with that pid exists, so small damaged numbers qualify. The main run hung on
/// such a file. Now a lookup waits 2 s and reports `Busy`.)
#[test]
fn a_damaged_root_claim_does_not_hang_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claim.slab");
    {
        let slab = eve::Slab::open(&path).unwrap();
        slab.database("db").unwrap();
        slab.map("m").unwrap().insert(b"k", b"v").unwrap();
    }
    // Entry 0 ("db"): state 1 (being named), claimer = this process's pid with a zero
    // start time, as a damaged word may well read.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[12288 + 16..12288 + 24].copy_from_slice(&1u64.to_le_bytes());
    bytes[12288 + 24..12288 + 32].copy_from_slice(&(std::process::id() as u64).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let mut kid = spawn("child_look_up_roots", &path, &[]);
    let pid = kid.pid();
    let (done, rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            rx.recv_timeout(Duration::from_secs(10))
        {
            // SAFETY: signalling our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let lines = kid.rest();
    drop(done);
    watchdog.join().unwrap();
    let status = kid.status();
    assert!(
        status.success() && lines.iter().any(|l| l.starts_with("map")),
        "looking up roots hung ({status}); it printed {lines:?}"
    );
}

/// A damaged sync-role word that names a live process (found by the main run: the mutable
/// header's word at 592 read 6 or 15, pids that exist, and an explicit reclamation waited
/// for the role forever). Now a wait for the role gives up with `Busy` after 5 s of no
/// progress, and a sweep, which has the slab alone, takes the role back.
#[test]
fn a_damaged_sync_role_does_not_hang_reclamation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("role.slab");
    {
        let slab = eve::Slab::open(&path).unwrap();
        for i in 0..50u64 {
            slab.map("m")
                .unwrap()
                .insert(b"k", &i.to_le_bytes())
                .unwrap();
        }
    }
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[592..600].copy_from_slice(&(std::process::id() as u64).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let path_for_thread = path.clone();
    std::thread::spawn(move || {
        let mut slab = eve::Slab::open(&path_for_thread).unwrap();
        let started = std::time::Instant::now();
        let first = slab.reclaim().map_err(|e| e.kind());
        let waited = started.elapsed();
        // The sweep takes the role back; reclamation works again.
        let swept = slab.recover().map(|_| ()).map_err(|e| e.to_string());
        let second = slab.reclaim().map(|_| ()).map_err(|e| e.to_string());
        tx.send((first, waited, swept, second)).unwrap();
    });
    let (first, waited, swept, second) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("reclamation hung on a damaged sync-role word");
    assert_eq!(first.unwrap_err(), eve::ErrorKind::Busy);
    assert!(waited < Duration::from_secs(20), "{waited:?}");
    swept.unwrap();
    second.unwrap();
}

/// Opens the slab and looks up its roots, reporting each.
#[test]
#[ignore]
fn child_look_up_roots() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    println!("opened");
    println!("db {:?}", slab.database("db").map(|_| ()));
    println!("map {:?}", slab.map("m").map(|_| ()));
}

/// Creates a database with two transactions, then exits (so the root's claimer is dead,
/// as it usually is when a file is damaged).
#[test]
#[ignore]
fn child_make_database() {
    if !is_child() {
        return;
    }
    let slab = eve::Slab::open(env_path()).unwrap();
    let db = slab.database("db").unwrap();
    db.transact_edn(SCHEMA, None).unwrap();
    db.transact_edn(r#"[{:p/email "a@x" :p/name "A"}]"#, None)
        .unwrap();
    println!("made");
}

/// One flipped bit in the state word of a root entry (2, ready, becomes 0, empty) must be
/// noticed. It is not: the root table has no checksum and an "empty" entry that still has
/// a name, kind, value and claimer is not questioned; the root just disappears. `check`
/// passes (nothing is reachable), `database("db")` gives the entry back and creates a new,
/// empty database, and the next recovery frees the old one's blocks: the data is gone
/// without an error anywhere.
#[test]
fn a_flipped_root_state_bit_is_noticed() {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.slab");
    let mut kid = spawn("child_make_database", &path, &[]);
    kid.expect("made");
    kid.finish();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut word = [0u8; 8];
    file.read_exact_at(&mut word, 12288 + 16).unwrap();
    assert_eq!(u64::from_le_bytes(word), 2, "entry 0 is ready");
    file.write_all_at(&0u64.to_le_bytes(), 12288 + 16).unwrap();
    drop(file);
    let noticed = match eve::Slab::open(&path) {
        Err(_) => true,
        Ok(slab) => {
            slab.check().is_err()
                || match slab.database("db") {
                    Err(_) => true,
                    // Still the database it was: nothing lost.
                    Ok(db) => db.basis_t().map_or(true, |t| t == 2),
                }
        }
    };
    assert!(
        noticed,
        "the database was replaced by an empty one without an error"
    );
}
