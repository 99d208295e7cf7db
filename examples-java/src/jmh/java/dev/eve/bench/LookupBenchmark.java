package dev.eve.bench;

import dev.eve.Op;
import dev.eve.Read;
import dev.eve.Slab;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one lookup from Java, on the data set of the Rust and C benchmarks
 * (benches/hamt.rs, examples-c/bench_lookup.c): 1M random 8-byte keys (xorshift64 from
 * 0x2545F4914F6CDD1D, little-endian) with 150-byte values, random gets of existing keys,
 * {@value #PER_READ} gets per {@link Read}. Scores are ns per lookup (the read's begin and end
 * are shared by its {@value #PER_READ} lookups).
 *
 * <ul>
 *   <li>{@code get}: {@link Read#get(int, byte[])} per key, a zero-copy segment back;
 *   <li>{@code getMany}: {@link Read#getMany} with all {@value #PER_READ} keys in one call.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class LookupBenchmark {
    static final int KEYS = 1_000_000;
    static final int VALUE_LEN = 150;
    static final int PER_READ = 1000;
    static final int LOAD_BATCH = 20_000;

    private Path dir;
    private Slab slab;
    private int map;
    private byte[][] keys;
    private long rng = 7;

    static long xorshift(long x) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        return x;
    }

    @Setup(Level.Trial)
    public void load() throws IOException {
        dir = Files.createTempDirectory("eve-bench");
        slab = Slab.open(dir.resolve("lookup.slab"));
        map = slab.map("bench");
        keys = new byte[KEYS][];
        long state = 0x2545F4914F6CDD1DL;
        for (int i = 0; i < KEYS; i++) {
            state = xorshift(state);
            keys[i] = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(state).array();
        }
        for (int start = 0; start < KEYS; start += LOAD_BATCH) {
            List<Op> ops = new ArrayList<>(LOAD_BATCH);
            for (int i = start; i < start + LOAD_BATCH; i++) {
                ops.add(Op.put(keys[i], Arrays.copyOf(keys[i], VALUE_LEN))); // the key, then zeros
            }
            slab.transact(map, ops);
        }
        try (Read read = slab.read()) {
            if (read.count(map) != KEYS) {
                throw new IllegalStateException("expected " + KEYS + " distinct keys, found " + read.count(map));
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        slab.close();
        Files.deleteIfExists(dir.resolve("lookup.slab"));
        Files.deleteIfExists(dir);
    }

    private byte[] randomKey() {
        rng = xorshift(rng);
        return keys[(int) Long.remainderUnsigned(rng, KEYS)];
    }

    @Benchmark
    @OperationsPerInvocation(PER_READ)
    public long get() {
        long total = 0;
        try (Read read = slab.read()) {
            for (int i = 0; i < PER_READ; i++) {
                MemorySegment value = read.get(map, randomKey());
                total += value.byteSize(); // a missing key would throw here
            }
        }
        return total;
    }

    @Benchmark
    @OperationsPerInvocation(PER_READ)
    public long getMany() {
        List<byte[]> batch = new ArrayList<>(PER_READ);
        for (int i = 0; i < PER_READ; i++) {
            batch.add(randomKey());
        }
        long total = 0;
        try (Read read = slab.read()) {
            for (MemorySegment value : read.getMany(map, batch)) {
                total += value.byteSize();
            }
        }
        return total;
    }
}
