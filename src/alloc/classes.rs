//! Size classes. A small block's total size (8-byte header included) is one of these;
//! anything larger becomes an extent of whole pages.

use crate::slab::PAGE_SIZE;

/// Bytes at the start of every page, before its first block.
pub const PAGE_HEADER_SIZE: u64 = 64;

/// Total block sizes, multiples of 16 so every payload is 8-aligned. Spacing grows with
/// size to keep internal waste near 1/8 or below; the last class still fits four per page.
pub const CLASS_SIZES: [u64; 35] = [
    16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
    1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 16368,
];

pub const NUM_CLASSES: usize = CLASS_SIZES.len();
/// Extents are 2^order pages; order 40 is 64 PiB, beyond any file we can reserve.
pub const NUM_ORDERS: usize = 41;

/// The class whose blocks hold `total` bytes, if a small block can.
#[inline]
pub fn class_for(total: u64) -> Option<usize> {
    let c = CLASS_SIZES.partition_point(|&size| size < total);
    (c < NUM_CLASSES).then_some(c)
}

#[inline]
pub fn blocks_per_page(class: usize) -> u64 {
    (PAGE_SIZE - PAGE_HEADER_SIZE) / CLASS_SIZES[class]
}

/// The order (log2 of the page count) of an extent holding `total` bytes after the
/// page header.
pub fn order_for(total: u64) -> Option<usize> {
    let pages = total.checked_add(PAGE_HEADER_SIZE)?.div_ceil(PAGE_SIZE);
    let order = pages.next_power_of_two().trailing_zeros() as usize;
    (order < NUM_ORDERS).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_sorted_aligned_and_fit_pages() {
        for w in CLASS_SIZES.windows(2) {
            assert!(w[0] < w[1]);
        }
        for (c, &size) in CLASS_SIZES.iter().enumerate() {
            assert_eq!(size % 16, 0);
            assert!(blocks_per_page(c) >= 4);
        }
        assert_eq!(class_for(1), Some(0));
        assert_eq!(class_for(16), Some(0));
        assert_eq!(class_for(17), Some(1));
        assert_eq!(class_for(16368), Some(NUM_CLASSES - 1));
        assert_eq!(class_for(16369), None);
        assert_eq!(order_for(PAGE_SIZE - PAGE_HEADER_SIZE), Some(0));
        assert_eq!(order_for(PAGE_SIZE), Some(1));
        assert_eq!(order_for(3 * PAGE_SIZE), Some(2));
    }
}
