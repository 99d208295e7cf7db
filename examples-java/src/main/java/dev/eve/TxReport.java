package dev.eve;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a DaoDB transaction did ({@code eve_tx_report}).
 *
 * @param t       the transaction's {@code t}
 * @param datoms  datoms written (assertions and retractions)
 * @param retries times the transaction was applied again because another writer published first
 * @param tempids the entity id each tempid of the transaction data resolved to, by tempid
 *                (a string tempid as written, a negative number as its decimal text: {@code
 *                "-1"}); unmodifiable
 */
public record TxReport(long t, long datoms, long retries, Map<String, Long> tempids) {
    public TxReport {
        tempids = Collections.unmodifiableMap(new LinkedHashMap<>(tempids));
    }

    /** The entity id of {@code tempid}; throws {@link IllegalArgumentException} if the transaction had no such tempid. */
    public long tempid(String tempid) {
        Long id = tempids.get(tempid);
        if (id == null) {
            throw new IllegalArgumentException("no tempid " + tempid + " in " + tempids.keySet());
        }
        return id;
    }

    /**
     * Parses the tempids map eve hands out: {@code {"ada" 1048576, "-1" 1048577}}, keys
     * quoted and escaped as Rust's {@code Debug} writes strings (a backslash before {@code "},
     * another backslash, {@code n}, {@code r}, {@code t}, {@code 0}, {@code '}, or {@code
     * u{hex}}), values unsigned decimal numbers, entries separated by commas or whitespace.
     */
    static Map<String, Long> parseTempids(String edn) {
        Map<String, Long> out = new LinkedHashMap<>();
        Parser p = new Parser(edn);
        p.skipSpace();
        p.expect('{');
        while (true) {
            p.skipSpace();
            if (p.peek() == '}') {
                p.pos++;
                break;
            }
            String key = p.string();
            p.skipSpace();
            long value = p.number();
            out.put(key, value);
        }
        p.skipSpace();
        if (p.pos != edn.length()) {
            throw p.error("unexpected text after the map");
        }
        return out;
    }

    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        char peek() {
            if (pos >= text.length()) {
                throw error("unexpected end");
            }
            return text.charAt(pos);
        }

        void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        void skipSpace() {
            while (pos < text.length() && (Character.isWhitespace(text.charAt(pos)) || text.charAt(pos) == ',')) {
                pos++;
            }
        }

        String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (true) {
                char c = peek();
                pos++;
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = peek();
                pos++;
                switch (escaped) {
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case '0' -> out.append('\0');
                    case '"', '\\', '\'' -> out.append(escaped);
                    case 'u' -> {
                        expect('{');
                        int end = text.indexOf('}', pos);
                        if (end < 0) {
                            throw error("unterminated \\u{...}");
                        }
                        try {
                            out.appendCodePoint(Integer.parseInt(text.substring(pos, end), 16));
                        } catch (IllegalArgumentException bad) {
                            throw error("bad \\u{...} escape");
                        }
                        pos = end + 1;
                    }
                    default -> throw error("unknown escape \\" + escaped);
                }
            }
        }

        long number() {
            int start = pos;
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                pos++;
            }
            if (start == pos) {
                throw error("expected an entity id");
            }
            try {
                return Long.parseUnsignedLong(text, start, pos, 10);
            } catch (NumberFormatException bad) {
                throw error("entity id out of range");
            }
        }

        IllegalStateException error(String what) {
            return new IllegalStateException("cannot parse eve's tempids " + text + ": " + what + " at " + pos);
        }
    }
}
