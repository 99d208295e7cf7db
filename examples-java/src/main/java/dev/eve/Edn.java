package dev.eve;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The EDN that Yin values cross the C ABI as, to and from Java values: {@code nil} is
 * {@code null}, booleans {@link Boolean}, integers {@link Long}, floats {@link Double},
 * strings {@link String}, keywords {@link Keyword}, symbols {@link Symbol}, vectors and lists
 * unmodifiable {@link List}s, maps unmodifiable {@link Map}s (in the order written), and
 * tagged values such as {@code #yin/stream 3} a {@link Tagged}.
 */
public final class Edn {
    private Edn() {}

    /**
     * A tagged EDN value: functions ({@code #yin/fn 12}), built-ins ({@code #yin/prim +}),
     * streams ({@code #yin/stream 3}) and cursors ({@code #yin/cursor 4}).
     *
     * @param tag the tag without the {@code #}, e.g. {@code "yin/stream"}
     * @param value the tagged value
     */
    public record Tagged(String tag, Object value) {
        @Override
        public String toString() {
            return "#" + tag + " " + write(value);
        }
    }

    /** Reads one EDN value. */
    public static Object read(String text) {
        Objects.requireNonNull(text, "text");
        Reader reader = new Reader(text);
        Object value = reader.value();
        reader.space();
        if (reader.at < text.length()) {
            throw new IllegalArgumentException("EDN: more than one value in " + text);
        }
        return value;
    }

    /** Writes {@code value} (any of the types {@link #read} returns; any integer, float or collection) as EDN. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("nil");
            case Boolean b -> out.append(b);
            case Long l -> out.append(l);
            case Integer i -> out.append(i);
            case Short s -> out.append(s);
            case Byte b -> out.append(b);
            case Double d -> writeDouble(d, out);
            case Float f -> writeDouble(f.doubleValue(), out);
            case String s -> writeString(s, out);
            case Keyword k -> out.append(':').append(k.name());
            case Symbol s -> out.append(s.name());
            case Tagged t -> out.append(t);
            case Map<?, ?> m -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        out.append(", ");
                    }
                    first = false;
                    write(e.getKey(), out);
                    out.append(' ');
                    write(e.getValue(), out);
                }
                out.append('}');
            }
            case Collection<?> c -> {
                out.append('[');
                boolean first = true;
                for (Object item : c) {
                    if (!first) {
                        out.append(' ');
                    }
                    first = false;
                    write(item, out);
                }
                out.append(']');
            }
            default -> throw new IllegalArgumentException(
                    "no EDN for a " + value.getClass().getName() + " (" + value + ")");
        }
    }

    private static void writeDouble(double d, StringBuilder out) {
        if (Double.isNaN(d)) {
            out.append("##NaN");
        } else if (Double.isInfinite(d)) {
            out.append(d > 0 ? "##Inf" : "##-Inf");
        } else {
            String text = Double.toString(d);
            out.append(text);
        }
    }

    private static void writeString(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> out.append(c);
            }
        }
        out.append('"');
    }

    private static final class Reader {
        final String text;
        int at;

        Reader(String text) {
            this.text = text;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("EDN at offset " + at + ": " + what + " in " + text);
        }

        void space() {
            while (at < text.length()) {
                char c = text.charAt(at);
                if (Character.isWhitespace(c) || c == ',') {
                    at++;
                } else if (c == ';') {
                    while (at < text.length() && text.charAt(at) != '\n') {
                        at++;
                    }
                } else {
                    break;
                }
            }
        }

        Object value() {
            space();
            if (at >= text.length()) {
                throw error("the text ends where a value was expected");
            }
            char c = text.charAt(at);
            switch (c) {
                case '[', '(' -> {
                    at++;
                    return Collections.unmodifiableList(items(c == '[' ? ']' : ')'));
                }
                case '{' -> {
                    at++;
                    List<Object> items = items('}');
                    if (items.size() % 2 != 0) {
                        throw error("a map needs an even number of forms");
                    }
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (int i = 0; i < items.size(); i += 2) {
                        map.put(items.get(i), items.get(i + 1));
                    }
                    return Collections.unmodifiableMap(map);
                }
                case '"' -> {
                    return string();
                }
                case ':' -> {
                    at++;
                    return new Keyword(token());
                }
                case '#' -> {
                    if (text.startsWith("##", at)) {
                        at += 2;
                        String name = token();
                        return switch (name) {
                            case "NaN" -> Double.NaN;
                            case "Inf" -> Double.POSITIVE_INFINITY;
                            case "-Inf" -> Double.NEGATIVE_INFINITY;
                            default -> throw error("unknown ##" + name);
                        };
                    }
                    at++;
                    String tag = token();
                    return new Tagged(tag, value());
                }
                default -> {
                    String token = token();
                    if (token.isEmpty()) {
                        throw error("unexpected " + c);
                    }
                    return atom(token);
                }
            }
        }

        List<Object> items(char close) {
            List<Object> items = new ArrayList<>();
            while (true) {
                space();
                if (at >= text.length()) {
                    throw error("missing " + close);
                }
                if (text.charAt(at) == close) {
                    at++;
                    return items;
                }
                items.add(value());
            }
        }

        String token() {
            int start = at;
            while (at < text.length()) {
                char c = text.charAt(at);
                if (Character.isWhitespace(c) || c == ',' || "()[]{}\";".indexOf(c) >= 0) {
                    break;
                }
                at++;
            }
            return text.substring(start, at);
        }

        Object atom(String token) {
            switch (token) {
                case "nil":
                    return null;
                case "true":
                    return Boolean.TRUE;
                case "false":
                    return Boolean.FALSE;
                default:
                    break;
            }
            char first = token.charAt(0);
            boolean numeric = Character.isDigit(first)
                    || ((first == '-' || first == '+') && token.length() > 1 && Character.isDigit(token.charAt(1)));
            if (!numeric) {
                return new Symbol(token);
            }
            String number = token.endsWith("N") || token.endsWith("M") ? token.substring(0, token.length() - 1) : token;
            try {
                if (number.contains(".") || number.contains("e") || number.contains("E")) {
                    return Double.parseDouble(number);
                }
                return Long.parseLong(number);
            } catch (NumberFormatException e) {
                throw error("bad number " + token);
            }
        }

        String string() {
            at++; // the opening quote
            StringBuilder out = new StringBuilder();
            while (at < text.length()) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (at >= text.length()) {
                    break;
                }
                char e = text.charAt(at++);
                switch (e) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'u' -> {
                        if (at + 4 > text.length()) {
                            throw error("a short \\u escape");
                        }
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> out.append(e);
                }
            }
            throw error("a string without its closing quote");
        }
    }
}
