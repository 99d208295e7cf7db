package dev.eve;

/**
 * Counters describing a slab at one moment ({@code eve_stats}).
 *
 * @param fileLen           bytes of file allocated
 * @param heapBytes         bytes of heap handed out as pages, used or free
 * @param bytesInUse        bytes in allocated blocks, including retired blocks not yet freed
 * @param blocksInUse       allocated blocks, including retired ones not yet freed
 * @param freeBytes         allocated file bytes no block uses
 * @param liveReaders       threads pinned right now (open reads), over all processes
 * @param oldestPinnedEpoch the oldest epoch a reader holds pinned, or 0 when nobody is pinned
 * @param globalEpoch       the global epoch now
 * @param retiredBlocks     blocks retired by writers and waiting for readers to move on
 * @param readerSlots       reader slots in the slab
 * @param roots             named roots in use
 * @param sweeps            recovery sweeps run on this slab so far
 * @param maxSize           address range reserved for the slab in this process
 * @param rolledBackRoots   roots recovery sweeps set back to their last synced value so far
 */
public record Stats(
        long fileLen,
        long heapBytes,
        long bytesInUse,
        long blocksInUse,
        long freeBytes,
        long liveReaders,
        long oldestPinnedEpoch,
        long globalEpoch,
        long retiredBlocks,
        long readerSlots,
        long roots,
        long sweeps,
        long maxSize,
        long rolledBackRoots) {}
