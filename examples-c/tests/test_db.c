/* DaoDB through the C ABI: transacting EDN, reading datoms zero-copy through cursors on
 * every index and view, the transaction log, waiting for the next transaction, and the
 * error paths. */
#include <sys/wait.h>

#include "check.h"

static const char *SCHEMA =
    "[{:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}"
    " {:db/ident :person/name :db/valueType :db.type/string}"
    " {:db/ident :person/age :db/valueType :db.type/long}"
    " {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]";

/* Reads every datom of a cursor into `out`; returns how many. */
static size_t drain(eve_cursor *cursor, eve_datom *out, size_t capacity) {
    size_t total = 0, n = 0;
    do {
        eve_datom batch[3];
        CHECK_OK(eve_cursor_next(cursor, batch, 3, &n));
        for (size_t i = 0; i < n && total < capacity; i++) out[total++] = batch[i];
    } while (n > 0);
    CHECK_OK(eve_cursor_close(cursor));
    return total;
}

int main(void) {
    char path[256];
    temp_slab_path(path, sizeof path, "db");
    eve_slab *slab;
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    uint32_t db, again, map;
    CHECK_OK(eve_db_open(slab, "people", &db));
    CHECK_OK(eve_db_open(slab, "people", &again));
    CHECK(db == again);
    CHECK_OK(eve_map_open(slab, "a map", &map));
    CHECK_STATUS(eve_db_open(slab, "a map", &again), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_db_open(slab, NULL, &again), EVE_ERR_NULL_POINTER);

    eve_tx_report report;
    CHECK_OK(eve_db_transact(slab, db, SCHEMA, NULL, 0, &report));
    CHECK(report.t == 1 && report.datoms > 0);
    CHECK_OK(eve_db_transact(slab, db,
                             "[{:db/id \"ada\" :person/email \"ada@x\" :person/name \"Ada\" :person/age 36}"
                             " {:db/id \"bob\" :person/email \"bob@x\" :person/name \"Bob\" :person/friend \"ada\"}]",
                             "{:person/name \"import job\"}", 0, &report));
    CHECK(report.t == 2);
    CHECK(strstr(report.tempids, "\"ada\"") != NULL && strstr(report.tempids, "\"bob\"") != NULL);
    long long ada = 0;
    sscanf(strstr(report.tempids, "\"ada\"") + 6, "%lld", &ada);
    CHECK(ada > 0);
    uint64_t t2 = report.t;
    /* Cardinality one: Ada's age is replaced; the old value stays in history. */
    CHECK_OK(eve_db_transact(slab, db, "[[:db/add [:person/email \"ada@x\"] :person/age 37]]", NULL, 0, &report));
    CHECK(report.t == 3 && report.datoms == 2);
    CHECK_OK(eve_db_transact(slab, db, "[]", NULL, 0, NULL));
    /* A synced transaction is on disk when it returns; unknown flags are refused. */
    CHECK_OK(eve_db_transact(slab, db, "[{:person/email \"sync@x\"}]", NULL, EVE_TX_SYNCED, &report));
    CHECK(report.t == 5);
    CHECK_STATUS(eve_db_transact(slab, db, "[]", NULL, 8, NULL), EVE_ERR_INVALID_ARGUMENT);

    /* Rejected transactions change nothing and say why. */
    uint64_t basis = 0;
    CHECK_OK(eve_db_wait(slab, db, 0, 0, &basis));
    CHECK(basis == 5);
    CHECK_STATUS(eve_db_transact(slab, db, "[{:person/shoe 44}]", NULL, 0, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("unknown attribute :person/shoe");
    CHECK_STATUS(eve_db_transact(slab, db, "[{:person/age \"old\"}]", NULL, 0, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_transact(slab, db, "[{:person/name\n \"x\"", NULL, 0, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("line 2");
    CHECK_STATUS(eve_db_transact(slab, db, "[]", "[not a map]", 0, NULL), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_transact(slab, db, NULL, NULL, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_transact(slab, map, "[]", NULL, 0, NULL), EVE_ERR_WRONG_KIND);
    CHECK_OK(eve_db_wait(slab, db, 0, 0, &basis));
    CHECK(basis == 5);

    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    uint64_t name_attr = 0, age_attr = 0;
    CHECK_OK(eve_db_ident(read, db, ":person/name", &name_attr));
    CHECK_OK(eve_db_ident(read, db, "person/age", &age_attr));
    CHECK(name_attr != 0 && age_attr != 0 && name_attr != age_attr);
    uint64_t nobody;
    CHECK_STATUS(eve_db_ident(read, db, ":person/nobody", &nobody), EVE_ERR_NOT_FOUND);

    /* Current EAVT of Ada: email, name, age 37 (not 36). */
    eve_datom datoms[64];
    char components[64];
    snprintf(components, sizeof components, "[%lld]", ada);
    eve_cursor *cursor;
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_EAVT, EVE_VIEW_CURRENT, 0, components, &cursor));
    size_t n = drain(cursor, datoms, 64);
    CHECK(n == 3);
    int saw_age = 0, saw_name = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(datoms[i].e == (uint64_t)ada);
        if (datoms[i].a == age_attr) {
            saw_age = 1;
            CHECK(datoms[i].value_type == EVE_VALUE_LONG && datoms[i].int_value == 37);
        }
        if (datoms[i].a == name_attr) saw_name = 1;
    }
    CHECK(saw_age && saw_name);

    /* As of t2 Ada was 36; history has 36 asserted, 36 retracted, 37 asserted. */
    snprintf(components, sizeof components, "[%lld :person/age]", ada);
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_EAVT, EVE_VIEW_AS_OF, t2, components, &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 1 && datoms[0].int_value == 36);
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_EAVT, EVE_VIEW_HISTORY, 0, components, &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 3);
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_EAVT, EVE_VIEW_SINCE, t2, components, &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 1 && datoms[0].int_value == 37);

    /* AVET lookup by value, zero-copy string out of the slab. */
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_AVET, EVE_VIEW_CURRENT, 0, "[:person/name \"Bob\"]", &cursor));
    eve_datom bob;
    CHECK_OK(eve_cursor_next(cursor, &bob, 1, &n));
    CHECK(n == 1 && bob.value_type == EVE_VALUE_STRING && bytes_equal(bob.bytes, "Bob"));
    CHECK_OK(eve_cursor_close(cursor));

    /* A range of values in AVET: ages from 30 (inclusive) to 40 (exclusive). */
    CHECK_OK(eve_db_transact(slab, db, "[{:person/email \"kid@x\" :person/age 9}]", NULL, 0, NULL));
    CHECK_OK(eve_read_end(read));
    CHECK_OK(eve_read_begin(slab, &read));
    CHECK_OK(eve_db_range(read, db, EVE_INDEX_AVET, EVE_VIEW_CURRENT, 0, "[:person/age 30]", "[:person/age 40]",
                          &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 1 && datoms[0].int_value == 37);
    CHECK_OK(eve_db_range(read, db, EVE_INDEX_AVET, EVE_VIEW_CURRENT, 0, "[:person/age]", NULL, &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 2 && datoms[0].int_value == 9 && datoms[1].int_value == 37);
    CHECK_OK(eve_db_range(read, db, EVE_INDEX_AVET, EVE_VIEW_HISTORY, 0, "[:person/age 0]", "[:person/age 100]",
                          &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 4); /* 36 asserted and retracted, 37, and 9 */
    CHECK_STATUS(eve_db_range(read, db, EVE_INDEX_AVET, EVE_VIEW_CURRENT, 0, "[:person/age 30]", "[:person/age",
                              &cursor),
                 EVE_ERR_INVALID_ARGUMENT);

    /* VAET: who refers to Ada. AEVT: every name. */
    snprintf(components, sizeof components, "[%lld]", ada);
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_VAET, EVE_VIEW_CURRENT, 0, components, &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 1 && datoms[0].e == bob.e && datoms[0].value_type == EVE_VALUE_REF &&
          datoms[0].int_value == ada);
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_AEVT, EVE_VIEW_CURRENT, 0, "[:person/name]", &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n == 3); /* Ada, Bob, and the metadata entity ("import job") */

    /* Entity lookup as EDN, by lookup ref or id. */
    const char *entity = NULL;
    CHECK_OK(eve_db_entity(read, db, "[:person/email \"ada@x\"]", &entity));
    CHECK(entity && strstr(entity, ":person/age 37") && strstr(entity, ":person/name \"Ada\""));
    snprintf(components, sizeof components, "%lld", ada);
    CHECK_OK(eve_db_entity(read, db, components, &entity));
    CHECK(strstr(entity, ":person/email \"ada@x\"") != NULL);
    CHECK_STATUS(eve_db_entity(read, db, "[:person/email \"nobody\"]", &entity), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_entity(read, db, "\"tempid\"", &entity), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_entity(read, db, NULL, &entity), EVE_ERR_NULL_POINTER);

    /* Datalog, in this process, on the shared indexes; the answer as EDN. */
    const char *answer = NULL;
    CHECK_OK(eve_db_query(read, db, EVE_VIEW_CURRENT, 0, "[:find ?n :where [?e :person/friend ?f] [?e :person/name ?n]]", NULL, &answer));
    CHECK(answer && strcmp(answer, "#{[\"Bob\"]}") == 0);
    CHECK_OK(eve_db_query(read, db, EVE_VIEW_CURRENT, 0, "[:find ?a . :in $ ?email :where [?e :person/email ?email] [?e :person/age ?a]]",
                          "[\"ada@x\"]", &answer));
    CHECK(strcmp(answer, "37") == 0);
    CHECK_STATUS(eve_db_query(read, db, EVE_VIEW_CURRENT, 0, "[:find ?n :where [?e :person/shoe ?n]]", NULL, &answer),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("unknown attribute");
    CHECK_STATUS(eve_db_query(read, db, EVE_VIEW_CURRENT, 0, "[:find ?n :where [(< ?x 1)]]", NULL, &answer), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query(read, db, EVE_VIEW_CURRENT, 0, NULL, NULL, &answer), EVE_ERR_NULL_POINTER);
    /* Pull: Bob and, through the reference, Ada's name. */
    CHECK_OK(eve_db_pull(read, db, "[:person/name {:person/friend [:person/name]}]", "[:person/email \"bob@x\"]", &answer));
    CHECK(strcmp(answer, "{:person/name \"Bob\", :person/friend [{:person/name \"Ada\"}]}") == 0);
    CHECK_STATUS(eve_db_pull(read, db, "[:person/shoe]", "[:person/email \"bob@x\"]", &answer), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_pull(read, db, NULL, "1", &answer), EVE_ERR_NULL_POINTER);
    /* As of transaction 2 Ada was 36; the history holds both ages. */
    CHECK_OK(eve_db_query(read, db, EVE_VIEW_AS_OF, t2, "[:find ?a . :where [?e :person/email \"ada@x\"] [?e :person/age ?a]]",
                          NULL, &answer));
    CHECK(strcmp(answer, "36") == 0);
    CHECK_OK(eve_db_query(read, db, EVE_VIEW_HISTORY, 0, "[:find [?a ...] :where [?e :person/email \"ada@x\"] [?e :person/age ?a]]",
                          NULL, &answer));
    CHECK(strcmp(answer, "[36 37]") == 0);
    CHECK_STATUS(eve_db_query(read, db, 9, 0, "[:find ?a :where [?e :person/age ?a]]", NULL, &answer),
                 EVE_ERR_INVALID_ARGUMENT);

    /* The transaction metadata entity is the m of transaction 2's assertions. */
    CHECK_OK(eve_db_log(read, db, 2, &cursor));
    n = drain(cursor, datoms, 64);
    CHECK(n >= 8);
    uint64_t meta = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(datoms[i].t >= 2);
        if (datoms[i].t == 2 && datoms[i].e == (uint64_t)ada) meta = datoms[i].m;
    }
    CHECK(meta >= 16);

    /* Bad arguments and handles. */
    CHECK_STATUS(eve_db_datoms(read, db, 9, EVE_VIEW_CURRENT, 0, NULL, &cursor), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_datoms(read, db, EVE_INDEX_EAVT, 7, 0, NULL, &cursor), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_datoms(read, db, EVE_INDEX_AVET, 0, 0, "[:person/age \"x\"]", &cursor),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_datoms(read, db, EVE_INDEX_EAVT, 0, 0, "[1 2", &cursor), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_datoms(read, map, EVE_INDEX_EAVT, 0, 0, NULL, &cursor), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_db_datoms(read, db, EVE_INDEX_EAVT, 0, 0, NULL, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_cursor_next(NULL, datoms, 1, &n), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_cursor_close((eve_cursor *)read), EVE_ERR_INVALID_ARGUMENT);
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_EAVT, 0, 0, NULL, &cursor));
    CHECK_STATUS(eve_cursor_next(cursor, datoms, 0, &n), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_cursor_next(cursor, NULL, 4, &n), EVE_ERR_NULL_POINTER);
    CHECK_OK(eve_cursor_close(cursor));
    CHECK_STATUS(eve_cursor_close(cursor), EVE_ERR_INVALID_ARGUMENT);
    CHECK_OK(eve_read_end(read));

    /* Waiting: a timeout returns the old basis; a transaction in another process wakes. */
    CHECK_OK(eve_db_wait(slab, db, 6, 30, &basis));
    CHECK(basis == 6);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        eve_slab *own;
        if (eve_slab_open(path, NULL, &own) != EVE_OK) _exit(2);
        usleep(50 * 1000);
        eve_status s = eve_db_transact(own, db, "[{:person/email \"late@x\"}]", NULL, 0, NULL);
        eve_slab_close(own);
        _exit(s == EVE_OK ? 0 : 3);
    }
    CHECK_OK(eve_db_wait(slab, db, 6, -1, &basis));
    CHECK(basis == 7);
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_OK(eve_slab_close(slab));
    unlink(path);
    return finish("test_db");
}
