package dev.eve;

/**
 * What the recovery sweep did ({@code eve_sweep_report}).
 *
 * @param liveBlocks  blocks reachable from some root
 * @param liveBytes   bytes in those blocks
 * @param freedBlocks blocks that were allocated but unreachable, now free
 * @param freedBytes  bytes in those blocks
 * @param rolledBackRoots roots set back to their last synced value because the current one
 *     did not validate
 */
public record SweepReport(long liveBlocks, long liveBytes, long freedBlocks, long freedBytes, long rolledBackRoots) {}
