package dev.eve;

/**
 * What a reclamation pass did ({@code eve_reclaim_report}).
 *
 * @param freedBlocks retired blocks freed by this pass
 * @param keptBlocks  retired blocks kept because a reader may still hold them
 */
public record ReclaimReport(long freedBlocks, long keptBlocks) {}
