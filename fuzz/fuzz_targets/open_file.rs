//! A real slab file (a map, a set, a B+tree and a database in it) damaged by the fuzzer's
//! writes — each 5 input bytes set the byte at a 32-bit offset, modulo the part in use —
//! is opened, checked and read: every step returns a result or an error, and nothing
//! crashes (no panic, no SIGSEGV or SIGBUS from following a damaged offset).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The undamaged file, built once.
fn pristine() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("pristine.slab");
        {
            let slab = eve::Slab::open(&path).expect("a slab");
            let map = slab.map("m").expect("a map");
            for i in 0u32..200 {
                map.insert(&i.to_le_bytes(), &[i as u8; 40])
                    .expect("insert");
            }
            let set = slab.set("s").expect("a set");
            set.insert(b"member").expect("insert");
            let tree = slab.btree("t").expect("a tree");
            tree.extend(
                (0u32..300)
                    .map(|i| i.to_be_bytes())
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|k| &k[..]),
            )
            .expect("extend");
            let db = slab.database("db").expect("a database");
            db.transact_edn(
                r#"[{:db/ident :p/name :db/valueType :db.type/string}]"#,
                None,
            )
            .expect("schema");
            db.transact_edn(r#"[{:p/name "Ada"} {:p/name "Bob"}]"#, None)
                .expect("data");
        }
        std::fs::read(&path).expect("the file")
    })
}

fuzz_target!(|writes: &[u8]| {
    let mut bytes = pristine().to_vec();
    // The header, the allocator's tables, the roots, the reader slots and the heap in use
    // all lie in the first 512 KiB of this small slab; the rest is unused file.
    let span = bytes.len().min(512 << 10);
    for write in writes.chunks_exact(5) {
        let at = u32::from_le_bytes(write[..4].try_into().unwrap()) as usize % span;
        bytes[at] = write[4];
    }
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("damaged.slab");
    std::fs::write(&path, &bytes).expect("write");
    let Ok(slab) = eve::Slab::open(&path) else {
        return;
    };
    let _ = slab.check();
    let _ = slab.stats();
    let Ok(roots) = slab.roots() else {
        return;
    };
    let Ok(guard) = slab.pin() else {
        return;
    };
    for root in roots {
        match root.kind {
            eve::RootKind::HamtMap | eve::RootKind::HamtSet => {
                if let Ok(map) = slab.map_at(root.index) {
                    if let Ok(snapshot) = map.snapshot(&guard) {
                        for entry in snapshot.iter().take(1000) {
                            if entry.is_err() {
                                break;
                            }
                        }
                        let _ = snapshot.get(&7u32.to_le_bytes());
                    }
                }
            }
            eve::RootKind::BTree => {
                if let Ok(tree) = slab.btree(&root.name) {
                    if let Ok(snapshot) = tree.snapshot(&guard) {
                        for key in snapshot.iter().take(1000) {
                            if key.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
            eve::RootKind::Dao => {
                if let Ok(db) = slab.database(&root.name) {
                    if let Ok(snapshot) = db.snapshot(&guard) {
                        let _ = eve::query::q_edn(
                            &snapshot,
                            eve::dao::View::Current,
                            "[:find ?e ?n :where [?e :p/name ?n]]",
                            None,
                        );
                    }
                }
            }
            _ => {}
        }
    }
});
