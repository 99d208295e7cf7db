//! Model-based tests of the HAMT against `std::collections::HashMap`, with hash functions
//! that force collisions at every depth.

use super::edit::Edit;
use super::node;
use crate::alloc::Allocator;
use crate::slab::header::F_BLOCKS_IN_USE;
use crate::slab::{OpenOptions, Region};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// How keys are hashed in a test run. Weak hashes drive keys into long shared prefixes and
/// full-hash collisions, which the real hash almost never produces.
#[derive(Debug, Clone, Copy)]
enum Hashing {
    Real,
    /// Only 16 distinct hashes, differing in the lowest bits: collisions below the last level.
    FewLow,
    /// Hashes that agree on all low bits and differ only at the top: deep chains.
    FewHigh,
    /// Every key has the same hash: one collision node.
    Constant,
}

impl Hashing {
    fn hash(self, key: &[u8]) -> u64 {
        let h = node::hash_key(key);
        match self {
            Hashing::Real => h,
            Hashing::FewLow => h & 0xF,
            Hashing::FewHigh => h & 0xF000_0000_0000_0000,
            Hashing::Constant => 0x5555,
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Insert(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
    /// Publish the working version and start a new edit from it.
    Publish,
}

fn step() -> impl Strategy<Value = Step> {
    let key = prop::collection::vec(0u8..8, 1..3);
    prop_oneof![
        5 => (key.clone(), prop::collection::vec(any::<u8>(), 0..24)).prop_map(|(k, v)| Step::Insert(k, v)),
        3 => key.prop_map(Step::Remove),
        1 => Just(Step::Publish),
    ]
}

fn hashing() -> impl Strategy<Value = Hashing> {
    prop_oneof![
        Just(Hashing::Real),
        Just(Hashing::FewLow),
        Just(Hashing::FewHigh),
        Just(Hashing::Constant),
    ]
}

fn region() -> Region {
    Region::anonymous(&OpenOptions::default()).unwrap().0
}

fn contents(region: &Region, root: u64) -> HashMap<Vec<u8>, Vec<u8>> {
    let snapshot = super::Snapshot { region, root };
    snapshot
        .iter()
        .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
        .collect::<crate::Result<_>>()
        .unwrap()
}

/// Publishes an edit as a writer would, freeing what it unlinked at once (no readers here).
fn publish(region: &Region, edit: Edit<'_>) -> u64 {
    let root = edit.root();
    for block in edit.published() {
        Allocator::new(region).free(block).unwrap();
    }
    root
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn behaves_like_a_hashmap(hashing in hashing(), steps in prop::collection::vec(step(), 1..120)) {
        let region = region();
        let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        let mut root = 0;
        let mut edit = Edit::new(&region, root);
        for step in &steps {
            match step {
                Step::Insert(k, v) => {
                    let changed = edit.insert_hashed(hashing.hash(k), k, v).unwrap();
                    let before = model.insert(k.clone(), v.clone());
                    prop_assert_eq!(changed, before.as_ref() != Some(v));
                }
                Step::Remove(k) => {
                    let removed = edit.remove_hashed(hashing.hash(k), k).unwrap();
                    prop_assert_eq!(removed, model.remove(k).is_some());
                }
                Step::Publish => {
                    root = publish(&region, edit);
                    edit = Edit::new(&region, root);
                }
            }
            // Every key of the model is found; a few absent ones are not.
            for (k, v) in &model {
                let found = node::get(&region, edit.root(), hashing.hash(k), k).unwrap();
                prop_assert_eq!(found.map(|l| l.value), Some(&v[..]));
            }
            for absent in [&b"zz"[..], &[9u8, 9]] {
                prop_assert!(node::get(&region, edit.root(), hashing.hash(absent), absent).unwrap().is_none());
            }
            // The batched lookup agrees with the model, absent keys and collisions included,
            // in batches that are not a multiple of its group size.
            let mut keys: Vec<&[u8]> = model.keys().map(Vec::as_slice).collect();
            keys.extend([&b"zz"[..], &[9u8, 9]]);
            let hashed: Vec<(u64, &[u8])> = keys.iter().map(|k| (hashing.hash(k), *k)).collect();
            let mut got: Vec<Option<Vec<u8>>> = vec![Some(b"unset".to_vec()); keys.len()];
            node::get_many(&region, edit.root(), &hashed, |i, leaf| got[i] = leaf.map(|l| l.value.to_vec())).unwrap();
            let expected: Vec<Option<Vec<u8>>> = keys.iter().map(|k| model.get(*k).cloned()).collect();
            prop_assert_eq!(got, expected);
            prop_assert_eq!(node::count(&region, edit.root()).unwrap(), model.len() as u64);
        }
        root = publish(&region, edit);
        prop_assert_eq!(contents(&region, root), model.clone());

        // Canonical shape: building the same contents from scratch gives an identical tree.
        let mut fresh = Edit::new(&region, 0);
        let mut sorted: Vec<_> = model.iter().collect();
        sorted.sort();
        for (k, v) in sorted {
            fresh.insert_hashed(hashing.hash(k), k, v).unwrap();
        }
        let mut compare = Edit::new(&region, root);
        // `unchanged` compares the edit's base with its working root, structure included.
        compare.root_for_test(fresh.root());
        prop_assert!(compare.unchanged().unwrap(), "shape depends on history");
        let fresh_root = publish(&region, fresh);
        drop(compare);

        // Removing everything frees every block: nothing leaked along the way.
        for tree in [root, fresh_root] {
            let mut clear = Edit::new(&region, tree);
            for k in model.keys() {
                prop_assert!(clear.remove_hashed(hashing.hash(k), k).unwrap());
            }
            prop_assert_eq!(clear.root(), 0);
            publish(&region, clear);
        }
        prop_assert_eq!(region.meta(F_BLOCKS_IN_USE).load(Ordering::Relaxed), 0);
    }
}

#[test]
fn no_op_edits_are_detected() {
    let region = region();
    let mut edit = Edit::new(&region, 0);
    for i in 0..100u32 {
        edit.insert(&i.to_le_bytes(), b"v").unwrap();
    }
    let root = publish(&region, edit);
    let mut edit = Edit::new(&region, root);
    assert!(!edit.insert(&5u32.to_le_bytes(), b"v").unwrap());
    assert!(!edit.remove(b"absent").unwrap());
    assert_eq!(edit.root(), root);
    // Insert-then-remove of a new key builds new blocks but the same contents.
    edit.insert(b"new", b"x").unwrap();
    edit.remove(b"new").unwrap();
    assert_ne!(edit.root(), root);
    assert!(edit.unchanged().unwrap());
    let blocks = region.meta(F_BLOCKS_IN_USE).load(Ordering::Relaxed);
    drop(edit);
    assert!(region.meta(F_BLOCKS_IN_USE).load(Ordering::Relaxed) < blocks);
}

#[test]
fn large_values_use_extents() {
    let region = region();
    let mut edit = Edit::new(&region, 0);
    let big = vec![7u8; 300_000];
    edit.insert(b"big", &big).unwrap();
    edit.insert(b"small", b"s").unwrap();
    let root = publish(&region, edit);
    let leaf = node::get(&region, root, node::hash_key(b"big"), b"big")
        .unwrap()
        .unwrap();
    assert_eq!(leaf.value, &big[..]);
    let mut edit = Edit::new(&region, root);
    edit.remove(b"big").unwrap();
    edit.remove(b"small").unwrap();
    publish(&region, edit);
    assert_eq!(region.meta(F_BLOCKS_IN_USE).load(Ordering::Relaxed), 0);
}
