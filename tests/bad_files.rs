//! Files that are not healthy slabs are refused with a clear error, never a crash, and are
//! never modified by the attempt.

use eve::{ErrorKind, OpenOptions, Slab};
use std::path::Path;

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn refused(path: &Path, options: &OpenOptions) -> eve::Error {
    let before = std::fs::read(path).ok();
    let err = match Slab::open_with(path, options) {
        Ok(_) => panic!("{} was accepted", path.display()),
        Err(e) => e,
    };
    assert!(!err.message().is_empty());
    assert_eq!(
        std::fs::read(path).ok(),
        before,
        "a refused file was modified"
    );
    err
}

fn valid_slab(path: &Path) -> Vec<u8> {
    {
        let slab = Slab::open(path).unwrap();
        let map = slab.map("m").unwrap();
        for i in 0..2000u64 {
            map.insert(&i.to_le_bytes(), &[i as u8; 100]).unwrap();
        }
    }
    std::fs::read(path).unwrap()
}

#[test]
fn random_bytes_are_not_a_slab() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, len) in [
        (1, 1),
        (2, 7),
        (3, 8),
        (4, 100),
        (5, 4096),
        (6, 70_000),
        (7, 1 << 20),
    ] {
        let path = dir.path().join(format!("noise-{seed}"));
        std::fs::write(&path, noise(seed, len)).unwrap();
        for read_only in [false, true] {
            let options = OpenOptions {
                read_only,
                ..Default::default()
            };
            let err = refused(&path, &options);
            assert_eq!(err.kind(), ErrorKind::NotASlab, "{len} bytes: {err}");
        }
    }
}

#[test]
fn truncated_slabs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("whole.slab");
    let whole = valid_slab(&path);
    for cut in [
        8usize,
        100,
        4095,
        4096,
        60_000,
        200_000,
        whole.len() / 2,
        whole.len() - 1,
    ] {
        let cut_path = dir.path().join(format!("cut-{cut}"));
        std::fs::write(&cut_path, &whole[..cut]).unwrap();
        let err = refused(&cut_path, &OpenOptions::default());
        assert_eq!(err.kind(), ErrorKind::Corrupt, "cut at {cut}: {err}");
    }
}

#[test]
fn another_format_version_is_refused_with_a_version_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.slab");
    let mut bytes = valid_slab(&path);
    // Version 1 (B+tree slots without heads), version 2 (root entries without a seal and
    // a synced value), version 3 (blocks without seals) and a version from the future.
    for version in [1u32, 2, 3, 5] {
        bytes[8..12].copy_from_slice(&version.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let err = refused(&path, &OpenOptions::default());
        assert_eq!(err.kind(), ErrorKind::Version);
        assert!(
            err.message().contains(&format!("version {version}")),
            "{err}"
        );
    }
}

#[test]
fn a_damaged_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.slab");
    let whole = valid_slab(&path);
    for at in (12..120).step_by(7) {
        let mut bytes = whole.clone();
        bytes[at] ^= 0x40;
        let damaged = dir.path().join(format!("h-{at}"));
        std::fs::write(&damaged, &bytes).unwrap();
        let err = refused(&damaged, &OpenOptions::default());
        assert_eq!(err.kind(), ErrorKind::Corrupt, "byte {at}: {err}");
    }
}

#[test]
fn an_interrupted_creation_is_redone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("init.slab");
    // What a creator killed before writing the final magic leaves behind.
    let mut bytes = vec![0u8; 8192];
    bytes[..8].copy_from_slice(b"EVEINIT\0");
    std::fs::write(&path, &bytes).unwrap();
    let read_only = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    assert_eq!(refused(&path, &read_only).kind(), ErrorKind::NotASlab);
    let slab = Slab::open(&path).unwrap();
    slab.map("m").unwrap().insert(b"k", b"v").unwrap();
}

#[test]
fn paths_that_are_not_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Slab::open(dir.path())
        .err()
        .expect("a directory is not a slab");
    assert!(
        matches!(err.kind(), ErrorKind::Io | ErrorKind::NotASlab),
        "{err}"
    );
    let missing = dir.path().join("missing.slab");
    let read_only = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    let err = Slab::open_with(&missing, &read_only).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(!missing.exists(), "a read-only open created the file");
    let no_create = OpenOptions {
        create: false,
        ..Default::default()
    };
    assert!(Slab::open_with(&missing, &no_create).is_err());
    assert!(!missing.exists());
}

#[test]
fn read_only_handles_read_in_place_and_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.slab");
    let writer = Slab::open(&path).unwrap();
    writer.map("m").unwrap().insert(b"k", b"value").unwrap();
    let options = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    let reader = Slab::open_with(&path, &options).unwrap();
    assert!(reader.is_read_only());
    let map = reader.map("m").unwrap();
    let guard = reader.pin().unwrap();
    let value = map.get(&guard, b"k").unwrap().unwrap();
    assert_eq!(value, b"value");
    assert_eq!(
        map.insert(b"k2", b"v").unwrap_err().kind(),
        ErrorKind::ReadOnly
    );
    assert_eq!(
        reader.map("absent").err().unwrap().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(reader.reclaim().unwrap_err().kind(), ErrorKind::ReadOnly);
    // While a read-only handle is attached, writers free nothing it might be reading.
    let wmap = writer.map("m").unwrap();
    for i in 0..100u64 {
        wmap.insert(b"k", &i.to_le_bytes()).unwrap();
    }
    assert_eq!(writer.reclaim().unwrap().freed_blocks, 0);
    assert_eq!(value, b"value", "a read-only reader's slice changed");
    drop(guard);
    drop(reader);
    assert!(writer.reclaim().unwrap().freed_blocks > 0);
}

/// Random byte flips inside the heap (nodes, leaves, free lists, page headers): every read,
/// write, check and recovery either works or returns an error — no crash, no hang.
#[test]
fn damaged_heaps_give_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heap.slab");
    {
        let slab = Slab::open(&path).unwrap();
        let map = slab.map("m").unwrap();
        for i in 0..3000u64 {
            map.insert(&i.to_le_bytes(), &vec![i as u8; (i % 300) as usize])
                .unwrap();
        }
        for i in (0..3000u64).step_by(3) {
            map.remove(&i.to_le_bytes()).unwrap();
        }
        map.insert(b"big", &vec![9u8; 200_000]).unwrap();
        slab.set("s")
            .unwrap()
            .apply(&[b"a", b"b", b"c"], &[])
            .unwrap();
    }
    let whole = std::fs::read(&path).unwrap();
    let heap_start = 128 * 1024;
    let mut errors = 0;
    for seed in 0..60u64 {
        let mut bytes = whole.clone();
        let flips = noise(seed + 100, 64);
        for pair in flips.chunks(8).take(1 + (seed % 8) as usize) {
            let at = heap_start
                + (u64::from_le_bytes(pair.try_into().unwrap()) as usize)
                    % (bytes.len() - heap_start);
            bytes[at] ^= 1 << (pair[0] % 8);
        }
        let damaged = dir.path().join(format!("heap-{seed}.slab"));
        std::fs::write(&damaged, &bytes).unwrap();
        let Ok(mut slab) = Slab::open(&damaged) else {
            errors += 1;
            continue;
        };
        let map = slab.map("m").unwrap();
        {
            let guard = slab.pin().unwrap();
            if let Ok(snapshot) = map.snapshot(&guard) {
                let _ = snapshot.len();
                errors += snapshot.iter().take(10_000).filter(|r| r.is_err()).count();
                for i in 0..3000u64 {
                    let _ = snapshot.get(&i.to_le_bytes());
                }
            }
        }
        for i in 0..50u64 {
            let _ = map.insert(&(i * 7).to_le_bytes(), b"new value");
            let _ = map.remove(&(i * 11).to_le_bytes());
        }
        let _ = slab.set("s").and_then(|s| s.insert(b"d"));
        let _ = slab.reclaim();
        let _ = slab.check();
        let _ = slab.recover();
        let _ = slab.stats();
    }
    // Not every flip lands somewhere that matters, but many must have been noticed.
    assert!(errors > 0, "no damage was ever reported");
}

/// A root entry carries a seal: a checksum of its index, kind and name. Damage to any of
/// them is an error, never a root that silently disappears (or a new, empty one).
#[test]
fn a_damaged_root_entry_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.slab");
    let whole = valid_slab(&path);
    // Entry 0 is the map "m": its name's first byte, its kind, its seal's checksum.
    for at in [12288 + 48, 12288 + 32, 12288 + 36] {
        let mut bytes = whole.clone();
        bytes[at] ^= 0x04;
        std::fs::write(&path, &bytes).unwrap();
        let slab = Slab::open(&path).unwrap();
        let err = slab.map("m").err().expect("a damaged root was looked up");
        assert_eq!(err.kind(), ErrorKind::Corrupt, "byte {at}: {err}");
        assert!(slab.check().is_err(), "byte {at}: check passed");
        assert!(slab.roots().is_err(), "byte {at}: roots listed");
    }
}

/// A file short of its header's length at a growth boundary, in a slab not closed
/// cleanly, looks like a power loss between a growth and its sync: the opener grows it
/// back and sweeps. If reachable blocks lay in the lost part, the sweep fails, the open is
/// refused as corrupt, and the file is left exactly as it was found (cut back).
#[test]
fn a_file_cut_at_a_growth_boundary_with_data_beyond_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grown.slab");
    {
        let slab = Slab::open(&path).unwrap();
        let map = slab.map("m").unwrap();
        for i in 0..3000u64 {
            map.insert(&i.to_le_bytes(), &[i as u8; 1000]).unwrap();
        }
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 2 << 20, "the slab grew past 2 MiB");
    bytes[384..392].copy_from_slice(&0u64.to_le_bytes()); // not closed cleanly
    bytes.truncate(1 << 20);
    std::fs::write(&path, &bytes).unwrap();
    let err = refused(&path, &OpenOptions::default());
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    // Refused again the same way: the failed attempt did not mark it clean.
    let again = refused(&path, &OpenOptions::default());
    assert_eq!(again.kind(), ErrorKind::Corrupt, "{again}");
}

#[test]
fn files_are_created_for_their_owner_only_unless_asked_otherwise() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let private = dir.path().join("private.slab");
    drop(Slab::open(&private).unwrap());
    assert_eq!(mode(&private), 0o600);
    // The umask applies on top of the mode asked for; clear its group bits for the test.
    // SAFETY: umask only sets the process's file creation mask.
    let old = unsafe { libc::umask(0o022) };
    let shared = dir.path().join("shared.slab");
    let options = OpenOptions {
        mode: 0o640,
        ..OpenOptions::default()
    };
    drop(Slab::open_with(&shared, &options).unwrap());
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    assert_eq!(mode(&shared), 0o640);
    // An existing file keeps its mode.
    drop(Slab::open_with(&private, &options).unwrap());
    assert_eq!(mode(&private), 0o600);
    let bad = OpenOptions {
        mode: 0o4755,
        ..OpenOptions::default()
    };
    let Err(err) = Slab::open_with(dir.path().join("setuid.slab"), &bad) else {
        panic!("a mode with set-uid bits was accepted");
    };
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(!dir.path().join("setuid.slab").exists());
}
