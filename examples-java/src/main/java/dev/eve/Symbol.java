package dev.eve;

import java.util.Objects;

/**
 * An EDN symbol as a query answer hands it out ({@link Read#query}): {@code :syms} columns
 * and symbol values.
 *
 * @param name the symbol, e.g. {@code "name"} or {@code "my.ns/f"}
 */
public record Symbol(String name) {
    /** @throws NullPointerException if {@code name} is null */
    public Symbol {
        Objects.requireNonNull(name, "name");
    }

    /** The symbol called {@code name}. */
    public static Symbol of(String name) {
        return new Symbol(name);
    }

    /** The symbol as EDN: its name. */
    @Override
    public String toString() {
        return name;
    }
}
