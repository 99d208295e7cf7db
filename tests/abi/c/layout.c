/* The C compiler's view of include/eve.h, for tests/c_compiler.rs: a table of sizes,
 * alignments and offsets to hold against Rust's, and a smoke test that drives the real
 * library through the header's declarations. */
#include <stdio.h>
#include <string.h>

#include "eve.h"

/* Keys are spelled exactly as eve_abi_check::layouts! spells them; the Rust side compares
 * the two tables as maps, so a row missing on either side shows up as a difference. */
struct abi_layout_row {
    const char *name;
    size_t value;
};

const struct abi_layout_row *abi_layouts(size_t *count);
int abi_smoke(void);

#define STRUCT(T)                                             \
    {"sizeof struct " #T, sizeof(struct T)},                  \
    {"alignof struct " #T, _Alignof(struct T)}
#define FIELD(T, f)                                           \
    {"offsetof struct " #T "." #f, offsetof(struct T, f)},    \
    {"sizeof struct " #T "." #f, sizeof(((struct T *)0)->f)}
/* The typedef, not the enum tag: for eve_op_kind and eve_open_flag the typedef is
 * uint32_t, and it is what C code declares its variables with. */
#define ENUM(T)                                               \
    {"sizeof enum " #T, sizeof(T)},                           \
    {"alignof enum " #T, _Alignof(T)}

static const struct abi_layout_row ROWS[] = {
    STRUCT(eve_bytes),
    FIELD(eve_bytes, data),
    FIELD(eve_bytes, len),

    STRUCT(eve_op),
    FIELD(eve_op, kind),
    FIELD(eve_op, key),
    FIELD(eve_op, value),

    STRUCT(eve_commit),
    FIELD(eve_commit, root),
    FIELD(eve_commit, retries),
    FIELD(eve_commit, changed),

    STRUCT(eve_open_options),
    FIELD(eve_open_options, flags),
    FIELD(eve_open_options, reader_slots),
    FIELD(eve_open_options, max_size),

    STRUCT(eve_stats),
    FIELD(eve_stats, file_len),
    FIELD(eve_stats, heap_bytes),
    FIELD(eve_stats, bytes_in_use),
    FIELD(eve_stats, blocks_in_use),
    FIELD(eve_stats, free_bytes),
    FIELD(eve_stats, live_readers),
    FIELD(eve_stats, oldest_pinned_epoch),
    FIELD(eve_stats, global_epoch),
    FIELD(eve_stats, retired_blocks),
    FIELD(eve_stats, reader_slots),
    FIELD(eve_stats, roots),
    FIELD(eve_stats, sweeps),
    FIELD(eve_stats, max_size),

    STRUCT(eve_reclaim_report),
    FIELD(eve_reclaim_report, freed_blocks),
    FIELD(eve_reclaim_report, kept_blocks),

    STRUCT(eve_sweep_report),
    FIELD(eve_sweep_report, live_blocks),
    FIELD(eve_sweep_report, live_bytes),
    FIELD(eve_sweep_report, freed_blocks),
    FIELD(eve_sweep_report, freed_bytes),

    STRUCT(eve_datom),
    FIELD(eve_datom, e),
    FIELD(eve_datom, a),
    FIELD(eve_datom, t),
    FIELD(eve_datom, m),
    FIELD(eve_datom, value_type),
    FIELD(eve_datom, int_value),
    FIELD(eve_datom, double_value),
    FIELD(eve_datom, bytes),

    STRUCT(eve_tx_report),
    FIELD(eve_tx_report, t),
    FIELD(eve_tx_report, datoms),
    FIELD(eve_tx_report, retries),
    FIELD(eve_tx_report, tempids),

    STRUCT(eve_node),
    FIELD(eve_node, value_type),
    FIELD(eve_node, count),
    FIELD(eve_node, first),
    FIELD(eve_node, int_value),
    FIELD(eve_node, double_value),
    FIELD(eve_node, bytes),

    STRUCT(eve_yin_result),
    FIELD(eve_yin_result, agent),
    FIELD(eve_yin_result, cursor),
    FIELD(eve_yin_result, steps),
    FIELD(eve_yin_result, state),
    FIELD(eve_yin_result, wait),
    FIELD(eve_yin_result, value_edn),

    STRUCT(eve_yin_agent_info),
    FIELD(eve_yin_agent_info, agent),
    FIELD(eve_yin_agent_info, program),
    FIELD(eve_yin_agent_info, owner),
    FIELD(eve_yin_agent_info, cursor),
    FIELD(eve_yin_agent_info, state),
    FIELD(eve_yin_agent_info, projection),
    FIELD(eve_yin_agent_info, wait),
    FIELD(eve_yin_agent_info, result_edn),
    FIELD(eve_yin_agent_info, error),

    STRUCT(eve_yin_work_report),
    FIELD(eve_yin_work_report, taken),
    FIELD(eve_yin_work_report, finished),
    FIELD(eve_yin_work_report, parked),
    FIELD(eve_yin_work_report, failed),

    ENUM(eve_status),
    ENUM(eve_op_kind),
    ENUM(eve_open_flag),
    ENUM(eve_root_kind),
    ENUM(eve_index),
    ENUM(eve_view),
    ENUM(eve_value_type),
    ENUM(eve_tx_flag),
    ENUM(eve_shape),
    ENUM(eve_yin_projection),
    ENUM(eve_yin_state),
    ENUM(eve_yin_wait),
};

const struct abi_layout_row *abi_layouts(size_t *count) {
    *count = sizeof ROWS / sizeof ROWS[0];
    return ROWS;
}

/* Reports which step failed, so a failing Rust assertion names it. */
static int failed(int step, const char *what) {
    fprintf(stderr, "abi_smoke step %d (%s): %s\n", step, what, eve_last_error_message());
    return step;
}

/* A query answer read back through the node array the header declares (struct eve_node,
 * read in place), the result-set calls and a typed getter. */
static int smoke_answer(eve_slab *slab) {
    uint32_t db = 0;
    if (eve_db_open(slab, "abi db", &db) != EVE_OK) return failed(10, "eve_db_open");
    if (eve_db_transact(slab, db,
                        "[{:db/ident :abi/name :db/valueType :db.type/string}"
                        " {:db/ident :abi/n :db/valueType :db.type/long}]",
                        NULL, 0, NULL) != EVE_OK ||
        eve_db_transact(slab, db, "[{:abi/name \"one\" :abi/n 1} {:abi/name \"two\" :abi/n 2}]",
                        NULL, 0, NULL) != EVE_OK)
        return failed(11, "eve_db_transact");

    eve_read *read = NULL;
    if (eve_read_begin(slab, &read) != EVE_OK) return failed(12, "eve_read_begin");
    eve_answer *answer = NULL;
    enum eve_status got = eve_db_query_answer(
        read, db, EVE_VIEW_CURRENT, 0, "[:find ?s ?n :where [?e :abi/name ?s] [?e :abi/n ?n]]",
        NULL, &answer);
    /* The answer owns its data: everything below runs after the read has ended. */
    if (eve_read_end(read) != EVE_OK) return failed(13, "eve_read_end");
    if (got != EVE_OK) return failed(14, "eve_db_query_answer");

    int result = 0;
    uint32_t shape = 99;
    uint64_t rows = 0, columns = 0, count = 0, cell = 0;
    const struct eve_node *nodes = NULL;
    int64_t n = 0;
    if (eve_answer_shape(answer, &shape) != EVE_OK || shape != EVE_SHAPE_RELATION)
        result = failed(15, "eve_answer_shape");
    else if (eve_answer_rows(answer, &rows, &columns) != EVE_OK || rows != 2 || columns != 2)
        result = failed(16, "eve_answer_rows");
    else if (eve_answer_nodes(answer, &nodes, &count) != EVE_OK || count != 7 ||
             nodes[0].value_type != EVE_VALUE_SET || nodes[0].count != 2)
        result = failed(17, "eve_answer_nodes");
    /* Rows of a set are sorted: ["one" 1] then ["two" 2]. */
    else if (eve_answer_cell(answer, 1, 0, &cell) != EVE_OK || cell >= count ||
             nodes[cell].value_type != EVE_VALUE_STRING || nodes[cell].bytes.len != 3 ||
             memcmp(nodes[cell].bytes.data, "two", 4) != 0)
        result = failed(18, "eve_answer_cell");
    else if (eve_answer_cell(answer, 1, 1, &cell) != EVE_OK ||
             eve_answer_long(answer, cell, &n) != EVE_OK || n != 2)
        result = failed(19, "eve_answer_long");
    if (eve_answer_free(answer) != EVE_OK && result == 0) result = failed(20, "eve_answer_free");
    return result;
}

/* A Yin program compiled, run to its value through the header's eve_yin_result, and one
 * that parks, resumed with an EDN value. */
static int smoke_yin(eve_slab *slab) {
    eve_yin *yin = NULL;
    if (eve_yin_open(slab, "abi yin", &yin) != EVE_OK) return failed(30, "eve_yin_open");
    int result = 0;
    uint64_t program = 0;
    struct eve_yin_result run;
    memset(&run, 0, sizeof run);
    if (eve_yin_compile(yin, "((fn [x] (+ x (park))) 10)", &program) != EVE_OK)
        result = failed(31, "eve_yin_compile");
    else if (eve_yin_run(yin, program, EVE_YIN_STACK, &run) != EVE_OK ||
             run.state != EVE_YIN_PARKED || run.wait != EVE_YIN_WAIT_RESUME ||
             run.value_edn != NULL)
        result = failed(32, "eve_yin_run");
    else if (eve_yin_resume(yin, run.agent, "5", &run) != EVE_OK || run.state != EVE_YIN_DONE ||
             run.value_edn == NULL || strcmp(run.value_edn, "15") != 0)
        result = failed(33, "eve_yin_resume");
    if (eve_yin_close(yin) != EVE_OK && result == 0) result = failed(34, "eve_yin_close");
    return result;
}

static int smoke_on(eve_slab *slab) {
    uint32_t map = 0;
    if (eve_map_open(slab, "abi", &map) != EVE_OK) return failed(2, "eve_map_open");

    static const char k1[] = "one", v1[] = "first", k2[] = "two", v2[] = "second";
    const struct eve_op ops[2] = {
        {EVE_OP_PUT, {(const uint8_t *)k1, strlen(k1)}, {(const uint8_t *)v1, strlen(v1)}},
        {EVE_OP_PUT, {(const uint8_t *)k2, strlen(k2)}, {(const uint8_t *)v2, strlen(v2)}},
    };
    struct eve_commit commit;
    memset(&commit, 0, sizeof commit);
    if (eve_map_transact(slab, map, ops, 2, &commit) != EVE_OK)
        return failed(3, "eve_map_transact");
    if (!commit.changed || commit.root == 0) return failed(4, "commit report");

    eve_read *read = NULL;
    if (eve_read_begin(slab, &read) != EVE_OK) return failed(5, "eve_read_begin");
    struct eve_bytes value = {NULL, 0};
    enum eve_status got = eve_read_get(read, map, (const uint8_t *)k2, strlen(k2), &value);
    /* Compared before the read ends: afterwards `value` may point at reclaimed memory. */
    int same = got == EVE_OK && value.len == strlen(v2) && value.data != NULL &&
               memcmp(value.data, v2, value.len) == 0;
    if (eve_read_end(read) != EVE_OK) return failed(6, "eve_read_end");
    if (got != EVE_OK) return failed(7, "eve_read_get");
    if (!same) return failed(8, "eve_read_get value");
    int result = smoke_answer(slab);
    return result ? result : smoke_yin(slab);
}

int abi_smoke(void) {
    /* Zero-initialised options are documented as "all defaults"; -Werror makes sure the
     * `{0}` idiom the header recommends compiles cleanly. */
    struct eve_open_options options = {0};
    eve_slab *slab = NULL;
    if (eve_slab_open_anonymous(&options, &slab) != EVE_OK)
        return failed(1, "eve_slab_open_anonymous");
    int result = smoke_on(slab);
    if (eve_slab_close(slab) != EVE_OK && result == 0) result = failed(9, "eve_slab_close");
    return result;
}
