package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Turns an {@code eve_answer} (a query's or a pull's result) into Java values. The answer's
 * node array is read in place: one {@code eve_answer_nodes} call, then plain reads of the
 * {@code eve_node} structs through a {@link MemorySegment} (no downcall per node). Every
 * value is copied out, so the result outlives the answer, which is always freed.
 */
final class Answers {
    private Answers() {}

    private static final long NODE_SIZE = Native.EVE_NODE.byteSize();
    private static final long BYTES_DATA = Native.NODE_BYTES + Native.BYTES_DATA;
    private static final long BYTES_LEN = Native.NODE_BYTES + Native.BYTES_LEN;

    /** An answer turned into Java: its {@code eve_shape} and the value of its root node. */
    record Decoded(int shape, Object value) {}

    /**
     * Reads the answer {@code answer} (non-NULL, owned by the caller) and frees it with
     * {@code eve_answer_free}, whether reading succeeds or not. {@code call} holds the
     * out-parameters and scopes the view of the nodes.
     */
    static Decoded readAndFree(MemorySegment answer, Arena call) {
        Throwable failure = null;
        try {
            MemorySegment shapeOut = call.allocate(JAVA_INT);
            Native.check(Native.answerShape(answer, shapeOut), "eve_answer_shape");
            MemorySegment nodesOut = call.allocate(ADDRESS);
            MemorySegment countOut = call.allocate(JAVA_LONG);
            Native.check(Native.answerNodes(answer, nodesOut, countOut), "eve_answer_nodes");
            long count = countOut.get(JAVA_LONG, 0);
            if (count < 1 || count > Long.MAX_VALUE / NODE_SIZE) {
                throw new IllegalStateException("eve_answer_nodes gave " + Long.toUnsignedString(count) + " nodes");
            }
            MemorySegment nodes = nodesOut.get(ADDRESS, 0).reinterpret(count * NODE_SIZE, call, null);
            return new Decoded(shapeOut.get(JAVA_INT, 0), new Reader(nodes, count).value(0));
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            int status = Native.answerFree(answer);
            if (status != Status.OK) {
                EveException freeFailed = Native.failure(status, "eve_answer_free");
                if (failure != null) {
                    failure.addSuppressed(freeFailed);
                } else {
                    throw freeFailed;
                }
            }
        }
    }

    /** The name of an {@code eve_shape}, for messages. */
    static String shapeName(int shape) {
        return switch (shape) {
            case Native.EVE_SHAPE_RELATION -> "a relation (:find ?a ?b)";
            case Native.EVE_SHAPE_SCALAR -> "a scalar (:find ?a .)";
            case Native.EVE_SHAPE_COLLECTION -> "a collection (:find [?a ...])";
            case Native.EVE_SHAPE_TUPLE -> "a tuple (:find [?a ?b])";
            case Native.EVE_SHAPE_MAPS -> "maps (:keys, :syms or :strs)";
            case Native.EVE_SHAPE_PULL -> "a pull";
            default -> "the unknown shape " + shape;
        };
    }

    /** Reads nodes of one answer's array ({@code count} {@code eve_node}s in {@code nodes}). */
    private record Reader(MemorySegment nodes, long count) {
        Object value(long index) {
            long at = index * NODE_SIZE;
            int type = nodes.get(JAVA_INT, at + Native.NODE_VALUE_TYPE);
            return switch (type) {
                case 0 -> null; // EVE_VALUE_NIL
                case 1 -> nodes.get(JAVA_LONG, at + Native.NODE_INT_VALUE) != 0; // BOOLEAN
                case 2, 10 -> nodes.get(JAVA_LONG, at + Native.NODE_INT_VALUE); // LONG, REF (entity id)
                case 3 -> nodes.get(JAVA_DOUBLE, at + Native.NODE_DOUBLE_VALUE); // DOUBLE
                case 4 -> text(at); // STRING
                case 5 -> new Keyword(text(at)); // KEYWORD (without the colon)
                case 6 -> new Symbol(text(at)); // SYMBOL
                case 7 -> uuid(at); // UUID
                case 8 -> Instant.ofEpochMilli(nodes.get(JAVA_LONG, at + Native.NODE_INT_VALUE)); // INSTANT
                case 9 -> bytes(at); // BYTES
                case Native.EVE_VALUE_VECTOR -> Collections.unmodifiableList(Arrays.asList(items(index, at)));
                case Native.EVE_VALUE_SET -> {
                    Object[] items = items(index, at);
                    Set<Object> set = new LinkedHashSet<>(Math.max(16, (int) (items.length / 0.75f) + 1));
                    Collections.addAll(set, items);
                    yield Collections.unmodifiableSet(set);
                }
                case Native.EVE_VALUE_MAP -> {
                    int entries = nodes.get(JAVA_INT, at + Native.NODE_COUNT);
                    long first = children(index, at, 2L * Integer.toUnsignedLong(entries));
                    Map<Object, Object> map = new LinkedHashMap<>(Math.max(16, (int) (entries / 0.75f) + 1));
                    for (long i = 0; i < Integer.toUnsignedLong(entries); i++) {
                        map.put(value(first + 2 * i), value(first + 2 * i + 1));
                    }
                    yield Collections.unmodifiableMap(map);
                }
                default -> throw new IllegalStateException("eve returned an unknown eve_value_type " + type
                        + " in an answer (a library newer than the binding?)");
            };
        }

        /** The children of the vector or set node {@code index} (at byte {@code at}). */
        private Object[] items(long index, long at) {
            long n = Integer.toUnsignedLong(nodes.get(JAVA_INT, at + Native.NODE_COUNT));
            long first = children(index, at, n);
            Object[] items = new Object[Math.toIntExact(n)];
            for (int i = 0; i < items.length; i++) {
                items[i] = value(first + i);
            }
            return items;
        }

        /**
         * The index of the first of the {@code n} children of node {@code index}, checked: the
         * children lie after their parent (so the walk ends) and inside the array.
         */
        private long children(long index, long at, long n) {
            long first = nodes.get(JAVA_LONG, at + Native.NODE_FIRST);
            if (n > 0 && (first <= index || first > count || n > count - first)) {
                throw new IllegalStateException("answer node " + index + " lists children " + first + ".."
                        + (first + n - 1) + " of " + count + " nodes");
            }
            return first;
        }

        /** A copy of the node's {@code bytes}. */
        private byte[] bytes(long at) {
            long length = nodes.get(JAVA_LONG, at + BYTES_LEN);
            if (length == 0) {
                return new byte[0];
            }
            return nodes.get(ADDRESS, at + BYTES_DATA).reinterpret(length).toArray(JAVA_BYTE);
        }

        private String text(long at) {
            return new String(bytes(at), StandardCharsets.UTF_8);
        }

        private UUID uuid(long at) {
            byte[] raw = bytes(at);
            if (raw.length != 16) {
                throw new IllegalStateException("an answer uuid has " + raw.length + " bytes, not 16");
            }
            ByteBuffer uuid = ByteBuffer.wrap(raw); // big-endian, as written
            return new UUID(uuid.getLong(), uuid.getLong());
        }
    }
}
