package dev.eve;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A worker process for {@link YinTest}: works the run queue of the slab file named by its
 * argument (the library is found through {@code eve.library}, as in the tests) until the
 * queue stays empty for a minute — or, as the test intends, until it is killed.
 */
public final class YinWorkerMain {
    private YinWorkerMain() {}

    public static void main(String[] args) {
        try (Slab slab = Slab.open(Path.of(args[0])); Yin yin = Yin.open(slab, "yin")) {
            yin.work(Duration.ofMinutes(1), null);
        }
    }
}
