package dev.eve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DaoDB: EDN transactions, tempids, upserts, the four indexes, views, the log, metadata and waits. */
class DatabaseTest {
    static final String SCHEMA = """
            [{:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}
             {:db/ident :person/name :db/valueType :db.type/string}
             {:db/ident :person/age :db/valueType :db.type/long}
             {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
             {:db/ident :tx/source :db/valueType :db.type/string}]
            """;

    @TempDir
    Path dir;

    private Slab slab;
    private int db;

    @BeforeEach
    void open() {
        slab = Slab.openAnonymous();
        db = slab.database("people");
        slab.transact(db, SCHEMA);
    }

    @AfterEach
    void close() {
        slab.close();
    }

    private static EveException fails(int status, org.junit.jupiter.api.function.Executable call) {
        EveException e = assertThrows(EveException.class, call);
        assertEquals(status, e.status(), e.getMessage());
        assertEquals(Eve.statusName(status), e.statusName());
        return e;
    }

    /** Every datom of a cursor, which closes itself once exhausted. */
    private static List<Datom> all(Read.Datoms datoms) {
        List<Datom> out = new ArrayList<>();
        datoms.forEachRemaining(out::add);
        return out;
    }

    /** Runs {@code body} in a fresh read on this thread. */
    private <T> T reading(Function<Read, T> body) {
        try (Read read = slab.read()) {
            return body.apply(read);
        }
    }

    /** The values of {@code [e attribute]} in {@code view} as of {@code t}, in EAVT order. */
    private List<Object> values(long e, String attribute, View view, long t) {
        return reading(read -> all(read.datoms(db, Index.EAVT, view, t, "[" + e + " :" + attribute + "]")).stream()
                .map(Datom::value)
                .toList());
    }

    private List<Object> values(long e, String attribute) {
        return values(e, attribute, View.CURRENT, 0);
    }

    @Test
    void rangesOfValues() {
        slab.transact(db, """
                [{:person/email "a@x" :person/age 9} {:person/email "b@x" :person/age 31}
                 {:person/email "c@x" :person/age 39} {:person/email "d@x" :person/age 40}]
                """);
        List<Object> ages = reading(read -> all(read.range(db, Index.AVET, View.CURRENT, 0, "[:person/age 30]", "[:person/age 40]"))
                .stream().map(Datom::value).toList());
        assertEquals(List.of(31L, 39L), ages);
        assertEquals(4, (int) reading(read -> all(read.range(db, Index.AVET, View.CURRENT, 0, "[:person/age]", null)).size()));
        fails(Status.ERR_INVALID_ARGUMENT, () -> reading(read -> all(read.range(db, Index.AVET, View.CURRENT, 0, "[:person/age", null))));
    }

    @Test
    void datalogQueries() {
        slab.transact(db, """
                [{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36 :person/friend "bob"}
                 {:db/id "bob" :person/email "bob@x" :person/name "Bob" :person/age 41}]
                """);
        assertEquals("#{[\"Ada\" \"Bob\"]}", reading(read -> read.queryEdn(db,
                "[:find ?n ?fn :where [?e :person/friend ?f] [?e :person/name ?n] [?f :person/name ?fn]]", null)));
        assertEquals("41", reading(read -> read.queryEdn(db,
                "[:find ?a . :in $ ?email :where [?e :person/email ?email] [?e :person/age ?a]]", "[\"bob@x\"]")));
        assertEquals("{:person/name \"Ada\", :person/friend [{:person/name \"Bob\"}]}", reading(read -> read.pullEdn(db,
                "[:person/name {:person/friend [:person/name]}]", "[:person/email \"ada@x\"]")));
        long before = slab.basisT(db);
        slab.transact(db, "[[:db/add [:person/email \"bob@x\"] :person/age 42]]");
        assertEquals("41", reading(read -> read.queryEdn(db, View.AS_OF, before,
                "[:find ?a . :where [?e :person/email \"bob@x\"] [?e :person/age ?a]]", null)));
        assertEquals("[41 42]", reading(read -> read.queryEdn(db, View.HISTORY, 0,
                "[:find [?a ...] :where [?e :person/email \"bob@x\"] [?e :person/age ?a]]", null)));
        EveException e = fails(Status.ERR_INVALID_ARGUMENT, () -> reading(read -> read.queryEdn(db, "[:find ?n :where [(< ?x 1)]]", null)));
        assertTrue(e.getMessage().contains("not bound"), e.getMessage());
    }

    @Test
    void entitiesAsEdn() {
        TxReport tx = slab.transact(db, """
                [{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36}]
                """);
        long ada = tx.tempid("ada");
        String byRef = reading(read -> read.entity(db, "[:person/email \"ada@x\"]"));
        assertTrue(byRef.startsWith("{:db/id " + ada + ","), byRef);
        assertTrue(byRef.contains(":person/name \"Ada\""), byRef);
        assertTrue(byRef.contains(":person/age 36"), byRef);
        assertEquals(byRef, reading(read -> read.entity(db, Long.toString(ada))));
        EveException e = fails(Status.ERR_INVALID_ARGUMENT, () -> reading(read -> read.entity(db, "[:person/email \"nobody@x\"]")));
        assertTrue(e.getMessage().contains("finds no entity"), e.getMessage());
    }

    @Test
    void databasesAreNamedRoots() {
        assertEquals(db, slab.database("people"));
        int other = slab.database("other");
        assertNotEquals(db, other);
        assertEquals(0, slab.basisT(other));
        assertTrue(slab.basisT(db) > 0);
        assertEquals(new RootInfo(db, RootInfo.Kind.DATABASE), slab.findRoot("people").orElseThrow());
    }

    @Test
    void transactionsResolveTempids() {
        long schemaT = slab.basisT(db);
        TxReport tx = slab.transact(db, """
                [{:db/id "ada" :person/email "ada@x" :person/name "Ada" :person/age 36}
                 {:db/id -1 :person/email "grace@x" :person/name "Grace"}
                 [:db/add "ada" :person/friend -1]]
                """);
        assertEquals(schemaT + 1, tx.t());
        assertEquals(tx.t(), slab.basisT(db));
        assertEquals(6, tx.datoms());
        assertEquals(0, tx.retries());
        assertEquals(Set.of("ada", "-1"), tx.tempids().keySet());
        long ada = tx.tempid("ada");
        long grace = tx.tempid("-1");
        assertNotEquals(ada, grace);
        assertTrue(ada >= 16 && grace >= 16, tx.toString());
        assertThrows(UnsupportedOperationException.class, () -> tx.tempids().put("x", 1L));
        assertThrows(IllegalArgumentException.class, () -> tx.tempid("nobody"));

        try (Read read = slab.read()) {
            long email = read.ident(db, ":person/email");
            assertEquals(email, read.ident(db, "person/email")); // with or without the colon
            long name = read.ident(db, "person/name");
            long age = read.ident(db, "person/age");
            long friend = read.ident(db, "person/friend");
            List<Datom> datoms = all(read.datoms(db, Index.EAVT, "[" + ada + "]"));
            assertEquals(4, datoms.size(), datoms.toString());
            for (Datom d : datoms) {
                assertEquals(ada, d.e());
                assertEquals(tx.t(), d.t());
                assertEquals(1, d.m());
                assertFalse(d.retracted());
            }
            assertEquals(new Datom(ada, email, tx.t(), 1, ValueType.STRING, "ada@x"), find(datoms, email));
            assertEquals(new Datom(ada, name, tx.t(), 1, ValueType.STRING, "Ada"), find(datoms, name));
            assertEquals(new Datom(ada, age, tx.t(), 1, ValueType.LONG, 36L), find(datoms, age));
            assertEquals(new Datom(ada, friend, tx.t(), 1, ValueType.REF, grace), find(datoms, friend));
            // The idents themselves are datoms: :db/ident is an attribute like any other.
            List<Datom> ident = all(read.datoms(db, Index.EAVT, "[" + email + " :db/ident]"));
            assertEquals(List.of("person/email"), ident.stream().map(Datom::value).toList());
            assertEquals(ValueType.KEYWORD, ident.get(0).type());
        }
    }

    private static Datom find(List<Datom> datoms, long attribute) {
        return datoms.stream().filter(d -> d.a() == attribute).findFirst().orElseThrow();
    }

    @Test
    void tempidsWithEscapesComeBackVerbatim() {
        TxReport tx = slab.transact(db, """
                [{:db/id "a \\"quoted\\" \\\\ id" :person/name "Q"}
                 {:db/id "Zoë ✓" :person/name "Z"}]
                """);
        assertEquals(Set.of("a \"quoted\" \\ id", "Zoë ✓"), tx.tempids().keySet());
        assertEquals(List.of("Q"), values(tx.tempid("a \"quoted\" \\ id"), "person/name"));
        assertEquals(List.of("Z"), values(tx.tempid("Zoë ✓"), "person/name"));
    }

    @Test
    void tempidMapParsing() {
        assertEquals(Map.of(), TxReport.parseTempids("{}"));
        assertEquals(Map.of("ada", 1048576L, "-1", 1048577L), TxReport.parseTempids("{\"ada\" 1048576, \"-1\" 1048577}"));
        assertEquals(
                Map.of("a\"b\\c\n\t\r\0'", 5L, "e\u0301", 6L),
                TxReport.parseTempids("{\"a\\\"b\\\\c\\n\\t\\r\\0\\'\" 5 \"e\\u{301}\" 6}"));
        assertEquals(Map.of("big", -1L), TxReport.parseTempids(" { \"big\" 18446744073709551615 } "));
        for (String bad : List.of("", "{", "{\"a\" }", "{\"a\" 1", "{a 1}", "{\"a\\q\" 1}", "{} x")) {
            assertThrows(IllegalStateException.class, () -> TxReport.parseTempids(bad), bad);
        }
    }

    @Test
    void upsertAndCardinalityOneReplacementAcrossViews() {
        TxReport first = slab.transact(db, "[{:db/id \"ada\" :person/email \"ada@x\" :person/name \"Ada\"}]");
        long ada = first.tempid("ada");
        // A new tempid with the same unique identity resolves to the same entity.
        TxReport second = slab.transact(db, "[{:db/id \"again\" :person/email \"ada@x\" :person/name \"Ada L.\"}]");
        assertEquals(ada, second.tempid("again"));
        assertEquals(first.t() + 1, second.t());
        assertEquals(2, second.datoms()); // the old name retracted, the new one asserted

        assertEquals(List.of("Ada L."), values(ada, "person/name"));
        assertEquals(List.of("Ada"), values(ada, "person/name", View.AS_OF, first.t()));
        assertEquals(List.of("Ada L."), values(ada, "person/name", View.AS_OF, second.t()));
        assertEquals(List.of(), values(ada, "person/name", View.AS_OF, first.t() - 1));
        assertEquals(List.of("Ada L."), values(ada, "person/name", View.SINCE, first.t()));
        assertEquals(List.of(), values(ada, "person/name", View.SINCE, second.t()));

        List<Datom> history = reading(read -> all(read.datoms(db, Index.EAVT, View.HISTORY, 0, "[" + ada + " :person/name]")));
        assertEquals(3, history.size(), history.toString());
        assertTrue(history.stream().anyMatch(d -> d.value().equals("Ada") && d.t() == first.t() && !d.retracted()));
        assertTrue(history.stream().anyMatch(d -> d.value().equals("Ada") && d.t() == second.t() && d.retracted()));
        assertTrue(history.stream().anyMatch(d -> d.value().equals("Ada L.") && d.t() == second.t() && !d.retracted()));
        // The email was asserted once and never changed: one datom in every view.
        assertEquals(List.of("ada@x"), values(ada, "person/email", View.HISTORY, 0));
    }

    @Test
    void avetFindsAnEntityByAUniqueValue() {
        TxReport tx = slab.transact(db, """
                [{:db/id "a" :person/email "ada@x" :person/name "Ada"}
                 {:db/id "b" :person/email "bob@x" :person/name "Bob"}]
                """);
        long ada = tx.tempid("a");
        List<Datom> found = reading(read -> all(read.datoms(db, Index.AVET, "[:person/email \"ada@x\"]")));
        assertEquals(1, found.size(), found.toString());
        assertEquals(ada, found.get(0).e());
        assertEquals("ada@x", found.get(0).value());
        // Every email, sorted by value.
        List<Object> emails = reading(read -> all(read.datoms(db, Index.AVET, "[:person/email]")).stream()
                .map(Datom::value)
                .toList());
        assertEquals(List.of("ada@x", "bob@x"), emails);
        // The lookup ref names the same entity in a transaction.
        slab.transact(db, "[[:db/add [:person/email \"ada@x\"] :person/age 37]]");
        assertEquals(List.of(37L), values(ada, "person/age"));
        List<Datom> none = reading(read -> all(read.datoms(db, Index.AVET, "[:person/email \"nobody@x\"]")));
        assertEquals(List.of(), none);
    }

    @Test
    void vaetFindsWhoRefersToAnEntity() {
        TxReport tx = slab.transact(db, """
                [{:db/id "ada" :person/email "ada@x" :person/friend ["grace" "bob"]}
                 {:db/id "grace" :person/email "grace@x"}
                 {:db/id "bob" :person/email "bob@x" :person/friend "grace"}]
                """);
        long ada = tx.tempid("ada");
        long grace = tx.tempid("grace");
        long bob = tx.tempid("bob");
        try (Read read = slab.read()) {
            long friend = read.ident(db, "person/friend");
            List<Datom> referrers = all(read.datoms(db, Index.VAET, "[" + grace + "]"));
            assertEquals(Set.of(ada, bob), Set.copyOf(referrers.stream().map(Datom::e).toList()));
            for (Datom d : referrers) {
                assertEquals(friend, d.a());
                assertEquals(ValueType.REF, d.type());
                assertEquals(grace, d.value());
            }
            // VAET holds reference datoms only: all three friendships, nothing else.
            List<Datom> refs = all(read.datoms(db, Index.VAET));
            assertEquals(3, refs.size(), refs.toString());
            assertTrue(refs.stream().allMatch(d -> d.type() == ValueType.REF));
            // Cardinality many: ada has both friends.
            assertEquals(Set.of(grace, bob), Set.copyOf(all(read.datoms(db, Index.EAVT, "[" + ada + " :person/friend]"))
                    .stream()
                    .map(Datom::value)
                    .toList()));
            // AEVT: the attribute first.
            assertEquals(3, all(read.datoms(db, Index.AEVT, "[:person/friend]")).size());
        }
    }

    @Test
    void theLogListsEveryTransactionFromT() {
        TxReport a = slab.transact(db, "[{:db/id \"a\" :person/email \"a@x\" :person/age 1}]");
        TxReport b = slab.transact(db, "[{:db/id \"b\" :person/email \"b@x\" :person/age 2}]");
        TxReport c = slab.transact(db, "[[:db/retract " + a.tempid("a") + " :person/age 1]]");
        List<Datom> log = reading(read -> all(read.log(db, b.t())));
        assertEquals(b.datoms() + c.datoms(), log.size(), log.toString());
        assertEquals(b.t(), log.get(0).t());
        assertEquals(c.t(), log.get(log.size() - 1).t());
        for (int i = 1; i < log.size(); i++) {
            assertTrue(log.get(i - 1).t() <= log.get(i).t());
        }
        Datom retraction = log.get(log.size() - 1);
        assertTrue(retraction.retracted());
        assertEquals(a.tempid("a"), retraction.e());
        assertEquals(1L, retraction.value());
        // From 0: the schema too; past the end: nothing.
        List<Datom> everything = reading(read -> all(read.log(db, 0)));
        assertTrue(everything.size() > log.size() + a.datoms());
        assertEquals(a.datoms(), everything.stream().filter(d -> d.t() == a.t()).count());
        assertEquals(List.of(), reading(read -> all(read.log(db, c.t() + 1))));
    }

    @Test
    void metadataBecomesTheMOfTheAssertions() {
        TxReport tx = slab.transact(
                db, "[{:db/id \"m\" :person/email \"m@x\" :person/name \"M\"}]", "{:tx/source \"import\"}", false);
        long m = tx.tempid("m");
        List<Datom> datoms = reading(read -> all(read.datoms(db, Index.EAVT, "[" + m + "]")));
        assertEquals(2, datoms.size());
        long meta = datoms.get(0).m();
        assertTrue(meta >= 16, datoms.toString());
        assertTrue(datoms.stream().allMatch(d -> d.m() == meta && !d.retracted()));
        assertEquals(List.of("import"), values(meta, "tx/source"));
        // The metadata is in the transaction's log too.
        List<Datom> log = reading(read -> all(read.log(db, tx.t())));
        assertEquals(tx.datoms(), log.size());
        assertTrue(log.stream().anyMatch(d -> d.e() == meta && "import".equals(d.value())));
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.transact(db, "[{:person/name \"N\"}]", "[:not :a-map]", false));
    }

    @Test
    void aSyncedTransactionIsOnDisk() {
        Path file = dir.resolve("synced.slab");
        long who;
        long t;
        try (Slab onDisk = Slab.open(file)) {
            int people = onDisk.database("people");
            onDisk.transact(people, SCHEMA, null, true);
            TxReport tx = onDisk.transact(people, "[{:db/id \"s\" :person/email \"s@x\"}]", "{:tx/source \"sync\"}", true);
            who = tx.tempid("s");
            t = tx.t();
            assertEquals(t, onDisk.basisT(people));
        }
        try (Slab again = Slab.open(file, OpenOptions.readOnlyOptions())) {
            int people = again.database("people");
            assertEquals(t, again.basisT(people));
            try (Read read = again.read()) {
                List<Datom> datoms = all(read.datoms(people, Index.AVET, "[:person/email \"s@x\"]"));
                assertEquals(1, datoms.size());
                assertEquals(who, datoms.get(0).e());
                assertTrue(datoms.get(0).m() >= 16);
            }
            fails(Status.ERR_READ_ONLY, () -> again.transact(people, "[{:person/email \"r@x\"}]"));
            fails(Status.ERR_NOT_FOUND, () -> again.database("missing"));
        }
    }

    @Test
    void everyValueType() {
        slab.transact(db, """
                [{:db/ident :v/keyword :db/valueType :db.type/keyword}
                 {:db/ident :v/boolean :db/valueType :db.type/boolean}
                 {:db/ident :v/double :db/valueType :db.type/double}
                 {:db/ident :v/instant :db/valueType :db.type/instant}
                 {:db/ident :v/uuid :db/valueType :db.type/uuid}
                 {:db/ident :v/bytes :db/valueType :db.type/bytes}
                 {:db/ident :v/symbol :db/valueType :db.type/symbol}
                 {:db/ident :v/text :db/valueType :db.type/string}]
                """);
        TxReport tx = slab.transact(db, """
                [{:db/id "v" :v/keyword :color/red :v/boolean true :v/double 2.5
                  :v/instant #inst "1990-05-01T00:00:00Z" :v/uuid #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
                  :v/bytes "raw" :v/symbol my-symbol :v/text "héllo, wörld"}]
                """);
        long v = tx.tempid("v");
        Map<String, Object> expected = Map.of(
                "v/keyword", "color/red",
                "v/boolean", true,
                "v/double", 2.5,
                "v/instant", Instant.parse("1990-05-01T00:00:00Z"),
                "v/uuid", UUID.fromString("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
                "v/symbol", "my-symbol",
                "v/text", "héllo, wörld");
        Map<String, ValueType> types = Map.of(
                "v/keyword", ValueType.KEYWORD,
                "v/boolean", ValueType.BOOLEAN,
                "v/double", ValueType.DOUBLE,
                "v/instant", ValueType.INSTANT,
                "v/uuid", ValueType.UUID,
                "v/symbol", ValueType.SYMBOL,
                "v/text", ValueType.STRING);
        try (Read read = slab.read()) {
            for (var e : expected.entrySet()) {
                List<Datom> d = all(read.datoms(db, Index.EAVT, "[" + v + " :" + e.getKey() + "]"));
                assertEquals(1, d.size(), e.getKey());
                assertEquals(types.get(e.getKey()), d.get(0).type(), e.getKey());
                assertEquals(e.getValue(), d.get(0).value(), e.getKey());
            }
            List<Datom> bytes = all(read.datoms(db, Index.EAVT, "[" + v + " :v/bytes]"));
            assertEquals(ValueType.BYTES, bytes.get(0).type());
            assertArrayEquals("raw".getBytes(StandardCharsets.UTF_8), (byte[]) bytes.get(0).value());
            assertTrue(bytes.get(0).toString().contains("#bytes[3]"), bytes.get(0).toString());
        }
    }

    @Test
    void escapedAndEmptyStringsRoundTrip() {
        TxReport tx = slab.transact(db, """
                [{:db/id "q" :person/email "q\\"uote\\\\back\\nline\\ttab@x" :person/name ""}]
                """);
        long q = tx.tempid("q");
        assertEquals(List.of("q\"uote\\back\nline\ttab@x"), values(q, "person/email"));
        assertEquals(List.of(""), values(q, "person/name"));
    }

    @Test
    void cursorsFetchInBatchesAndCopyValues() {
        int n = 3 * Read.ITER_BATCH + 7;
        StringBuilder tx = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            tx.append("{:person/email \"p").append(i).append("@x\" :person/age ").append(i).append("}\n");
        }
        slab.transact(db, tx.append("]").toString());
        List<Datom> ages;
        List<Datom> emails;
        try (Read read = slab.read()) {
            ages = all(read.datoms(db, Index.AVET, "[:person/age]"));
            emails = all(read.datoms(db, Index.AEVT, "[:person/email]"));
        }
        // The read is closed: the datoms are copies and still readable.
        assertEquals(n, ages.size());
        for (int i = 0; i < n; i++) {
            assertEquals((long) i, ages.get(i).value()); // AVET: sorted by value
        }
        assertEquals(n, emails.size());
        assertEquals(n, emails.stream().map(Datom::value).distinct().count());
        assertTrue(emails.stream().allMatch(d -> ((String) d.value()).matches("p\\d+@x")));
    }

    @Test
    void invalidTransactionsFailAndChangeNothing() {
        long t = slab.basisT(db);
        EveException unknown = fails(Status.ERR_INVALID_ARGUMENT, () -> slab.transact(db, "[{:person/shoe-size 44}]"));
        assertTrue(unknown.errorMessage().contains("unknown attribute"), unknown.errorMessage());
        assertTrue(unknown.getMessage().contains("EVE_ERR_INVALID_ARGUMENT"), unknown.getMessage());
        EveException malformed =
                fails(Status.ERR_INVALID_ARGUMENT, () -> slab.transact(db, "[{:person/name \"x\"}\n {:person/age]"));
        assertTrue(malformed.errorMessage().contains("line 2"), malformed.errorMessage());
        EveException wrongType = fails(Status.ERR_INVALID_ARGUMENT, () -> slab.transact(db, "[{:person/age \"old\"}]"));
        assertTrue(wrongType.errorMessage().contains(":person/age"), wrongType.errorMessage());
        fails(Status.ERR_INVALID_ARGUMENT, () -> slab.transact(db, "[] []"));
        assertEquals(t, slab.basisT(db));
        assertThrows(IllegalArgumentException.class, () -> slab.transact(db, "[{:person/name \"a\0b\"}]"));
        assertThrows(NullPointerException.class, () -> slab.transact(db, (String) null));
    }

    @Test
    void wrongKindsAndMissingThings() {
        slab.root("raw");
        int map = slab.map("users");
        fails(Status.ERR_WRONG_KIND, () -> slab.database("raw"));
        fails(Status.ERR_WRONG_KIND, () -> slab.database("users"));
        fails(Status.ERR_WRONG_KIND, () -> slab.map("people"));
        fails(Status.ERR_WRONG_KIND, () -> slab.transact(map, "[]"));
        fails(Status.ERR_WRONG_KIND, () -> slab.waitForTransaction(map, 0, Duration.ZERO));
        try (Read read = slab.read()) {
            fails(Status.ERR_WRONG_KIND, () -> read.ident(map, "person/name"));
            fails(Status.ERR_WRONG_KIND, () -> read.datoms(map, Index.EAVT));
            EveException missing = fails(Status.ERR_NOT_FOUND, () -> read.ident(db, "person/shoe-size"));
            assertTrue(missing.errorMessage().contains("person/shoe-size"), missing.errorMessage());
            fails(Status.ERR_INVALID_ARGUMENT, () -> read.datoms(db, Index.AVET, "[:person/email"));
            fails(Status.ERR_INVALID_ARGUMENT, () -> read.datoms(db, Index.AVET, "[:person/shoe-size]"));
        }
    }

    @Test
    void closedCursorsAndReads() {
        slab.transact(db, "[{:person/email \"a@x\"} {:person/email \"b@x\"}]");
        Read read = slab.read();
        Read.Datoms datoms = read.datoms(db, Index.AVET, "[:person/email]");
        assertTrue(datoms.hasNext());
        MemorySegment handle = datoms.handle();
        datoms.close();
        datoms.close(); // idempotent
        assertFalse(datoms.hasNext());
        assertThrows(NoSuchElementException.class, datoms::next);
        // eve itself refuses the stale handle.
        long[] count = new long[1];
        MemorySegment batch = MemorySegment.ofArray(new long[9]);
        EveException stale = fails(Status.ERR_INVALID_ARGUMENT, () -> Native.check(
                Native.cursorNext(handle, batch, 1, MemorySegment.ofArray(count)), "eve_cursor_next"));
        assertFalse(stale.errorMessage().isEmpty());
        fails(Status.ERR_INVALID_ARGUMENT, () -> Native.check(Native.cursorClose(handle), "eve_cursor_close"));

        // Closing the read closes the cursors still open on it; the slab can then close.
        Read.Datoms index = read.datoms(db, Index.EAVT);
        Read.Datoms log = read.log(db, 0);
        assertTrue(index.hasNext());
        read.close();
        assertFalse(index.hasNext());
        assertFalse(log.hasNext());
        assertThrows(IllegalStateException.class, () -> read.datoms(db, Index.EAVT));
        assertThrows(IllegalStateException.class, () -> read.log(db, 0));
        assertThrows(IllegalStateException.class, () -> read.ident(db, "person/email"));
    }

    @Test
    void aCursorBelongsToTheThreadThatOpenedIt() throws Exception {
        slab.transact(db, "[{:person/email \"a@x\"}]");
        try (Read read = slab.read()) {
            Read.Datoms datoms = read.datoms(db, Index.EAVT);
            List<Throwable> failures = new ArrayList<>();
            for (Runnable misuse : List.<Runnable>of(
                    datoms::hasNext, datoms::close, () -> read.datoms(db, Index.EAVT), () -> read.log(db, 0),
                    () -> read.ident(db, "person/email"))) {
                failures.add(onPlatformThread(() -> {
                    try {
                        misuse.run();
                        return null;
                    } catch (Throwable t) {
                        return t;
                    }
                }).get(1, TimeUnit.MINUTES));
            }
            for (Throwable failure : failures) {
                EveException e = assertInstanceOf(EveException.class, failure);
                assertEquals(Status.ERR_INVALID_ARGUMENT, e.status(), e.getMessage());
                assertTrue(e.errorMessage().contains("another thread"), e.errorMessage());
            }
            assertTrue(all(datoms).size() > 1); // the owner still uses it
        }
    }

    @Test
    void snapshotsAreFixedAtFirstUse() {
        TxReport first = slab.transact(db, "[{:db/id \"a\" :person/email \"a@x\"}]");
        try (Read read = slab.read()) {
            assertEquals(1, all(read.datoms(db, Index.AVET, "[:person/email]")).size());
            slab.transact(db, "[{:person/email \"b@x\"}]");
            assertEquals(1, all(read.datoms(db, Index.AVET, "[:person/email]")).size());
            assertEquals(first.t(), all(read.log(db, first.t())).get(0).t());
            assertEquals(first.datoms(), all(read.log(db, first.t())).size());
        }
        assertEquals(2, reading(read -> all(read.datoms(db, Index.AVET, "[:person/email]"))).size());
    }

    @Test
    void waitForTransactionIsWokenByACommit() throws Exception {
        long t = slab.basisT(db);
        CompletableFuture<Long> waiter = onPlatformThread(() -> slab.waitForTransaction(db, t, Duration.ofMinutes(1)));
        Thread.sleep(50);
        TxReport tx = slab.transact(db, "[{:person/email \"w@x\"}]");
        assertEquals(tx.t(), (long) waiter.get(1, TimeUnit.MINUTES));
        // Already past: returns at once. Forever (null) also returns when something is newer.
        assertEquals(tx.t(), slab.waitForTransaction(db, t, Duration.ofMinutes(1)));
        assertEquals(tx.t(), slab.waitForTransaction(db, t, null));
    }

    @Test
    void waitForTransactionTimesOut() {
        long t = slab.basisT(db);
        long start = System.nanoTime();
        assertEquals(t, slab.waitForTransaction(db, t, Duration.ofMillis(80)));
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(70).toNanos());
        assertEquals(t, slab.waitForTransaction(db, t, Duration.ZERO));
        assertEquals(t, slab.waitForTransaction(db, t + 5, Duration.ofNanos(1)));
    }

    @Test
    void concurrentWritersGetGapFreeTs() throws Exception {
        int threads = 4;
        int rounds = 50;
        long start = slab.basisT(db);
        CyclicBarrier go = new CyclicBarrier(threads);
        List<CompletableFuture<List<TxReport>>> done = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            int writer = w;
            done.add(onPlatformThread(() -> {
                await(go);
                List<TxReport> reports = new ArrayList<>();
                for (int i = 0; i < rounds; i++) {
                    reports.add(slab.transact(db, "[{:db/id \"me\" :person/email \"w" + writer + "-" + i
                            + "@x\" :person/age " + i + "}]"));
                }
                return reports;
            }));
        }
        TreeSet<Long> ts = new TreeSet<>();
        long retries = 0;
        for (CompletableFuture<List<TxReport>> f : done) {
            for (TxReport r : f.get(5, TimeUnit.MINUTES)) {
                assertTrue(ts.add(r.t()), "t " + r.t() + " given twice");
                assertEquals(2, r.datoms());
                retries += r.retries();
            }
        }
        int total = threads * rounds;
        assertEquals(total, ts.size());
        assertEquals(start + 1, ts.first());
        assertEquals(start + total, ts.last()); // no gaps, no duplicates
        assertEquals(start + total, slab.basisT(db));
        assertTrue(retries >= 0);
        try (Read read = slab.read()) {
            assertEquals(total, all(read.datoms(db, Index.AVET, "[:person/email]")).size());
            List<Long> logTs = all(read.log(db, start + 1)).stream().map(Datom::t).distinct().toList();
            assertEquals(List.copyOf(ts), logTs);
        }
    }

    private static <T> CompletableFuture<T> onPlatformThread(Supplier<T> body) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                result.complete(body.get());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(1, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
