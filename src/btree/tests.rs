//! Model-based tests of the B+tree against `std::collections::BTreeSet`: random batches,
//! keys long enough to force splits at a handful of entries, every kind of range bound in
//! both directions, a structural check of every version, and a leak check at the end.

use super::node::{Node, MAX_PAYLOAD};
use super::*;
use crate::{OpenOptions, Slab};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::ops::{Bound, RangeBounds};

/// A key: a short prefix from a small alphabet (so batches collide with what is there),
/// padded to a length that ranges up to several hundred bytes (so nodes split after a few
/// entries and trees grow several levels).
fn key() -> impl Strategy<Value = Vec<u8>> {
    // 600 and 2000 bytes: keys that live in key blocks of their own.
    let pad = prop_oneof![Just(0usize), Just(120), Just(390), Just(600), Just(2000)];
    (prop::collection::vec(0u8..4, 1..5), pad).prop_map(|(mut k, pad)| {
        k.resize(k.len() + pad, b'.');
        k
    })
}

/// A batch that mostly inserts, mostly removes (so nodes shrink and merge), or mixes.
fn batch() -> impl Strategy<Value = Vec<(bool, Vec<u8>)>> {
    prop_oneof![Just(0.9), Just(0.6), Just(0.15)].prop_flat_map(|inserts| {
        prop::collection::vec((prop::bool::weighted(inserts), key()), 0..80)
    })
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded),
    ]
}

fn as_ref(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Walks the whole tree checking its invariants; returns its keys in order.
fn check_structure(region: &Region, root: u64) -> Vec<Vec<u8>> {
    fn walk(region: &Region, node: u64, level: Option<u32>, out: &mut Vec<Vec<u8>>) -> Vec<u8> {
        let n = Node::read(region, node).unwrap();
        assert!(n.size() <= MAX_PAYLOAD);
        if let Some(level) = level {
            assert_eq!(n.level, level, "levels are consistent");
        }
        let mut first = None;
        for i in 0..n.count {
            let key = n.key(i).unwrap();
            if n.is_leaf {
                out.push(key.to_vec());
            } else {
                let min = walk(region, n.child(i), Some(n.level - 1), out);
                assert_eq!(min, key, "a branch key is its child's smallest key");
            }
            first.get_or_insert_with(|| key.to_vec());
        }
        first.unwrap()
    }
    let mut keys = Vec::new();
    if root != 0 {
        walk(region, root, None, &mut keys);
    }
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "keys are sorted and distinct"
    );
    keys
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn behaves_like_a_btreeset(
        batches in prop::collection::vec(batch(), 1..24),
        queries in prop::collection::vec((bound(), bound()), 6),
    ) {
        let slab = Slab::anonymous_with(&OpenOptions { max_size: 1 << 30, ..OpenOptions::default() }).unwrap();
        let tree = slab.btree("t").unwrap();
        let mut model = BTreeSet::new();
        for batch in &batches {
            let ops: Vec<KeyOp<'_>> = batch
                .iter()
                .map(|(insert, k)| if *insert { KeyOp::Insert(k) } else { KeyOp::Remove(k) })
                .collect();
            let before = model.clone();
            for (insert, k) in batch {
                if *insert { model.insert(k.clone()); } else { model.remove(k); }
            }
            let commit = tree.apply(&ops).unwrap();
            prop_assert_eq!(commit.changed, before != model);

            let guard = slab.pin().unwrap();
            let snapshot = tree.snapshot(&guard).unwrap();
            let keys = check_structure(slab.region(), snapshot.root());
            prop_assert_eq!(&keys, &model.iter().cloned().collect::<Vec<_>>());
            let forward: Vec<Vec<u8>> = snapshot.iter().map(|k| k.unwrap().to_vec()).collect();
            prop_assert_eq!(&forward, &keys);
            for (start, end) in &queries {
                // BTreeSet::range panics on inverted or empty-excluded bounds; the tree
                // simply yields nothing there, so compare with a filter instead.
                let expected: Vec<Vec<u8>> = model
                    .iter()
                    .filter(|k| (as_ref(start), as_ref(end)).contains(&k.as_slice()))
                    .cloned()
                    .collect();
                let got: Vec<Vec<u8>> = snapshot
                    .range(as_ref(start), as_ref(end))
                    .map(|k| k.unwrap().to_vec())
                    .collect();
                prop_assert_eq!(&got, &expected);
                let mut reversed: Vec<Vec<u8>> = snapshot
                    .range_rev(as_ref(start), as_ref(end))
                    .map(|k| k.unwrap().to_vec())
                    .collect();
                reversed.reverse();
                prop_assert_eq!(&reversed, &expected);
            }
            for (_, k) in batch.iter().take(5) {
                prop_assert_eq!(snapshot.contains(k).unwrap(), model.contains(k));
            }
        }

        // Nothing leaked: once every retired block is reclaimed, the sweep finds nothing
        // allocated that the tree does not reach.
        for _ in 0..4 {
            slab.reclaim().unwrap();
        }
        prop_assert_eq!(slab.stats().retired_blocks, 0);
        let mut slab = slab;
        let swept = slab.recover().unwrap();
        prop_assert_eq!(swept.freed_blocks, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// One cursor moved through many ranges, mostly ascending (as a join visits sorted
    /// prefixes) and sometimes backwards, yields what a fresh range would each time; the
    /// size estimate is exact for an empty tree and never above the tree's size.
    #[test]
    fn repositioned_cursors_match_fresh_ranges(
        keys in prop::collection::btree_set(key(), 0..300),
        mut starts in prop::collection::vec((key(), 0usize..40, prop::bool::weighted(0.15)), 1..40),
    ) {
        let slab = Slab::anonymous_with(&OpenOptions { max_size: 1 << 30, ..OpenOptions::default() }).unwrap();
        let tree = slab.btree("t").unwrap();
        tree.extend(keys.iter().map(Vec::as_slice)).unwrap();
        let guard = slab.pin().unwrap();
        let snapshot = tree.snapshot(&guard).unwrap();
        // Ascending starts, except those marked to jump back.
        let mut ordered: Vec<Vec<u8>> = starts.iter().map(|(k, _, _)| k.clone()).collect();
        ordered.sort();
        for ((start, _, back), sorted) in starts.iter_mut().zip(ordered) {
            if !*back {
                *start = sorted;
            }
        }
        let mut cursor = snapshot.range(Bound::Unbounded, Bound::Unbounded);
        for (start, span, _) in &starts {
            // The end: `span` keys further on in the model, or unbounded.
            let end = keys.range(start.clone()..).nth(*span).cloned();
            cursor.reposition(start, end.as_deref()).unwrap();
            let got: Vec<Vec<u8>> = cursor.by_ref().map(|k| k.unwrap().to_vec()).collect();
            let expected: Vec<Vec<u8>> = snapshot
                .range(Bound::Included(start), end.as_deref().map_or(Bound::Unbounded, Bound::Excluded))
                .map(|k| k.unwrap().to_vec())
                .collect();
            prop_assert_eq!(&got, &expected);
            let estimate = snapshot.estimate_range(start, end.as_deref()).unwrap();
            if keys.is_empty() {
                prop_assert_eq!(estimate, 0);
            }
        }
    }
}

#[test]
fn estimates_follow_the_size_of_ranges() {
    let slab = Slab::anonymous().unwrap();
    let tree = slab.btree("t").unwrap();
    let keys: Vec<[u8; 8]> = (0u64..100_000).map(|i| (i * 3).to_be_bytes()).collect();
    tree.extend(keys.iter().map(|k| k.as_slice())).unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = tree.snapshot(&guard).unwrap();
    let estimate = |from: u64, to: u64| {
        snapshot
            .estimate_range(&(from * 3).to_be_bytes(), Some(&(to * 3).to_be_bytes()))
            .unwrap()
    };
    // Within a leaf: exact.
    assert_eq!(estimate(10, 15), 5);
    // Across many nodes: within a quarter of the truth, and ordered like the truth.
    for (from, to) in [(0u64, 100_000u64), (5_000, 25_000), (40_000, 41_000)] {
        let e = estimate(from, to) as f64;
        let truth = (to - from) as f64;
        assert!(
            (e - truth).abs() <= truth / 4.0,
            "{from}..{to}: {e} vs {truth}"
        );
    }
    assert!(estimate(0, 2_000) < estimate(0, 20_000));
    assert_eq!(snapshot.estimate_range(&[0xFF; 9], None).unwrap(), 0);
}

#[test]
fn bulk_build_of_a_large_sorted_set() {
    let slab = Slab::anonymous().unwrap();
    let tree = slab.btree("big").unwrap();
    let keys: Vec<[u8; 8]> = (0..100_000u64)
        .map(|i| (i * 7919 % 100_003).to_be_bytes())
        .collect();
    let commit = tree.extend(keys.iter().map(|k| &k[..])).unwrap();
    assert!(commit.changed);
    let guard = slab.pin().unwrap();
    let snapshot = tree.snapshot(&guard).unwrap();
    let mut sorted = keys.clone();
    sorted.sort();
    let walked = check_structure(slab.region(), snapshot.root());
    assert_eq!(walked.len(), sorted.len());
    assert!(walked.iter().zip(&sorted).all(|(a, b)| a.as_slice() == b));
    // A range in the middle, both ways.
    let from = 50_000u64.to_be_bytes();
    let to = 50_100u64.to_be_bytes();
    let forward: Vec<&[u8]> = snapshot
        .range(Bound::Included(&from), Bound::Excluded(&to))
        .map(|k| k.unwrap())
        .collect();
    let expected: Vec<&[u8]> = sorted
        .iter()
        .map(|k| &k[..])
        .filter(|k| *k >= &from[..] && *k < &to[..])
        .collect();
    assert_eq!(forward, expected);
    // The same batch again changes nothing and publishes nothing.
    drop(guard);
    let again = tree.extend(keys.iter().map(|k| &k[..])).unwrap();
    assert!(!again.changed);
    assert_eq!(again.root, commit.root);
}

#[test]
fn removing_most_keys_merges_nodes_and_shrinks_the_tree() {
    let mut slab = Slab::anonymous().unwrap();
    let tree = slab.btree("t").unwrap();
    let keys: Vec<Vec<u8>> = (0..3000u32)
        .map(|i| {
            let mut k = i.to_be_bytes().to_vec();
            k.resize(100, b'x');
            k
        })
        .collect();
    tree.extend(keys.iter().map(|k| k.as_slice())).unwrap();
    let height = |slab: &Slab, tree: &BTree<'_>| {
        let guard = slab.pin().unwrap();
        let root = tree.snapshot(&guard).unwrap().root();
        Node::read(slab.region(), root).unwrap().level
    };
    let tall = height(&slab, &tree);
    assert!(tall >= 2);
    // Remove all but every 97th key, in batches that hollow out neighbouring leaves.
    for chunk in keys.chunks(250) {
        let ops: Vec<KeyOp<'_>> = chunk
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 97 != 0)
            .map(|(_, k)| KeyOp::Remove(k))
            .collect();
        assert!(tree.apply(&ops).unwrap().changed);
    }
    let guard = slab.pin().unwrap();
    let snapshot = tree.snapshot(&guard).unwrap();
    let left = check_structure(slab.region(), snapshot.root());
    let expected: Vec<Vec<u8>> = keys
        .chunks(250)
        .flat_map(|c| c.iter().step_by(97).cloned())
        .collect();
    assert_eq!(left, expected);
    // The survivors fit in a few leaves: small nodes were merged, and the tree got lower.
    let leaves = {
        fn count(region: &Region, node: u64) -> usize {
            let n = Node::read(region, node).unwrap();
            if n.is_leaf {
                1
            } else {
                (0..n.count).map(|i| count(region, n.child(i))).sum()
            }
        }
        count(slab.region(), snapshot.root())
    };
    assert!(
        leaves <= 8,
        "{leaves} leaves for {} keys of 100 bytes",
        left.len()
    );
    drop(guard);
    assert!(height(&slab, &tree) < tall);
    for _ in 0..4 {
        slab.reclaim().unwrap();
    }
    assert_eq!(slab.recover().unwrap().freed_blocks, 0);
}

#[test]
fn refuses_oversized_keys_and_read_only_writes() {
    let slab = Slab::anonymous().unwrap();
    let tree = slab.btree("t").unwrap();
    let long = vec![1u8; MAX_KEY_LEN + 1];
    let error = tree.insert(&long).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert_eq!(tree.root(), 0);
    // Long keys are stored out of line and still compare in full: keys that share their
    // first 100,000 bytes sort by what follows.
    let mut a = vec![7u8; 100_000];
    let mut b = a.clone();
    a.push(2);
    b.push(1);
    tree.extend([a.as_slice(), b.as_slice(), &[7u8, 7][..]])
        .unwrap();
    let guard = slab.pin().unwrap();
    let keys: Vec<&[u8]> = tree
        .snapshot(&guard)
        .unwrap()
        .iter()
        .map(|k| k.unwrap())
        .collect();
    assert_eq!(keys, vec![&[7u8, 7][..], b.as_slice(), a.as_slice()]);
    drop(guard);
    let map_error = slab.map("t").err().unwrap();
    assert_eq!(map_error.kind(), ErrorKind::WrongKind);
}

#[test]
fn concurrent_writers_lose_nothing() {
    let slab = Slab::anonymous().unwrap();
    let tree = slab.btree("t").unwrap();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            s.spawn(move || {
                for i in 0..500u32 {
                    let mut key = vec![t];
                    key.extend_from_slice(&i.to_be_bytes());
                    key.resize(64, b'-');
                    tree.insert(&key).unwrap();
                }
            });
        }
    });
    let guard = slab.pin().unwrap();
    let snapshot = tree.snapshot(&guard).unwrap();
    assert_eq!(snapshot.len().unwrap(), 2000);
    check_structure(slab.region(), snapshot.root());
}

#[test]
fn a_damaged_head_is_found_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heads.slab");
    let root = {
        let slab = Slab::open(&path).unwrap();
        let tree = slab.btree("t").unwrap();
        tree.extend([&b"apple"[..], b"banana", b"cherry"]).unwrap();
        assert!(slab.check().is_ok());
        tree.root()
    };
    // The root is a leaf of three keys; the head of key 1 sits after the block header, the
    // node header and key 0's slot, 8 bytes into key 1's slot.
    let head_at = root + crate::alloc::BLOCK_HEADER_SIZE + 8 + SLOT_BYTES + 8;
    let mut bytes = std::fs::read(&path).unwrap();
    // The keys share no prefix, so the head is the key itself, zero-padded.
    assert_eq!(
        &bytes[head_at as usize..head_at as usize + 16],
        b"banana\0\0\0\0\0\0\0\0\0\0"
    );
    bytes[head_at as usize] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let slab = Slab::open(&path).unwrap();
    let error = slab.check().unwrap_err();
    assert_eq!(
        error.kind(),
        crate::ErrorKind::Corrupt,
        "{}",
        error.message()
    );
    assert!(error.message().contains("head"), "{}", error.message());
}

const SLOT_BYTES: u64 = 24;

#[test]
fn keys_sharing_a_prefix_are_found_by_their_heads() {
    // Keys that share long prefixes and differ only past 16 bytes of it, and targets before,
    // inside and after the shared prefix.
    let slab = Slab::anonymous().unwrap();
    let tree = slab.btree("t").unwrap();
    let mut keys: Vec<Vec<u8>> = (0u32..3000)
        .map(|i| {
            let mut k = b"common-prefix/".to_vec();
            k.extend_from_slice(&[0u8; 20]);
            k.extend_from_slice(&(i / 7).to_be_bytes());
            k.extend_from_slice(&(i % 7).to_be_bytes());
            k
        })
        .collect();
    keys.sort();
    tree.extend(keys.iter().map(Vec::as_slice)).unwrap();
    let guard = slab.pin().unwrap();
    let snapshot = tree.snapshot(&guard).unwrap();
    for (i, key) in keys.iter().enumerate().step_by(37) {
        assert!(snapshot.contains(key).unwrap());
        let from: Vec<Vec<u8>> = snapshot
            .range(Bound::Included(key), Bound::Unbounded)
            .take(3)
            .map(|k| k.unwrap().to_vec())
            .collect();
        assert_eq!(from, keys[i..(i + 3).min(keys.len())].to_vec());
    }
    for probe in [
        &b"a"[..],
        b"common",
        b"common-prefix/",
        b"common-prefix/\x01",
        b"z",
    ] {
        let expected: Vec<&Vec<u8>> = keys
            .iter()
            .filter(|k| k.as_slice() >= probe)
            .take(2)
            .collect();
        let got: Vec<Vec<u8>> = snapshot
            .range(Bound::Included(probe), Bound::Unbounded)
            .take(2)
            .map(|k| k.unwrap().to_vec())
            .collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "{probe:?}");
    }
    assert!(slab.check().is_ok());
}
