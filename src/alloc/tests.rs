//! Seals: what a sealed block accepts and what it refuses.

use super::{Allocator, BLOCK_HEADER_SIZE};
use crate::alloc::kind;
use crate::slab::{OpenOptions, Region};

fn region() -> Region {
    Region::anonymous(&OpenOptions::default()).unwrap().0
}

/// A sealed HAMT leaf of `len` payload bytes filled from `seed`.
fn sealed_block(alloc: &Allocator<'_>, region: &Region, len: u64, seed: u8) -> u64 {
    let block = alloc.alloc(kind::HAMT_LEAF, len).unwrap();
    let payload: Vec<u8> = (0..len).map(|i| seed.wrapping_add(i as u8)).collect();
    region.write(block + BLOCK_HEADER_SIZE, &payload).unwrap();
    alloc.seal(block).unwrap();
    block
}

/// The whole block, header included, as bytes.
fn image(region: &Region, block: u64, len: u64) -> Vec<u8> {
    region
        .bytes(block, BLOCK_HEADER_SIZE + len)
        .unwrap()
        .to_vec()
}

#[test]
fn a_block_is_refused_until_sealed_and_after_any_change() {
    let region = region();
    let alloc = Allocator::new(&region);
    let block = alloc.alloc(kind::HAMT_LEAF, 100).unwrap();
    region
        .write(block + BLOCK_HEADER_SIZE, &[7u8; 100])
        .unwrap();
    let unsealed = alloc.verify_seal(block).unwrap_err();
    assert!(unsealed.to_string().contains("never sealed"), "{unsealed}");
    alloc.seal(block).unwrap();
    alloc.verify_seal(block).unwrap();
    // A torn write: the tail of the payload holds something else.
    region.write(block + BLOCK_HEADER_SIZE + 99, &[8]).unwrap();
    let torn = alloc.verify_seal(block).unwrap_err();
    assert!(torn.to_string().contains("does not match"), "{torn}");
    region.write(block + BLOCK_HEADER_SIZE + 99, &[7]).unwrap();
    alloc.verify_seal(block).unwrap();
    // The header is covered too: the same bytes under another kind do not match.
    let header = region.atomic(block).unwrap();
    let word = header.load(std::sync::atomic::Ordering::Relaxed);
    header.store(
        (word & !0xFF) | kind::BTREE_KEY as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    assert!(alloc.verify_seal(block).is_err());
}

#[test]
fn a_node_copied_to_another_place_does_not_match_there() {
    let region = region();
    let alloc = Allocator::new(&region);
    let original = sealed_block(&alloc, &region, 200, 1);
    let other = sealed_block(&alloc, &region, 200, 2);
    region.write(other, &image(&region, original, 200)).unwrap();
    alloc.verify_seal(original).unwrap();
    assert!(alloc.verify_seal(other).is_err());
}

#[test]
fn a_page_formatted_again_does_not_accept_a_node_of_its_last_life() {
    let region = region();
    let alloc = Allocator::new(&region);
    // An extent: freeing it frees its page run, and the next extent of its order takes the
    // same pages and formats them again, with a new nonce.
    let len = 100_000;
    let old = sealed_block(&alloc, &region, len, 3);
    let old_image = image(&region, old, len);
    alloc.free(old).unwrap();
    let new = sealed_block(&alloc, &region, len, 4);
    assert_eq!(new, old, "the run is reused");
    alloc.verify_seal(new).unwrap();
    // What a power loss can leave: the page header of the new life on disk, the block of
    // the old one.
    region.write(new, &old_image).unwrap();
    let stale = alloc.verify_seal(new).unwrap_err();
    assert!(stale.to_string().contains("does not match"), "{stale}");
}

#[test]
fn free_blocks_and_records_carry_marks_and_a_zero_header_is_no_block() {
    let region = region();
    let alloc = Allocator::new(&region);
    let block = sealed_block(&alloc, &region, 40, 5);
    let record = alloc.alloc(kind::RETIRED, 40).unwrap();
    assert_eq!(alloc.block_info(record).unwrap().kind, kind::RETIRED);
    alloc.free(block).unwrap();
    assert_eq!(alloc.block_info(block).unwrap().kind, kind::FREE);
    // A header never written (a writer died carving the page) is not a free block.
    region.write(block, &[0u8; 8]).unwrap();
    assert!(alloc.block_info(block).is_err());
}
