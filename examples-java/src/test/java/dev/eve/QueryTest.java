package dev.eve;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Datalog queries and pulls as Java values ({@link Read#query}, {@link Read#pull}): every find
 * shape, aggregates, pulls inside {@code :find}, every value type, a second database as a
 * {@code $b} source, errors, and the node layout read in place against eve's own getters.
 */
class QueryTest {
    static final String THINGS = """
            [{:db/ident :thing/name :db/valueType :db.type/string :db/unique :db.unique/identity}
             {:db/ident :thing/kw :db/valueType :db.type/keyword}
             {:db/ident :thing/at :db/valueType :db.type/instant}
             {:db/ident :thing/id :db/valueType :db.type/uuid}
             {:db/ident :thing/weight :db/valueType :db.type/double}
             {:db/ident :thing/ok :db/valueType :db.type/boolean}
             {:db/ident :thing/raw :db/valueType :db.type/bytes}
             {:db/ident :thing/sym :db/valueType :db.type/symbol}
             {:db/ident :thing/count :db/valueType :db.type/long}]
            """;

    static final Keyword NAME = Keyword.of("person/name");
    static final Keyword AGE = Keyword.of("person/age");
    static final Keyword FRIEND = Keyword.of("person/friend");
    static final Keyword DB_ID = Keyword.of("db/id");

    private Slab slab;
    private int db;
    private long ada;
    private long bob;
    private long cy;

    @BeforeEach
    void open() {
        slab = Slab.openAnonymous();
        db = slab.database("people");
        slab.transact(db, DatabaseTest.SCHEMA);
        TxReport tx = slab.transact(db, """
                [{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36 :person/friend ["bob" "cy"]}
                 {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/age 41}
                 {:db/id "cy" :person/email "cy@x" :person/name "Cy" :person/age 36}]
                """);
        ada = tx.tempid("ada");
        bob = tx.tempid("bob");
        cy = tx.tempid("cy");
    }

    @AfterEach
    void close() {
        slab.close();
    }

    private <T> T reading(Function<Read, T> body) {
        try (Read read = slab.read()) {
            return body.apply(read);
        }
    }

    private Object query(String query) {
        return query(query, null);
    }

    private Object query(String query, String inputs) {
        return reading(read -> read.query(db, query, inputs));
    }

    /** A map with its entries in the given order (key, value, key, value...). */
    private static Map<Object, Object> map(Object... keysAndValues) {
        Map<Object, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    @Test
    @SuppressWarnings("unchecked")
    void relationsAreSetsOfLists() {
        Object found = query("[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]");
        Set<?> rows = assertInstanceOf(Set.class, found);
        assertEquals(Set.of(List.of("Ada", 36L), List.of("Bob", 41L), List.of("Cy", 36L)), rows);
        // In eve's order (sorted), and unmodifiable all the way down.
        assertEquals(List.of(List.of("Ada", 36L), List.of("Bob", 41L), List.of("Cy", 36L)), List.copyOf(rows));
        assertThrows(UnsupportedOperationException.class, () -> ((Set<Object>) rows).add(List.of()));
        List<?> first = (List<?>) rows.iterator().next();
        assertThrows(UnsupportedOperationException.class, () -> ((List<Object>) first).set(0, "x"));
        // The typed form, and no match: an empty set.
        assertEquals(Set.of(List.of("Ada", "Bob"), List.of("Ada", "Cy")), reading(read -> read.querySet(db,
                "[:find ?n ?fn :where [?e :person/friend ?f] [?e :person/name ?n] [?f :person/name ?fn]]", null)));
        assertEquals(Set.of(), query("[:find ?n :where [?e :person/name ?n] [?e :person/age 99]]"));
        // References come back as entity ids.
        assertEquals(Set.of(List.of(bob), List.of(cy)), query("[:find ?f :where [?e :person/email \"ada@x\"] [?e :person/friend ?f]]"));
    }

    @Test
    void scalarsAreTheValueOrNull() {
        assertEquals(41L, query("[:find ?a . :in $ ?email :where [?e :person/email ?email] [?e :person/age ?a]]", "[\"bob@x\"]"));
        assertEquals("Ada", query("[:find ?n . :where [?e :person/age 36] [?e :person/name ?n] [?e :person/friend]]"));
        assertEquals(ada, query("[:find ?e . :where [?e :person/email \"ada@x\"]]"));
        assertNull(query("[:find ?a . :where [?e :person/name \"Nobody\"] [?e :person/age ?a]]"));
    }

    @Test
    void collectionsAndTuplesAreLists() {
        assertEquals(List.of("Ada", "Bob", "Cy"), query("[:find [?n ...] :where [?e :person/name ?n]]"));
        assertEquals(List.of(36L, 41L), reading(read -> read.queryList(db, "[:find [?a ...] :where [_ :person/age ?a]]", null)));
        assertEquals(List.of(), query("[:find [?n ...] :where [?e :person/name ?n] [?e :person/age 99]]"));
        assertEquals(List.of("Bob", 41L), query("[:find [?n ?a] :where [?e :person/email \"bob@x\"] [?e :person/name ?n] [?e :person/age ?a]]"));
        assertEquals(List.of("Bob", 41L), reading(read -> read.queryList(db,
                "[:find [?n ?a] :where [?e :person/email \"bob@x\"] [?e :person/name ?n] [?e :person/age ?a]]", null)));
        assertNull(query("[:find [?n ?a] :where [?e :person/email \"nobody@x\"] [?e :person/name ?n] [?e :person/age ?a]]"));
        assertNull(reading(read -> read.queryList(db,
                "[:find [?n ?a] :where [?e :person/email \"nobody@x\"] [?e :person/name ?n] [?e :person/age ?a]]", null)));
    }

    @Test
    void returnMapsAreListsOfMapsKeyedAsTheQuerySays() {
        String where = " :where [?e :person/name ?n] [?e :person/age ?a]]";
        List<Map<Object, Object>> keys = reading(read -> read.queryMaps(db, "[:find ?n ?a :keys name age" + where, null));
        assertEquals(List.of(
                map(Keyword.of("name"), "Ada", Keyword.of("age"), 36L),
                map(Keyword.of("name"), "Bob", Keyword.of("age"), 41L),
                map(Keyword.of("name"), "Cy", Keyword.of("age"), 36L)), keys);
        // The entries keep the order of the names.
        assertEquals(List.of(Keyword.of("name"), Keyword.of("age")), List.copyOf(keys.get(0).keySet()));
        assertThrows(UnsupportedOperationException.class, () -> keys.get(0).put("x", 1));
        assertEquals(List.of(
                map(Symbol.of("name"), "Ada", Symbol.of("age"), 36L),
                map(Symbol.of("name"), "Bob", Symbol.of("age"), 41L),
                map(Symbol.of("name"), "Cy", Symbol.of("age"), 36L)), query("[:find ?n ?a :syms name age" + where));
        assertEquals(List.of(
                map("name", "Ada", "age", 36L),
                map("name", "Bob", "age", 41L),
                map("name", "Cy", "age", 36L)), query("[:find ?n ?a :strs name age" + where));
        assertEquals(List.of(), query("[:find ?n :keys name :where [?e :person/name ?n] [?e :person/age 99]]"));
    }

    @Test
    void aggregatesIncludingDistinctSets() {
        Set<List<Object>> rows = reading(read -> read.querySet(db,
                "[:find (count ?e) (min ?a) (max ?a) (sum ?a) (avg ?a) (distinct ?a) :where [?e :person/age ?a]]", null));
        assertEquals(Set.of(List.of(3L, 36L, 41L, 113L, 113.0 / 3, Set.of(36L, 41L))), rows);
        Object distinct = rows.iterator().next().get(5);
        assertEquals(List.of(36L, 41L), List.copyOf((Set<?>) assertInstanceOf(Set.class, distinct))); // sorted
        assertEquals(Set.of(List.of(36L, 2L), List.of(41L, 1L)), query("[:find ?a (count ?e) :where [?e :person/age ?a]]"));
        assertEquals(Set.of("Ada", "Bob", "Cy"), query("[:find (distinct ?n) . :where [_ :person/name ?n]]"));
        assertEquals(List.of(3L), query("[:find [(count ?e)] :where [?e :person/name]]"));
    }

    @Test
    void pullInsideFind() {
        Map<Object, Object> adaWithFriends = map(NAME, "Ada", FRIEND, List.of(map(NAME, "Bob"), map(NAME, "Cy")));
        assertEquals(Set.of(List.of(adaWithFriends)),
                query("[:find (pull ?e [:person/name {:person/friend [:person/name]}]) :where [?e :person/email \"ada@x\"]]"));
        assertEquals(List.of(map(NAME, "Bob", AGE, 41L), map(NAME, "Cy", AGE, 36L)), query("""
                [:find [(pull ?f [:person/name :person/age]) ...]
                 :where [?e :person/email "ada@x"] [?e :person/friend ?f]]"""));
        assertEquals(map(DB_ID, bob, NAME, "Bob"),
                query("[:find (pull ?e [:db/id :person/name]) . :where [?e :person/email \"bob@x\"]]"));
    }

    @Test
    void pullGivesAMapWithKeywordKeys() {
        String pattern = "[:db/id :person/name {:person/friend [:db/id :person/name]}]";
        Map<Object, Object> pulled = reading(read -> read.pull(db, pattern, "[:person/email \"ada@x\"]"));
        assertEquals(map(DB_ID, ada, NAME, "Ada", FRIEND, List.of(map(DB_ID, bob, NAME, "Bob"), map(DB_ID, cy, NAME, "Cy"))), pulled);
        assertEquals(List.of(DB_ID, NAME, FRIEND), List.copyOf(pulled.keySet())); // eve's order
        assertEquals("Ada", pulled.get(Keyword.of(":person/name")));
        assertThrows(UnsupportedOperationException.class, () -> pulled.remove(NAME));
        assertEquals("{:db/id " + ada + ", :person/name \"Ada\", :person/friend [{:db/id " + bob + ", :person/name \"Bob\"} {:db/id "
                + cy + ", :person/name \"Cy\"}]}", reading(read -> read.pullEdn(db, pattern, "[:person/email \"ada@x\"]")));
        // Without a nested pattern a reference is a map of its id; reverse references work too.
        assertEquals(map(NAME, "Ada", FRIEND, List.of(map(DB_ID, bob), map(DB_ID, cy))),
                reading(read -> read.pull(db, "[:person/name :person/friend]", Long.toString(ada))));
        assertEquals(map(NAME, "Bob", Keyword.of("person/_friend"), List.of(map(NAME, "Ada"))),
                reading(read -> read.pull(db, "[:person/name {:person/_friend [:person/name]}]", "[:person/email \"bob@x\"]")));
        // An entity with none of the attributes pulls as an empty map.
        assertEquals(Map.of(), reading(read -> read.pull(db, "[:person/name]", "999999")));
    }

    @Test
    void everyValueTypeRoundTrips() {
        slab.transact(db, THINGS);
        slab.transact(db, """
                [{:thing/name "Zoë ✓ \\"q\\" \\\\ x\\ny" :thing/kw :color/red :thing/at #inst "2020-01-01T00:00:00Z"
                  :thing/id #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6" :thing/weight 2.5 :thing/ok true
                  :thing/raw "hi" :thing/sym foo/bar :thing/count -9223372036854775808}
                 {:thing/name "old" :thing/at #inst "1969-12-31T23:59:59.999Z" :thing/ok false :thing/weight -0.125}]
                """);
        List<Object> row = reading(read -> read.queryList(db, """
                [:find [?n ?k ?at ?id ?w ?ok ?raw ?sym ?c]
                 :where [?e :thing/kw ?k] [?e :thing/name ?n] [?e :thing/at ?at] [?e :thing/id ?id] [?e :thing/weight ?w]
                        [?e :thing/ok ?ok] [?e :thing/raw ?raw] [?e :thing/sym ?sym] [?e :thing/count ?c]]""", null));
        assertEquals("Zoë ✓ \"q\" \\ x\ny", row.get(0));
        assertEquals(Keyword.of("color/red"), row.get(1));
        assertEquals(":color/red", row.get(1).toString());
        assertEquals(Instant.parse("2020-01-01T00:00:00Z"), row.get(2));
        assertEquals(UUID.fromString("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), row.get(3));
        assertEquals(2.5, row.get(4));
        assertEquals(Boolean.TRUE, row.get(5));
        assertArrayEquals("hi".getBytes(), (byte[]) row.get(6));
        assertEquals(Symbol.of("foo/bar"), row.get(7));
        assertEquals(Long.MIN_VALUE, row.get(8));

        assertEquals(List.of(Instant.parse("1969-12-31T23:59:59.999Z"), false, -0.125), query(
                "[:find [?at ?ok ?w] :where [?e :thing/name \"old\"] [?e :thing/at ?at] [?e :thing/ok ?ok] [?e :thing/weight ?w]]"));
        // The same values as constants and as inputs.
        assertEquals("Zoë ✓ \"q\" \\ x\ny", query("""
                [:find ?n . :in $ ?k
                 :where [?e :thing/kw ?k] [?e :thing/id #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"]
                        [?e :thing/at #inst "2020-01-01T00:00:00.000Z"] [?e :thing/name ?n]]""", "[:color/red]"));
        assertEquals(Arrays.asList(null, true, 1L, 4.5, "two", Keyword.of("three"), Symbol.of("four")),
                query("[:find [?x ...] :in $ [?x ...]]", "[[1 \"two\" :three 4.5 true nil four]]"));
        assertEquals(Set.of(Arrays.asList(Keyword.of("kw"), null)), query("[:find ?x ?y :in $ ?x ?y]", "[:kw nil]"));
        // The same row pulled.
        Map<Object, Object> pulled = reading(read -> read.pull(db, "[:thing/kw :thing/at :thing/ok]", "[:thing/name \"old\"]"));
        assertEquals(map(Keyword.of("thing/at"), Instant.parse("1969-12-31T23:59:59.999Z"), Keyword.of("thing/ok"), false), pulled);
    }

    @Test
    void anotherDatabaseAsASource() {
        int pets = slab.database("pets");
        assertNotEquals(db, pets);
        slab.transact(pets, """
                [{:db/ident :pet/owner :db/valueType :db.type/string}
                 {:db/ident :pet/name :db/valueType :db.type/string}]""");
        slab.transact(pets, "[{:pet/owner \"ada@x\" :pet/name \"Rex\"} {:pet/owner \"bob@x\" :pet/name \"Tom\"} {:pet/owner \"zed@x\" :pet/name \"Ghost\"}]");
        String join = "[:find ?n ?pet :in $ $b :where [?e :person/email ?m] [?e :person/name ?n] [$b ?p :pet/owner ?m] [$b ?p :pet/name ?pet]]";
        assertEquals(Set.of(List.of("Ada", "Rex"), List.of("Bob", "Tom")), query(join, "[#eve/db " + pets + "]"));
        assertEquals("#{[\"Ada\" \"Rex\"] [\"Bob\" \"Tom\"]}", reading(read -> read.queryEdn(db, join, "[#eve/db " + pets + "]")));
        assertEquals("Rex", query("""
                [:find ?pet . :in $ $b ?name
                 :where [?e :person/name ?name] [?e :person/email ?m] [$b ?p :pet/owner ?m] [$b ?p :pet/name ?pet]]""",
                "[#eve/db " + pets + " \"Ada\"]"));
        // The other database alone, as the default source.
        assertEquals(List.of("Ghost", "Rex", "Tom"), reading(read -> read.query(pets, "[:find [?n ...] :where [_ :pet/name ?n]]", null)));
    }

    @Test
    void viewsOfTheDatabase() {
        long before = slab.basisT(db);
        slab.transact(db, "[[:db/add [:person/email \"bob@x\"] :person/age 42]]");
        String bobsAge = "[:find ?a . :where [?e :person/email \"bob@x\"] [?e :person/age ?a]]";
        assertEquals(42L, query(bobsAge));
        Object asOf = reading(read -> read.query(db, View.AS_OF, before, bobsAge, null));
        assertEquals(41L, asOf);
        assertEquals(List.of(41L, 42L), reading(read -> read.query(db, View.HISTORY, 0,
                "[:find [?a ...] :where [?e :person/email \"bob@x\"] [?e :person/age ?a]]", null)));
        assertEquals("[41 42]", reading(read -> read.queryEdn(db, View.HISTORY, 0,
                "[:find [?a ...] :where [?e :person/email \"bob@x\"] [?e :person/age ?a]]", null)));
    }

    @Test
    void errors() {
        EveException malformed = assertThrows(EveException.class, () -> query("[:find ?n :where [?e :person/name ?n]"));
        assertEquals(Status.ERR_INVALID_ARGUMENT, malformed.status());
        assertTrue(malformed.errorMessage().contains("malformed EDN in the query"), malformed.errorMessage());
        assertTrue(malformed.getMessage().contains("eve_db_query_answer"), malformed.getMessage());
        EveException unknown = assertThrows(EveException.class, () -> query("[:find ?n :where [?e :person/shoe-size ?n]]"));
        assertEquals(Status.ERR_INVALID_ARGUMENT, unknown.status());
        assertTrue(unknown.errorMessage().contains(":person/shoe-size"), unknown.errorMessage());
        EveException unbound = assertThrows(EveException.class, () -> query("[:find ?n :where [(< ?x 1)]]"));
        assertTrue(unbound.errorMessage().contains("not bound"), unbound.errorMessage());
        EveException badPull = assertThrows(EveException.class,
                () -> reading(read -> read.pull(db, "[:person/name", "[:person/email \"ada@x\"]")));
        assertEquals(Status.ERR_INVALID_ARGUMENT, badPull.status());
        assertTrue(badPull.getMessage().contains("eve_db_pull_answer"), badPull.getMessage());
        assertThrows(EveException.class, () -> query("[:find ?x :in $ $b :where [$b ?x :pet/name]]", "[#eve/db 999]"));

        // The typed forms check the shape.
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> reading(read -> read.querySet(db, "[:find ?n . :where [_ :person/name ?n]]", null)));
        assertTrue(shape.getMessage().contains("scalar"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> reading(read -> read.queryList(db, "[:find ?n :where [_ :person/name ?n]]", null)));
        assertThrows(IllegalArgumentException.class, () -> reading(read -> read.queryMaps(db, "[:find [?n ...] :where [_ :person/name ?n]]", null)));

        Read read = slab.read();
        read.close();
        assertThrows(IllegalStateException.class, () -> read.query(db, "[:find ?n :where [_ :person/name ?n]]", null));
        assertThrows(IllegalStateException.class, () -> read.pull(db, "[*]", Long.toString(ada)));
        assertThrows(IllegalArgumentException.class, () -> query("[:find ?n :where [_ :person/name \"a\0b\"]]"));
        assertThrows(NullPointerException.class, () -> reading(r -> r.query(db, null, 0, "[:find ?n :where [_ :person/name ?n]]", null)));
    }

    @Test
    void aQueryBelongsToTheReadsThread() throws Exception {
        try (Read read = slab.read()) {
            CompletableFuture<Throwable> elsewhere = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try {
                    read.query(db, "[:find ?n :where [_ :person/name ?n]]", null);
                    elsewhere.complete(null);
                } catch (Throwable t) {
                    elsewhere.complete(t);
                }
            });
            EveException e = assertInstanceOf(EveException.class, elsewhere.get(1, TimeUnit.MINUTES));
            assertTrue(e.errorMessage().contains("another thread"), e.errorMessage());
            assertEquals(List.of("Ada", "Bob", "Cy"), read.query(db, "[:find [?n ...] :where [_ :person/name ?n]]", null));
        }
    }

    /**
     * The in-place reading of the node array agrees with eve's own accessors: every node
     * copied by {@code eve_answer_node} is byte for byte the one read through the segment, and
     * the result-set getters ({@code eve_answer_rows}, {@code eve_answer_cell}, the typed
     * getters, {@code eve_answer_column_name}, {@code eve_answer_edn}) give the decoded values.
     */
    @Test
    void nodesReadInPlaceMatchTheGetters() {
        try (Read read = slab.read(); Arena arena = Arena.ofConfined()) {
            MemorySegment answer = answer(read, arena,
                    "[:find ?n ?a (pull ?e [:person/name {:person/friend [:db/id]}]) :where [?e :person/name ?n] [?e :person/age ?a]]");
            try {
                MemorySegment nodesOut = arena.allocate(ADDRESS);
                MemorySegment countOut = arena.allocate(JAVA_LONG);
                Native.check(Native.answerNodes(answer, nodesOut, countOut), "eve_answer_nodes");
                long count = countOut.get(JAVA_LONG, 0);
                long size = Native.EVE_NODE.byteSize();
                MemorySegment nodes = nodesOut.get(ADDRESS, 0).reinterpret(count * size);
                MemorySegment copy = arena.allocate(Native.EVE_NODE);
                for (long i = 0; i < count; i++) {
                    Native.check(Native.answerNode(answer, i, copy), "eve_answer_node");
                    assertEquals(-1, copy.mismatch(nodes.asSlice(i * size, size)), "node " + i);
                }
                assertEquals(Native.EVE_SHAPE_RELATION, shape(answer, arena));
                assertEquals(Native.EVE_VALUE_SET, nodes.get(JAVA_INT, Native.NODE_VALUE_TYPE));
                assertEquals(3, nodes.get(JAVA_INT, Native.NODE_COUNT));

                MemorySegment rows = arena.allocate(JAVA_LONG);
                MemorySegment columns = arena.allocate(JAVA_LONG);
                Native.check(Native.answerRows(answer, rows, columns), "eve_answer_rows");
                assertEquals(3, rows.get(JAVA_LONG, 0));
                assertEquals(3, columns.get(JAVA_LONG, 0));
                List<String> names = new ArrayList<>();
                List<Long> ages = new ArrayList<>();
                for (long row = 0; row < 3; row++) {
                    names.add(text(answer, arena, cell(answer, arena, row, 0)));
                    ages.add(longValue(answer, arena, cell(answer, arena, row, 1)));
                    long age = cell(answer, arena, row, 1);
                    MemorySegment d = arena.allocate(JAVA_DOUBLE);
                    Native.check(Native.answerDouble(answer, age, d), "eve_answer_double");
                    assertEquals((double) ages.get((int) row), d.get(JAVA_DOUBLE, 0));
                    long pulled = cell(answer, arena, row, 2);
                    assertEquals(Native.EVE_VALUE_MAP, nodes.get(JAVA_INT, pulled * size + Native.NODE_VALUE_TYPE));
                    MemorySegment child = arena.allocate(JAVA_LONG);
                    Native.check(Native.answerChild(answer, pulled, 0, child), "eve_answer_child");
                    assertEquals(NAME.name(), text(answer, arena, child.get(JAVA_LONG, 0))); // first key
                }
                assertEquals(List.of("Ada", "Bob", "Cy"), names);
                assertEquals(List.of(36L, 41L, 36L), ages);
                // A text getter on a long fails with EVE_ERR_WRONG_KIND.
                int status = Native.answerText(answer, cell(answer, arena, 0, 1), arena.allocate(ADDRESS), MemorySegment.NULL);
                assertEquals(Status.ERR_WRONG_KIND, status);
                MemorySegment edn = arena.allocate(ADDRESS);
                Native.check(Native.answerEdn(answer, edn), "eve_answer_edn");
                assertEquals(read.queryEdn(db,
                        "[:find ?n ?a (pull ?e [:person/name {:person/friend [:db/id]}]) :where [?e :person/name ?n] [?e :person/age ?a]]",
                        null), Native.cString(edn.get(ADDRESS, 0)));
            } finally {
                Native.check(Native.answerFree(answer), "eve_answer_free");
            }
            // A freed answer is refused, not followed.
            assertEquals(Status.ERR_INVALID_ARGUMENT, Native.answerFree(answer));

            MemorySegment maps = answer(read, arena, "[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a]]");
            try {
                assertEquals(Native.EVE_SHAPE_MAPS, shape(maps, arena));
                MemorySegment name = arena.allocate(ADDRESS);
                Native.check(Native.answerColumnName(maps, 1, name), "eve_answer_column_name");
                assertEquals("age", Native.cString(name.get(ADDRESS, 0)));
                assertEquals(41L, longValue(maps, arena, cell(maps, arena, 1, 1)));
            } finally {
                Native.check(Native.answerFree(maps), "eve_answer_free");
            }
        }
    }

    private MemorySegment answer(Read read, Arena arena, String query) {
        MemorySegment out = arena.allocate(ADDRESS);
        Native.check(Native.dbQueryAnswer(read.handle(), db, View.CURRENT.code, 0, arena.allocateFrom(query),
                MemorySegment.NULL, out), "eve_db_query_answer");
        return out.get(ADDRESS, 0);
    }

    private static int shape(MemorySegment answer, Arena arena) {
        MemorySegment out = arena.allocate(JAVA_INT);
        Native.check(Native.answerShape(answer, out), "eve_answer_shape");
        return out.get(JAVA_INT, 0);
    }

    private static long cell(MemorySegment answer, Arena arena, long row, long column) {
        MemorySegment out = arena.allocate(JAVA_LONG);
        Native.check(Native.answerCell(answer, row, column, out), "eve_answer_cell");
        return out.get(JAVA_LONG, 0);
    }

    private static String text(MemorySegment answer, Arena arena, long node) {
        MemorySegment text = arena.allocate(ADDRESS);
        MemorySegment len = arena.allocate(JAVA_LONG);
        Native.check(Native.answerText(answer, node, text, len), "eve_answer_text");
        String s = Native.cString(text.get(ADDRESS, 0));
        assertEquals(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, len.get(JAVA_LONG, 0));
        return s;
    }

    private static long longValue(MemorySegment answer, Arena arena, long node) {
        MemorySegment out = arena.allocate(JAVA_LONG);
        Native.check(Native.answerLong(answer, node, out), "eve_answer_long");
        return out.get(JAVA_LONG, 0);
    }
}
