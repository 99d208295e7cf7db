package dev.eve;

import java.util.Objects;

/**
 * An EDN keyword as a query or pull answer hands it out ({@link Read#query}, {@link
 * Read#pull}): attribute names in pulled maps, {@code :keys} columns, keyword values.
 *
 * @param name the keyword without its leading colon, e.g. {@code "person/name"}
 */
public record Keyword(String name) {
    /** @throws NullPointerException if {@code name} is null */
    public Keyword {
        Objects.requireNonNull(name, "name");
    }

    /**
     * The keyword called {@code name}, with or without its leading colon: {@code
     * Keyword.of("person/name")} and {@code Keyword.of(":person/name")} are equal.
     */
    public static Keyword of(String name) {
        Objects.requireNonNull(name, "name");
        return new Keyword(name.startsWith(":") ? name.substring(1) : name);
    }

    /** The keyword as EDN: {@code :person/name}. */
    @Override
    public String toString() {
        return ":" + name;
    }
}
