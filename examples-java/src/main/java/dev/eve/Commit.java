package dev.eve;

/**
 * What a transaction did ({@code eve_commit}).
 *
 * @param root    the map's root word after the transaction: the new version, or the unchanged one
 * @param retries how many times the batch was re-applied because another writer published first
 * @param changed false when the batch changed nothing; then nothing was published
 */
public record Commit(long root, long retries, boolean changed) {}
