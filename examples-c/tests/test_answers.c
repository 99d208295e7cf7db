/* Query and pull answers through the C ABI (eve_db_query_answer, eve_db_pull_answer and
 * eve_answer_*): every find shape walked as a result set with eve_answer_rows and
 * eve_answer_cell and read with the typed getters; aggregates, `distinct` sets and pulls
 * inside :find; pull answers as nested maps; the node array read in place against
 * eve_answer_node, eve_answer_child, the typed getters and the answer's own EDN; other
 * databases (`#eve/db n`) and relations as `$name` sources; and the error paths, answers
 * outliving their read and answers used from another thread. */
#include <math.h> /* isinf, a macro: no libm needed */
#include <pthread.h>
#include <stdarg.h>

#include "check.h"

static const char *SCHEMA =
    "[{:db/ident :person/email :db/valueType :db.type/string :db/unique :db.unique/identity}"
    " {:db/ident :person/name :db/valueType :db.type/string}"
    " {:db/ident :person/age :db/valueType :db.type/long}"
    " {:db/ident :person/score :db/valueType :db.type/double}"
    " {:db/ident :person/member :db/valueType :db.type/boolean}"
    " {:db/ident :person/tag :db/valueType :db.type/keyword}"
    " {:db/ident :person/born :db/valueType :db.type/instant}"
    " {:db/ident :person/best :db/valueType :db.type/ref}"
    " {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]";

/* Ada, 36; Bob, 40, whose friend and best friend is Ada; Cy, 36, friends with both, whose
 * best friend is Bob. */
static const char *PEOPLE =
    "[{:db/id \"ada\" :person/email \"ada@x\" :person/name \"Ada\" :person/age 36"
    "  :person/score 9.5 :person/member true :person/tag :role/admin"
    "  :person/born #inst \"2000-01-01T00:00:00Z\"}"
    " {:db/id \"bob\" :person/email \"bob@x\" :person/name \"Bob\" :person/age 40"
    "  :person/score 7.0 :person/member false :person/tag :role/user"
    "  :person/friend \"ada\" :person/best \"ada\"}"
    " {:db/id \"cy\" :person/email \"cy@x\" :person/name \"Cy\" :person/age 36"
    "  :person/score 8.25 :person/tag :role/user"
    "  :person/friend [\"ada\" \"bob\"] :person/best \"bob\"}]";

static eve_slab *slab;
static uint32_t db, other, a_map;
static long long ada, bob, cy;

/* ---- reporting ----------------------------------------------------------------------- */

/* A failed check inside a helper, reported at the caller's line. */
static void fail_at(int line, const char *format, ...) {
    va_list args;
    va_start(args, format);
    fprintf(stderr, "%s:%d: ", __FILE__, line);
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    check_failures++;
}

#define EXPECT_AT(line, cond, ...)                                                   \
    do {                                                                             \
        if (!(cond)) fail_at(line, __VA_ARGS__);                                     \
    } while (0)

/* Like CHECK_STATUS, from a helper, at the caller's line. */
static int status_at(int line, eve_status got, eve_status expected, const char *what) {
    if (got != expected) {
        fail_at(line, "%s returned %s, expected %s (%s)", what, eve_status_name(got),
                eve_status_name(expected), eve_last_error_message());
        return 0;
    }
    if (got != EVE_OK && eve_last_error_message()[0] == '\0') {
        fail_at(line, "%s failed without a message", what);
        return 0;
    }
    return 1;
}

/* ---- a growing text buffer ----------------------------------------------------------- */

typedef struct {
    char *text;
    size_t len, cap;
} buffer;

static void put(buffer *b, const char *format, ...) {
    va_list args;
    va_start(args, format);
    va_list again;
    va_copy(again, args);
    int n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->text = realloc(b->text, b->cap);
    }
    vsnprintf(b->text + b->len, (size_t)n + 1, format, again);
    va_end(again);
    b->len += (size_t)n;
}

static char *copy_text(const char *text) {
    size_t n = strlen(text) + 1;
    char *out = malloc(n);
    memcpy(out, text, n);
    return out;
}

/* ---- the node array read in place ---------------------------------------------------- */

static int is_collection(uint32_t type) {
    return type == EVE_VALUE_VECTOR || type == EVE_VALUE_SET || type == EVE_VALUE_MAP;
}

static uint64_t children_of(const eve_node *node) {
    return node->value_type == EVE_VALUE_MAP ? 2 * (uint64_t)node->count : node->count;
}

/* A double as Rust prints it: the shortest text that reads back the same, with ".0" for
 * whole numbers. */
static void put_double(buffer *b, double d) {
    if (isinf(d)) {
        put(b, d > 0 ? "##Inf" : "##-Inf");
        return;
    }
    if (d > -1e15 && d < 1e15 && d == (double)(long long)d) {
        put(b, "%.1f", d);
        return;
    }
    char text[64];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, d);
        if (strtod(text, NULL) == d) break;
    }
    put(b, "%s", text);
}

static void put_string(buffer *b, eve_bytes bytes) {
    put(b, "\"");
    for (size_t i = 0; i < bytes.len; i++) {
        unsigned char c = bytes.data[i];
        switch (c) {
        case '"': put(b, "\\\""); break;
        case '\\': put(b, "\\\\"); break;
        case '\n': put(b, "\\n"); break;
        case '\t': put(b, "\\t"); break;
        case '\r': put(b, "\\r"); break;
        default:
            if (c < 0x20 || c == 0x7f)
                put(b, "\\u%04x", c);
            else
                put(b, "%c", c);
        }
    }
    put(b, "\"");
}

/* Writes node `i` and its children as EDN, marking each node reached. Returns 0 for a type
 * this renderer leaves to eve (instants, uuids, bytes) or a node outside the array. */
static int render(const eve_node *nodes, uint64_t count, uint64_t i, unsigned *reached,
                  buffer *b) {
    if (i >= count) return 0;
    reached[i]++;
    const eve_node *n = &nodes[i];
    switch (n->value_type) {
    case EVE_VALUE_NIL: put(b, "nil"); return 1;
    case EVE_VALUE_BOOLEAN: put(b, n->int_value ? "true" : "false"); return 1;
    case EVE_VALUE_LONG:
    case EVE_VALUE_REF: put(b, "%lld", (long long)n->int_value); return 1;
    case EVE_VALUE_DOUBLE: put_double(b, n->double_value); return 1;
    case EVE_VALUE_STRING: put_string(b, n->bytes); return 1;
    case EVE_VALUE_KEYWORD: put(b, ":%.*s", (int)n->bytes.len, (const char *)n->bytes.data); return 1;
    case EVE_VALUE_SYMBOL: put(b, "%.*s", (int)n->bytes.len, (const char *)n->bytes.data); return 1;
    case EVE_VALUE_VECTOR:
    case EVE_VALUE_SET:
    case EVE_VALUE_MAP: {
        int map = n->value_type == EVE_VALUE_MAP;
        put(b, map ? "{" : n->value_type == EVE_VALUE_SET ? "#{" : "[");
        int ok = 1;
        for (uint64_t k = 0; k < children_of(n); k++) {
            if (k > 0) put(b, map && k % 2 == 0 ? ", " : " ");
            ok &= render(nodes, count, n->first + k, reached, b);
        }
        put(b, map ? "}" : n->value_type == EVE_VALUE_SET ? "}" : "]");
        return ok;
    }
    default: return 0;
    }
}

/* Checks that the node array read in place agrees with everything else the API says about
 * the answer: eve_answer_node copies, eve_answer_child indexes, the typed getters, the
 * tree structure (every node but the root the child of exactly one collection, every
 * node reachable from node 0) and, rendered as EDN, eve_answer_edn. */
static void check_tree_at(int line, const eve_answer *answer) {
    const eve_node *nodes = NULL;
    uint64_t count = 0;
    if (!status_at(line, eve_answer_nodes(answer, &nodes, &count), EVE_OK, "eve_answer_nodes"))
        return;
    EXPECT_AT(line, nodes != NULL && count >= 1, "empty node array");
    unsigned *parents = calloc(count, sizeof *parents);
    unsigned *reached = calloc(count, sizeof *reached);
    for (uint64_t i = 0; i < count; i++) {
        const eve_node *n = &nodes[i];
        eve_node copy;
        memset(&copy, 0xab, sizeof copy);
        status_at(line, eve_answer_node(answer, i, &copy), EVE_OK, "eve_answer_node");
        EXPECT_AT(line,
                  copy.value_type == n->value_type && copy.count == n->count &&
                      copy.first == n->first && copy.int_value == n->int_value &&
                      memcmp(&copy.double_value, &n->double_value, sizeof(double)) == 0 &&
                      copy.bytes.data == n->bytes.data && copy.bytes.len == n->bytes.len,
                  "node %llu: eve_answer_node differs from the array", (unsigned long long)i);
        EXPECT_AT(line, n->value_type <= EVE_VALUE_MAP, "node %llu: type %u",
                  (unsigned long long)i, n->value_type);
        uint64_t child = 0;
        if (is_collection(n->value_type)) {
            uint64_t children = children_of(n);
            EXPECT_AT(line, children == 0 || (n->first >= 1 && n->first + children <= count),
                      "node %llu: children %llu..%llu outside the %llu nodes",
                      (unsigned long long)i, (unsigned long long)n->first,
                      (unsigned long long)(n->first + children), (unsigned long long)count);
            for (uint64_t k = 0; k < children; k++) {
                status_at(line, eve_answer_child(answer, i, k, &child), EVE_OK, "eve_answer_child");
                EXPECT_AT(line, child == n->first + k, "node %llu child %llu is %llu",
                          (unsigned long long)i, (unsigned long long)k, (unsigned long long)child);
                if (n->first + k < count) parents[n->first + k]++;
            }
            status_at(line, eve_answer_child(answer, i, children, &child), EVE_ERR_NOT_FOUND,
                      "eve_answer_child past the last child");
            EXPECT_AT(line, n->bytes.data == NULL, "collection node %llu has bytes",
                      (unsigned long long)i);
        } else {
            status_at(line, eve_answer_child(answer, i, 0, &child), EVE_ERR_WRONG_KIND,
                      "eve_answer_child of a value");
            EXPECT_AT(line, n->count == 0, "value node %llu has count %u", (unsigned long long)i,
                      n->count);
        }
        int64_t l = 0;
        double d = 0;
        const char *text = NULL;
        size_t len = 0;
        switch (n->value_type) {
        case EVE_VALUE_BOOLEAN:
            EXPECT_AT(line, n->int_value == 0 || n->int_value == 1, "boolean %lld",
                      (long long)n->int_value);
            /* fall through */
        case EVE_VALUE_INSTANT:
        case EVE_VALUE_REF:
            status_at(line, eve_answer_double(answer, i, &d), EVE_ERR_WRONG_KIND,
                      "eve_answer_double of a boolean, instant or ref");
            /* fall through */
        case EVE_VALUE_LONG:
            status_at(line, eve_answer_long(answer, i, &l), EVE_OK, "eve_answer_long");
            EXPECT_AT(line, l == n->int_value, "node %llu: long %lld, in place %lld",
                      (unsigned long long)i, (long long)l, (long long)n->int_value);
            if (n->value_type == EVE_VALUE_LONG) {
                status_at(line, eve_answer_double(answer, i, &d), EVE_OK, "eve_answer_double");
                EXPECT_AT(line, d == (double)n->int_value, "long %lld as double %g",
                          (long long)n->int_value, d);
            }
            status_at(line, eve_answer_text(answer, i, &text, &len), EVE_ERR_WRONG_KIND,
                      "eve_answer_text of a number");
            break;
        case EVE_VALUE_DOUBLE:
            status_at(line, eve_answer_double(answer, i, &d), EVE_OK, "eve_answer_double");
            EXPECT_AT(line, d == n->double_value, "double %g, in place %g", d, n->double_value);
            status_at(line, eve_answer_long(answer, i, &l), EVE_ERR_WRONG_KIND,
                      "eve_answer_long of a double");
            break;
        case EVE_VALUE_STRING:
        case EVE_VALUE_KEYWORD:
        case EVE_VALUE_SYMBOL:
            status_at(line, eve_answer_text(answer, i, &text, &len), EVE_OK, "eve_answer_text");
            EXPECT_AT(line, text == (const char *)n->bytes.data && len == n->bytes.len,
                      "node %llu: text and bytes differ", (unsigned long long)i);
            EXPECT_AT(line, n->bytes.data != NULL && n->bytes.data[n->bytes.len] == '\0',
                      "node %llu: text not NUL-terminated", (unsigned long long)i);
            if (n->value_type == EVE_VALUE_KEYWORD)
                EXPECT_AT(line, n->bytes.len > 0 && n->bytes.data[0] != ':',
                          "keyword with its colon");
            status_at(line, eve_answer_long(answer, i, &l), EVE_ERR_WRONG_KIND,
                      "eve_answer_long of text");
            status_at(line, eve_answer_double(answer, i, &d), EVE_ERR_WRONG_KIND,
                      "eve_answer_double of text");
            break;
        case EVE_VALUE_NIL:
            EXPECT_AT(line, n->bytes.data == NULL, "nil with bytes");
            /* fall through */
        default:
            if (n->value_type == EVE_VALUE_NIL || is_collection(n->value_type)) {
                status_at(line, eve_answer_long(answer, i, &l), EVE_ERR_WRONG_KIND,
                          "eve_answer_long of nil or a collection");
                status_at(line, eve_answer_text(answer, i, &text, &len), EVE_ERR_WRONG_KIND,
                          "eve_answer_text of nil or a collection");
            }
        }
    }
    EXPECT_AT(line, parents[0] == 0, "the root is somebody's child");
    for (uint64_t i = 1; i < count; i++)
        EXPECT_AT(line, parents[i] == 1, "node %llu has %u parents", (unsigned long long)i,
                  parents[i]);

    buffer rendered = {NULL, 0, 0};
    int renderable = render(nodes, count, 0, reached, &rendered);
    for (uint64_t i = 0; i < count; i++)
        EXPECT_AT(line, reached[i] == 1, "node %llu reached %u times from the root",
                  (unsigned long long)i, reached[i]);
    const char *edn = NULL;
    status_at(line, eve_answer_edn(answer, &edn), EVE_OK, "eve_answer_edn");
    if (renderable && edn)
        EXPECT_AT(line, strcmp(rendered.text, edn) == 0, "nodes read as %s, eve_answer_edn %s",
                  rendered.text, edn);
    free(rendered.text);

    eve_node past;
    status_at(line, eve_answer_node(answer, count, &past), EVE_ERR_NOT_FOUND,
              "eve_answer_node past the end");
    status_at(line, eve_answer_node(answer, UINT64_MAX, &past), EVE_ERR_NOT_FOUND,
              "eve_answer_node(UINT64_MAX)");
    free(parents);
    free(reached);
}

#define CHECK_TREE(answer) check_tree_at(__LINE__, answer)

/* ---- running queries and pulls ------------------------------------------------------- */

/* Runs a query as an answer, checks its tree, and checks that its EDN is exactly the text
 * eve_db_query gives for the same query. NULL (and a failure) if it fails. */
static eve_answer *query_at(int line, eve_read *read, uint32_t view, uint64_t t,
                            const char *query, const char *inputs) {
    const char *text = NULL;
    eve_status s = eve_db_query(read, db, view, t, query, inputs, &text);
    char *expected = s == EVE_OK ? copy_text(text) : NULL;
    eve_answer *answer = NULL;
    s = eve_db_query_answer(read, db, view, t, query, inputs, &answer);
    if (s != EVE_OK) {
        fail_at(line, "%s: %s (%s)", query, eve_status_name(s), eve_last_error_message());
        free(expected);
        return NULL;
    }
    EXPECT_AT(line, answer != NULL, "no answer handle");
    const char *edn = NULL;
    status_at(line, eve_answer_edn(answer, &edn), EVE_OK, "eve_answer_edn");
    EXPECT_AT(line, expected && edn && strcmp(edn, expected) == 0,
              "%s: answer EDN %s, eve_db_query %s", query, edn ? edn : "(none)",
              expected ? expected : "(failed)");
    free(expected);
    check_tree_at(line, answer);
    return answer;
}

#define QUERY(read, query, inputs) query_at(__LINE__, read, EVE_VIEW_CURRENT, 0, query, inputs)

static eve_answer *pull_at(int line, eve_read *read, const char *pattern, const char *entity) {
    const char *text = NULL;
    eve_status s = eve_db_pull(read, db, pattern, entity, &text);
    char *expected = s == EVE_OK ? copy_text(text) : NULL;
    eve_answer *answer = NULL;
    s = eve_db_pull_answer(read, db, pattern, entity, &answer);
    if (s != EVE_OK) {
        fail_at(line, "pull %s %s: %s (%s)", pattern, entity, eve_status_name(s),
                eve_last_error_message());
        free(expected);
        return NULL;
    }
    const char *edn = NULL;
    status_at(line, eve_answer_edn(answer, &edn), EVE_OK, "eve_answer_edn");
    EXPECT_AT(line, expected && edn && strcmp(edn, expected) == 0,
              "pull %s: answer EDN %s, eve_db_pull %s", pattern, edn ? edn : "(none)",
              expected ? expected : "(failed)");
    free(expected);
    check_tree_at(line, answer);
    return answer;
}

#define PULL(read, pattern, entity) pull_at(__LINE__, read, pattern, entity)

/* ---- reading answers ----------------------------------------------------------------- */

static void shape_is_at(int line, const eve_answer *a, uint32_t expected) {
    uint32_t shape = 99;
    if (status_at(line, eve_answer_shape(a, &shape), EVE_OK, "eve_answer_shape"))
        EXPECT_AT(line, shape == expected, "shape %u, expected %u", shape, expected);
}

static void rows_are_at(int line, const eve_answer *a, uint64_t rows, uint64_t columns) {
    uint64_t r = 99, c = 99;
    if (status_at(line, eve_answer_rows(a, &r, &c), EVE_OK, "eve_answer_rows"))
        EXPECT_AT(line, r == rows && c == columns, "%llu rows of %llu columns, expected %llu of %llu",
                  (unsigned long long)r, (unsigned long long)c, (unsigned long long)rows,
                  (unsigned long long)columns);
}

static uint64_t row_count_at(int line, const eve_answer *a) {
    uint64_t r = 0, c = 0;
    status_at(line, eve_answer_rows(a, &r, &c), EVE_OK, "eve_answer_rows");
    return r;
}

static uint64_t cell_at(int line, const eve_answer *a, uint64_t row, uint64_t column) {
    uint64_t node = UINT64_MAX;
    status_at(line, eve_answer_cell(a, row, column, &node), EVE_OK, "eve_answer_cell");
    return node;
}

static eve_node node_at(int line, const eve_answer *a, uint64_t index) {
    eve_node node;
    memset(&node, 0, sizeof node);
    node.value_type = UINT32_MAX;
    status_at(line, eve_answer_node(a, index, &node), EVE_OK, "eve_answer_node");
    return node;
}

static int64_t long_at(int line, const eve_answer *a, uint64_t index) {
    int64_t value = -12345;
    status_at(line, eve_answer_long(a, index, &value), EVE_OK, "eve_answer_long");
    return value;
}

static double double_at(int line, const eve_answer *a, uint64_t index) {
    double value = -12345;
    status_at(line, eve_answer_double(a, index, &value), EVE_OK, "eve_answer_double");
    return value;
}

/* Node `index` is text of `type` equal to `expected` (compared with its length). */
static void text_is_at(int line, const eve_answer *a, uint64_t index, uint32_t type,
                       const char *expected) {
    eve_node node = node_at(line, a, index);
    EXPECT_AT(line, node.value_type == type, "node %llu has type %u, expected %u",
              (unsigned long long)index, node.value_type, type);
    const char *text = NULL;
    size_t len = 0;
    if (!status_at(line, eve_answer_text(a, index, &text, &len), EVE_OK, "eve_answer_text"))
        return;
    EXPECT_AT(line, text && len == strlen(expected) && memcmp(text, expected, len) == 0 &&
                  text[len] == '\0',
              "text %.*s, expected %s", (int)len, text ? text : "", expected);
    /* `len` may be NULL; the text is the same. */
    const char *again = NULL;
    status_at(line, eve_answer_text(a, index, &again, NULL), EVE_OK, "eve_answer_text(len NULL)");
    EXPECT_AT(line, again == text, "text moved");
}

/* The text of node `index`, or "" if it has none. Valid until the answer is freed. */
static const char *text_of(const eve_answer *a, uint64_t index) {
    const char *text = NULL;
    return eve_answer_text(a, index, &text, NULL) == EVE_OK ? text : "";
}

/* The value node of the entry with keyword key `key` in map node `map`, or UINT64_MAX. */
static uint64_t map_get_at(int line, const eve_answer *a, uint64_t map, const char *key) {
    eve_node node = node_at(line, a, map);
    EXPECT_AT(line, node.value_type == EVE_VALUE_MAP, "node %llu is not a map",
              (unsigned long long)map);
    if (node.value_type != EVE_VALUE_MAP) return UINT64_MAX;
    for (uint64_t k = 0; k < node.count; k++) {
        uint64_t key_node = 0, value_node = 0;
        status_at(line, eve_answer_child(a, map, 2 * k, &key_node), EVE_OK, "eve_answer_child");
        status_at(line, eve_answer_child(a, map, 2 * k + 1, &value_node), EVE_OK, "eve_answer_child");
        EXPECT_AT(line, value_node == key_node + 1, "map value not after its key");
        if (node_at(line, a, key_node).value_type == EVE_VALUE_KEYWORD &&
            strcmp(text_of(a, key_node), key) == 0)
            return value_node;
    }
    fail_at(line, "map node %llu has no key :%s", (unsigned long long)map, key);
    return UINT64_MAX;
}

#define SHAPE_IS(a, shape) shape_is_at(__LINE__, a, shape)
#define ROWS_ARE(a, rows, columns) rows_are_at(__LINE__, a, rows, columns)
#define ROW_COUNT(a) row_count_at(__LINE__, a)
#define CELL(a, row, column) cell_at(__LINE__, a, row, column)
#define NODE(a, index) node_at(__LINE__, a, index)
#define LONG(a, index) long_at(__LINE__, a, index)
#define DOUBLE(a, index) double_at(__LINE__, a, index)
#define TEXT_IS(a, index, type, expected) text_is_at(__LINE__, a, index, type, expected)
#define STRING_IS(a, index, expected) text_is_at(__LINE__, a, index, EVE_VALUE_STRING, expected)
#define MAP_GET(a, map, key) map_get_at(__LINE__, a, map, key)

static void edn_is_at(int line, const eve_answer *a, const char *expected) {
    const char *edn = NULL;
    if (status_at(line, eve_answer_edn(a, &edn), EVE_OK, "eve_answer_edn"))
        EXPECT_AT(line, edn && strcmp(edn, expected) == 0, "EDN %s, expected %s",
                  edn ? edn : "(null)", expected);
}

#define EDN_IS(a, expected) edn_is_at(__LINE__, a, expected)

static void free_answer(eve_answer *a) {
    if (a) CHECK_OK(eve_answer_free(a));
}

/* ---- the tests ----------------------------------------------------------------------- */

static void test_relation(eve_read *read) {
    /* Rows are a set, sorted: ["Ada" 36] ["Bob" 40] ["Cy" 36]. */
    eve_answer *a = QUERY(read, "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]", NULL);
    if (!a) return;
    SHAPE_IS(a, EVE_SHAPE_RELATION);
    ROWS_ARE(a, 3, 2);
    eve_node root = NODE(a, 0);
    CHECK(root.value_type == EVE_VALUE_SET && root.count == 3);
    const char *names[3] = {"Ada", "Bob", "Cy"};
    const int64_t ages[3] = {36, 40, 36};
    for (uint64_t row = 0; row < 3; row++) {
        uint64_t name = CELL(a, row, 0), age = CELL(a, row, 1);
        STRING_IS(a, name, names[row]);
        CHECK(NODE(a, age).value_type == EVE_VALUE_LONG);
        CHECK(LONG(a, age) == ages[row]);
        CHECK(DOUBLE(a, age) == (double)ages[row]); /* a long, converted */
        /* The row is the root's child `row`, a vector whose items are the cells. */
        uint64_t tuple = 0, item = 0;
        CHECK_OK(eve_answer_child(a, 0, row, &tuple));
        eve_node t = NODE(a, tuple);
        CHECK(t.value_type == EVE_VALUE_VECTOR && t.count == 2);
        CHECK_OK(eve_answer_child(a, tuple, 1, &item));
        CHECK(item == age);
    }
    EDN_IS(a, "#{[\"Ada\" 36] [\"Bob\" 40] [\"Cy\" 36]}");
    uint64_t node;
    CHECK_STATUS(eve_answer_cell(a, 3, 0, &node), EVE_ERR_NOT_FOUND);
    CHECK_MESSAGE("no cell (3, 0)");
    CHECK_STATUS(eve_answer_cell(a, 0, 2, &node), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_cell(a, UINT64_MAX, UINT64_MAX, &node), EVE_ERR_NOT_FOUND);
    /* Not a return-maps answer: no column names. */
    const char *name = NULL;
    CHECK_STATUS(eve_answer_column_name(a, 0, &name), EVE_ERR_NOT_FOUND);
    free_answer(a);

    /* Entity ids come out as refs. */
    a = QUERY(read, "[:find ?e ?f :where [?e :person/best ?f]]", NULL);
    if (a) {
        ROWS_ARE(a, 2, 2);
        CHECK(NODE(a, CELL(a, 0, 0)).value_type == EVE_VALUE_REF);
        CHECK(LONG(a, CELL(a, 0, 0)) == bob && LONG(a, CELL(a, 0, 1)) == ada);
        CHECK(LONG(a, CELL(a, 1, 0)) == cy && LONG(a, CELL(a, 1, 1)) == bob);
        double d;
        CHECK_STATUS(eve_answer_double(a, CELL(a, 0, 0), &d), EVE_ERR_WRONG_KIND);
        free_answer(a);
    }

    /* Doubles, booleans, keywords and instants. */
    a = QUERY(read,
              "[:find ?s ?m ?t ?b :in $ ?email :where [?e :person/email ?email] [?e :person/score ?s]"
              " [?e :person/member ?m] [?e :person/tag ?t] [?e :person/born ?b]]",
              "[\"ada@x\"]");
    if (a) {
        ROWS_ARE(a, 1, 4);
        uint64_t s = CELL(a, 0, 0), m = CELL(a, 0, 1), t = CELL(a, 0, 2), b = CELL(a, 0, 3);
        CHECK(NODE(a, s).value_type == EVE_VALUE_DOUBLE && DOUBLE(a, s) == 9.5);
        CHECK(NODE(a, m).value_type == EVE_VALUE_BOOLEAN && LONG(a, m) == 1);
        TEXT_IS(a, t, EVE_VALUE_KEYWORD, "role/admin");
        CHECK(NODE(a, b).value_type == EVE_VALUE_INSTANT && LONG(a, b) == 946684800000LL);
        int64_t l;
        CHECK_STATUS(eve_answer_long(a, s, &l), EVE_ERR_WRONG_KIND);
        CHECK_MESSAGE("a double");
        EDN_IS(a, "#{[9.5 true :role/admin #inst \"2000-01-01T00:00:00.000Z\"]}");
        free_answer(a);
    }
    a = QUERY(read, "[:find ?n ?s :where [?e :person/name ?n] [?e :person/score ?s]]", NULL);
    if (a) {
        ROWS_ARE(a, 3, 2);
        CHECK(DOUBLE(a, CELL(a, 1, 1)) == 7.0 && DOUBLE(a, CELL(a, 2, 1)) == 8.25);
        EDN_IS(a, "#{[\"Ada\" 9.5] [\"Bob\" 7.0] [\"Cy\" 8.25]}");
        free_answer(a);
    }

    /* Nothing matches: no rows, an empty set. */
    a = QUERY(read, "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 99)]]", NULL);
    if (a) {
        CHECK(ROW_COUNT(a) == 0);
        eve_node empty = NODE(a, 0);
        CHECK(empty.value_type == EVE_VALUE_SET && empty.count == 0);
        CHECK_STATUS(eve_answer_cell(a, 0, 0, &node), EVE_ERR_NOT_FOUND);
        uint64_t child;
        CHECK_STATUS(eve_answer_child(a, 0, 0, &child), EVE_ERR_NOT_FOUND);
        EDN_IS(a, "#{}");
        free_answer(a);
    }
}

static void test_scalar(eve_read *read) {
    eve_answer *a = QUERY(read, "[:find ?a . :where [?e :person/email \"bob@x\"] [?e :person/age ?a]]", NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_SCALAR);
        ROWS_ARE(a, 1, 1);
        CHECK(CELL(a, 0, 0) == 0);
        CHECK(LONG(a, 0) == 40);
        EDN_IS(a, "40");
        uint64_t node;
        CHECK_STATUS(eve_answer_cell(a, 1, 0, &node), EVE_ERR_NOT_FOUND);
        CHECK_STATUS(eve_answer_cell(a, 0, 1, &node), EVE_ERR_NOT_FOUND);
        free_answer(a);
    }
    a = QUERY(read, "[:find ?n . :in $ ?email :where [?e :person/email ?email] [?e :person/name ?n]]",
              "[\"cy@x\"]");
    if (a) {
        ROWS_ARE(a, 1, 1);
        STRING_IS(a, CELL(a, 0, 0), "Cy");
        EDN_IS(a, "\"Cy\"");
        free_answer(a);
    }
    a = QUERY(read, "[:find (count ?e) . :where [?e :person/age]]", NULL);
    if (a) {
        CHECK(LONG(a, CELL(a, 0, 0)) == 3);
        free_answer(a);
    }
    /* Nothing matched: nil, no rows. */
    a = QUERY(read, "[:find ?a . :where [?e :person/email \"nobody@x\"] [?e :person/age ?a]]", NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_SCALAR);
        CHECK(ROW_COUNT(a) == 0);
        CHECK(NODE(a, 0).value_type == EVE_VALUE_NIL);
        EDN_IS(a, "nil");
        uint64_t node;
        int64_t l;
        CHECK_STATUS(eve_answer_cell(a, 0, 0, &node), EVE_ERR_NOT_FOUND);
        CHECK_STATUS(eve_answer_long(a, 0, &l), EVE_ERR_WRONG_KIND);
        CHECK_MESSAGE("nil");
        const eve_node *nodes;
        uint64_t count;
        CHECK_OK(eve_answer_nodes(a, &nodes, &count));
        CHECK(count == 1);
        free_answer(a);
    }
}

static void test_collection(eve_read *read) {
    eve_answer *a = QUERY(read, "[:find [?n ...] :where [?e :person/name ?n]]", NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_COLLECTION);
        ROWS_ARE(a, 3, 1);
        eve_node root = NODE(a, 0);
        CHECK(root.value_type == EVE_VALUE_VECTOR && root.count == 3);
        int seen[3] = {0, 0, 0};
        for (uint64_t row = 0; row < 3; row++) {
            uint64_t cell = CELL(a, row, 0), child = 0;
            CHECK_OK(eve_answer_child(a, 0, row, &child));
            CHECK(cell == child);
            CHECK(NODE(a, cell).value_type == EVE_VALUE_STRING);
            const char *name = text_of(a, cell);
            seen[0] += strcmp(name, "Ada") == 0;
            seen[1] += strcmp(name, "Bob") == 0;
            seen[2] += strcmp(name, "Cy") == 0;
        }
        CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
        uint64_t node;
        CHECK_STATUS(eve_answer_cell(a, 0, 1, &node), EVE_ERR_NOT_FOUND);
        CHECK_STATUS(eve_answer_cell(a, 3, 0, &node), EVE_ERR_NOT_FOUND);
        free_answer(a);
    }
    /* Distinct values: two ages. */
    a = QUERY(read, "[:find [?a ...] :where [_ :person/age ?a]]", NULL);
    if (a) {
        ROWS_ARE(a, 2, 1);
        int64_t x = LONG(a, CELL(a, 0, 0)), y = LONG(a, CELL(a, 1, 0));
        CHECK((x == 36 && y == 40) || (x == 40 && y == 36));
        free_answer(a);
    }
    a = QUERY(read, "[:find [?a ...] :where [_ :person/age ?a] [(> ?a 99)]]", NULL);
    if (a) {
        ROWS_ARE(a, 0, 1);
        EDN_IS(a, "[]");
        free_answer(a);
    }
}

static void test_tuple(eve_read *read) {
    eve_answer *a = QUERY(read,
                          "[:find [?n ?a ?m] :where [?e :person/email \"bob@x\"] [?e :person/name ?n]"
                          " [?e :person/age ?a] [?e :person/member ?m]]",
                          NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_TUPLE);
        ROWS_ARE(a, 1, 3);
        eve_node root = NODE(a, 0);
        CHECK(root.value_type == EVE_VALUE_VECTOR && root.count == 3);
        STRING_IS(a, CELL(a, 0, 0), "Bob");
        CHECK(LONG(a, CELL(a, 0, 1)) == 40);
        CHECK(NODE(a, CELL(a, 0, 2)).value_type == EVE_VALUE_BOOLEAN && LONG(a, CELL(a, 0, 2)) == 0);
        EDN_IS(a, "[\"Bob\" 40 false]");
        uint64_t node;
        CHECK_STATUS(eve_answer_cell(a, 1, 0, &node), EVE_ERR_NOT_FOUND);
        CHECK_STATUS(eve_answer_cell(a, 0, 3, &node), EVE_ERR_NOT_FOUND);
        free_answer(a);
    }
    a = QUERY(read, "[:find [?n ?a] :where [?e :person/email \"nobody@x\"] [?e :person/name ?n] [?e :person/age ?a]]",
              NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_TUPLE);
        CHECK(ROW_COUNT(a) == 0);
        CHECK(NODE(a, 0).value_type == EVE_VALUE_NIL);
        EDN_IS(a, "nil");
        free_answer(a);
    }
}

/* Return maps: `style` is :keys, :syms or :strs; keys are keywords, symbols or strings. */
static void check_maps(eve_read *read, const char *style, uint32_t key_type) {
    char query[256];
    snprintf(query, sizeof query,
             "[:find ?n ?a %s name age :where [?e :person/name ?n] [?e :person/age ?a]]", style);
    eve_answer *a = QUERY(read, query, NULL);
    if (!a) return;
    SHAPE_IS(a, EVE_SHAPE_MAPS);
    ROWS_ARE(a, 3, 2);
    const char *first = NULL, *second = NULL, *none = NULL;
    CHECK_OK(eve_answer_column_name(a, 0, &first));
    CHECK_OK(eve_answer_column_name(a, 1, &second));
    CHECK(first && strcmp(first, "name") == 0);
    CHECK(second && strcmp(second, "age") == 0);
    CHECK_STATUS(eve_answer_column_name(a, 2, &none), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_column_name(a, UINT64_MAX, &none), EVE_ERR_NOT_FOUND);
    eve_node root = NODE(a, 0);
    CHECK(root.value_type == EVE_VALUE_VECTOR && root.count == 3);
    int seen = 0;
    for (uint64_t row = 0; row < 3; row++) {
        uint64_t map = 0;
        CHECK_OK(eve_answer_child(a, 0, row, &map));
        eve_node m = NODE(a, map);
        CHECK(m.value_type == EVE_VALUE_MAP && m.count == 2);
        /* Each map holds the columns in order; a cell is the value of its column. */
        for (uint64_t column = 0; column < 2; column++) {
            uint64_t key = 0, value = 0;
            CHECK_OK(eve_answer_child(a, map, 2 * column, &key));
            CHECK_OK(eve_answer_child(a, map, 2 * column + 1, &value));
            TEXT_IS(a, key, key_type, column == 0 ? "name" : "age");
            CHECK(CELL(a, row, column) == value);
        }
        uint64_t past;
        CHECK_STATUS(eve_answer_child(a, map, 4, &past), EVE_ERR_NOT_FOUND);
        const char *name = text_of(a, CELL(a, row, 0));
        int64_t age = LONG(a, CELL(a, row, 1));
        if (strcmp(name, "Ada") == 0) {
            seen += 1;
            CHECK(age == 36);
        } else if (strcmp(name, "Bob") == 0) {
            seen += 10;
            CHECK(age == 40);
        } else if (strcmp(name, "Cy") == 0) {
            seen += 100;
            CHECK(age == 36);
        } else {
            fprintf(stderr, "%s:%d: unexpected name %s\n", __FILE__, __LINE__, name);
            check_failures++;
        }
    }
    CHECK(seen == 111);
    uint64_t node;
    CHECK_STATUS(eve_answer_cell(a, 3, 0, &node), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_cell(a, 0, 2, &node), EVE_ERR_NOT_FOUND);
    free_answer(a);
}

static void test_maps(eve_read *read) {
    check_maps(read, ":keys", EVE_VALUE_KEYWORD);
    check_maps(read, ":syms", EVE_VALUE_SYMBOL);
    check_maps(read, ":strs", EVE_VALUE_STRING);
    /* The names follow the find elements, whatever they are called. */
    eve_answer *a = QUERY(read,
                          "[:find ?a ?n :keys zed alpha :where [?e :person/email \"bob@x\"]"
                          " [?e :person/name ?n] [?e :person/age ?a]]",
                          NULL);
    if (a) {
        ROWS_ARE(a, 1, 2);
        const char *name = NULL;
        CHECK_OK(eve_answer_column_name(a, 0, &name));
        CHECK(name && strcmp(name, "zed") == 0);
        CHECK_OK(eve_answer_column_name(a, 1, &name));
        CHECK(name && strcmp(name, "alpha") == 0);
        CHECK(LONG(a, CELL(a, 0, 0)) == 40);
        STRING_IS(a, CELL(a, 0, 1), "Bob");
        EDN_IS(a, "[{:zed 40, :alpha \"Bob\"}]");
        free_answer(a);
    }
    a = QUERY(read, "[:find (min ?a) (max ?a) :keys lo hi :where [_ :person/age ?a]]", NULL);
    if (a) {
        ROWS_ARE(a, 1, 2);
        CHECK(LONG(a, CELL(a, 0, 0)) == 36 && LONG(a, CELL(a, 0, 1)) == 40);
        EDN_IS(a, "[{:lo 36, :hi 40}]");
        free_answer(a);
    }
    /* No rows: an empty vector, the columns still named. */
    a = QUERY(read, "[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a] [(= ?n \"Zed\")]]",
              NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_MAPS);
        ROWS_ARE(a, 0, 2);
        const char *name = NULL;
        CHECK_OK(eve_answer_column_name(a, 1, &name));
        CHECK(name && strcmp(name, "age") == 0);
        uint64_t node;
        CHECK_STATUS(eve_answer_cell(a, 0, 0, &node), EVE_ERR_NOT_FOUND);
        EDN_IS(a, "[]");
        free_answer(a);
    }
}

static void test_aggregates(eve_read *read) {
    eve_answer *a = QUERY(read,
                          "[:find (count ?e) (min ?a) (max ?a) (sum ?a) (avg ?a) (distinct ?a)"
                          " :where [?e :person/age ?a]]",
                          NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_RELATION);
        ROWS_ARE(a, 1, 6);
        CHECK(LONG(a, CELL(a, 0, 0)) == 3);
        CHECK(LONG(a, CELL(a, 0, 1)) == 36);
        CHECK(LONG(a, CELL(a, 0, 2)) == 40);
        CHECK(LONG(a, CELL(a, 0, 3)) == 112);
        uint64_t avg = CELL(a, 0, 4);
        CHECK(NODE(a, avg).value_type == EVE_VALUE_DOUBLE && DOUBLE(a, avg) == 112.0 / 3.0);
        /* (distinct ?a) is a set node: its items are sorted, distinct values. */
        uint64_t set = CELL(a, 0, 5), item = 0;
        eve_node s = NODE(a, set);
        CHECK(s.value_type == EVE_VALUE_SET && s.count == 2);
        CHECK_OK(eve_answer_child(a, set, 0, &item));
        CHECK(item == s.first && LONG(a, item) == 36);
        CHECK_OK(eve_answer_child(a, set, 1, &item));
        CHECK(item == s.first + 1 && LONG(a, item) == 40);
        CHECK_STATUS(eve_answer_child(a, set, 2, &item), EVE_ERR_NOT_FOUND);
        int64_t l;
        CHECK_STATUS(eve_answer_long(a, set, &l), EVE_ERR_WRONG_KIND);
        CHECK_MESSAGE("a set");
        EDN_IS(a, "#{[3 36 40 112 37.333333333333336 #{36 40}]}");
        free_answer(a);
    }
    /* Grouped by age: a distinct set of names per group. */
    a = QUERY(read, "[:find ?a (distinct ?n) :where [?e :person/age ?a] [?e :person/name ?n]]", NULL);
    if (a) {
        ROWS_ARE(a, 2, 2);
        CHECK(LONG(a, CELL(a, 0, 0)) == 36 && LONG(a, CELL(a, 1, 0)) == 40);
        uint64_t set = CELL(a, 0, 1), item = 0;
        CHECK(NODE(a, set).value_type == EVE_VALUE_SET && NODE(a, set).count == 2);
        CHECK_OK(eve_answer_child(a, set, 0, &item));
        STRING_IS(a, item, "Ada");
        CHECK_OK(eve_answer_child(a, set, 1, &item));
        STRING_IS(a, item, "Cy");
        set = CELL(a, 1, 1);
        CHECK(NODE(a, set).value_type == EVE_VALUE_SET && NODE(a, set).count == 1);
        EDN_IS(a, "#{[36 #{\"Ada\" \"Cy\"}] [40 #{\"Bob\"}]}");
        free_answer(a);
    }
    /* A scalar set. */
    a = QUERY(read, "[:find (distinct ?t) . :where [_ :person/tag ?t]]", NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_SCALAR);
        ROWS_ARE(a, 1, 1);
        eve_node root = NODE(a, 0);
        CHECK(root.value_type == EVE_VALUE_SET && root.count == 2);
        TEXT_IS(a, root.first, EVE_VALUE_KEYWORD, "role/admin");
        TEXT_IS(a, root.first + 1, EVE_VALUE_KEYWORD, "role/user");
        EDN_IS(a, "#{:role/admin :role/user}");
        free_answer(a);
    }
}

static void test_pull_in_find(eve_read *read) {
    eve_answer *a = QUERY(read, "[:find (pull ?e [:person/name]) :where [?e :person/age 36]]", NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_RELATION);
        ROWS_ARE(a, 2, 1);
        int seen = 0;
        for (uint64_t row = 0; row < 2; row++) {
            uint64_t map = CELL(a, row, 0);
            eve_node m = NODE(a, map);
            CHECK(m.value_type == EVE_VALUE_MAP && m.count == 1);
            TEXT_IS(a, m.first, EVE_VALUE_KEYWORD, "person/name");
            const char *name = text_of(a, MAP_GET(a, map, "person/name"));
            seen += strcmp(name, "Ada") == 0 ? 1 : strcmp(name, "Cy") == 0 ? 10 : 100;
        }
        CHECK(seen == 11);
        free_answer(a);
    }
    /* A pull with a nested reference, next to a plain variable. */
    a = QUERY(read,
              "[:find (pull ?e [:person/name {:person/best [:person/name]}]) ?a"
              " :where [?e :person/email \"cy@x\"] [?e :person/age ?a]]",
              NULL);
    if (a) {
        ROWS_ARE(a, 1, 2);
        uint64_t map = CELL(a, 0, 0);
        STRING_IS(a, MAP_GET(a, map, "person/name"), "Cy");
        uint64_t best = MAP_GET(a, map, "person/best");
        CHECK(NODE(a, best).value_type == EVE_VALUE_MAP);
        STRING_IS(a, MAP_GET(a, best, "person/name"), "Bob");
        CHECK(LONG(a, CELL(a, 0, 1)) == 36);
        EDN_IS(a, "#{[{:person/name \"Cy\", :person/best {:person/name \"Bob\"}} 36]}");
        free_answer(a);
    }
    a = QUERY(read, "[:find [(pull ?e [:person/age]) ...] :where [?e :person/name \"Bob\"]]", NULL);
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_COLLECTION);
        ROWS_ARE(a, 1, 1);
        CHECK(LONG(a, MAP_GET(a, CELL(a, 0, 0), "person/age")) == 40);
        EDN_IS(a, "[{:person/age 40}]");
        free_answer(a);
    }
}

static void test_pull_answer(eve_read *read) {
    eve_answer *a = PULL(read,
                         "[:person/name :person/age {:person/best [:person/name :person/age]}"
                         " {:person/friend [:person/name]}]",
                         "[:person/email \"cy@x\"]");
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_PULL);
        ROWS_ARE(a, 1, 1);
        CHECK(CELL(a, 0, 0) == 0);
        uint64_t node;
        CHECK_STATUS(eve_answer_cell(a, 0, 1, &node), EVE_ERR_NOT_FOUND);
        CHECK_STATUS(eve_answer_cell(a, 1, 0, &node), EVE_ERR_NOT_FOUND);
        eve_node root = NODE(a, 0);
        CHECK(root.value_type == EVE_VALUE_MAP && root.count == 4);
        /* A map has 2 * count children: keys (keywords, without the colon) at even
         * positions, each followed by its value. */
        for (uint64_t k = 0; k < 2 * (uint64_t)root.count; k++) {
            uint64_t child = 0;
            CHECK_OK(eve_answer_child(a, 0, k, &child));
            CHECK(child == root.first + k);
            if (k % 2 == 0) {
                CHECK(NODE(a, child).value_type == EVE_VALUE_KEYWORD);
                CHECK(strncmp(text_of(a, child), "person/", 7) == 0);
            }
        }
        uint64_t child;
        CHECK_STATUS(eve_answer_child(a, 0, 2 * (uint64_t)root.count, &child), EVE_ERR_NOT_FOUND);
        CHECK_MESSAGE("children");
        STRING_IS(a, MAP_GET(a, 0, "person/name"), "Cy");
        CHECK(LONG(a, MAP_GET(a, 0, "person/age")) == 36);
        /* A cardinality-one reference: a nested map. */
        uint64_t best = MAP_GET(a, 0, "person/best");
        eve_node b = NODE(a, best);
        CHECK(b.value_type == EVE_VALUE_MAP && b.count == 2);
        STRING_IS(a, MAP_GET(a, best, "person/name"), "Bob");
        CHECK(LONG(a, MAP_GET(a, best, "person/age")) == 40);
        /* A cardinality-many reference: a vector of nested maps. */
        uint64_t friends = MAP_GET(a, 0, "person/friend");
        eve_node f = NODE(a, friends);
        CHECK(f.value_type == EVE_VALUE_VECTOR && f.count == 2);
        int seen = 0;
        for (uint64_t i = 0; i < f.count; i++) {
            uint64_t item = 0;
            CHECK_OK(eve_answer_child(a, friends, i, &item));
            CHECK(NODE(a, item).value_type == EVE_VALUE_MAP && NODE(a, item).count == 1);
            const char *name = text_of(a, MAP_GET(a, item, "person/name"));
            seen += strcmp(name, "Ada") == 0 ? 1 : strcmp(name, "Bob") == 0 ? 10 : 100;
        }
        CHECK(seen == 11);
        free_answer(a);
    }

    a = PULL(read, "[:person/name {:person/best [:person/name]}]", "[:person/email \"bob@x\"]");
    if (a) {
        EDN_IS(a, "{:person/name \"Bob\", :person/best {:person/name \"Ada\"}}");
        free_answer(a);
    }
    /* A reference without a nested pattern: {:db/id n}. By id, as text. */
    char id[32];
    snprintf(id, sizeof id, "%lld", bob);
    a = PULL(read, "[:person/best]", id);
    if (a) {
        uint64_t best = MAP_GET(a, 0, "person/best");
        CHECK(LONG(a, MAP_GET(a, best, "db/id")) == ada);
        free_answer(a);
    }
    /* Everything, reverse references and renamed keys. */
    a = PULL(read, "[*]", "[:person/email \"ada@x\"]");
    if (a) {
        CHECK(LONG(a, MAP_GET(a, 0, "db/id")) == ada);
        STRING_IS(a, MAP_GET(a, 0, "person/email"), "ada@x");
        CHECK(DOUBLE(a, MAP_GET(a, 0, "person/score")) == 9.5);
        CHECK(LONG(a, MAP_GET(a, 0, "person/member")) == 1);
        TEXT_IS(a, MAP_GET(a, 0, "person/tag"), EVE_VALUE_KEYWORD, "role/admin");
        CHECK(LONG(a, MAP_GET(a, 0, "person/born")) == 946684800000LL);
        free_answer(a);
    }
    a = PULL(read, "[{:person/_friend [:person/name]}]", "[:person/email \"ada@x\"]");
    if (a) {
        uint64_t back = MAP_GET(a, 0, "person/_friend");
        CHECK(NODE(a, back).value_type == EVE_VALUE_VECTOR && NODE(a, back).count == 2);
        free_answer(a);
    }
    a = PULL(read, "[[:person/name :as \"n\"] [:person/age :as :years]]", "[:person/email \"ada@x\"]");
    if (a) {
        eve_node root = NODE(a, 0);
        CHECK(root.count == 2);
        STRING_IS(a, root.first, "n");
        STRING_IS(a, root.first + 1, "Ada");
        CHECK(LONG(a, MAP_GET(a, 0, "years")) == 36);
        free_answer(a);
    }

    /* Failures leave *answer alone. */
    eve_answer *untouched = NULL;
    CHECK_STATUS(eve_db_pull_answer(read, db, "[:person/shoe]", "[:person/email \"ada@x\"]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("unknown attribute :person/shoe");
    CHECK_STATUS(eve_db_pull_answer(read, db, "[:person/name]", "[:person/email \"nobody@x\"]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_pull_answer(read, db, "[:person/name", "1", &untouched), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_pull_answer(read, db, NULL, "1", &untouched), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_pull_answer(read, db, "[*]", NULL, &untouched), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_pull_answer(read, db, "[*]", "1", NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_pull_answer(read, a_map, "[*]", "1", &untouched), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_db_pull_answer(NULL, db, "[*]", "1", &untouched), EVE_ERR_NULL_POINTER);
    CHECK(untouched == NULL);
}

/* Other databases (`#eve/db n`) and relations as `$name` sources. */
static void test_sources(eve_read *read) {
    char inputs[128];
    snprintf(inputs, sizeof inputs, "[#eve/db %u]", other);
    const char *join =
        "[:find ?n ?n2 :in $ $b :where [?e :person/email ?m] [?e :person/name ?n]"
        " [$b ?o :person/email ?m] [$b ?o :person/name ?n2]]";
    eve_answer *a = QUERY(read, join, inputs);
    if (a) {
        ROWS_ARE(a, 1, 2);
        STRING_IS(a, CELL(a, 0, 0), "Ada");
        STRING_IS(a, CELL(a, 0, 1), "Ada Lovelace");
        EDN_IS(a, "#{[\"Ada\" \"Ada Lovelace\"]}");
        free_answer(a);
    }
    a = QUERY(read, "[:find [?n ...] :in $ $b :where [$b ?o :person/name ?n]]", inputs);
    if (a) {
        ROWS_ARE(a, 2, 1);
        EDN_IS(a, "[\"Ada Lovelace\" \"Dan\"]");
        free_answer(a);
    }

    /* `$b` is read in the version this read sees: a later transaction is not seen. */
    CHECK_OK(eve_db_transact(slab, other, "[{:person/email \"ada@x\" :person/name \"Ada King\"}]", NULL, 0, NULL));
    a = QUERY(read, join, inputs);
    if (a) {
        STRING_IS(a, CELL(a, 0, 1), "Ada Lovelace");
        free_answer(a);
    }
    eve_read *fresh;
    CHECK_OK(eve_read_begin(slab, &fresh));
    a = QUERY(fresh, join, inputs);
    if (a) {
        STRING_IS(a, CELL(a, 0, 1), "Ada King");
        free_answer(a);
    }
    CHECK_OK(eve_read_end(fresh));

    /* The main database as `$b` too. */
    snprintf(inputs, sizeof inputs, "[#eve/db %u]", db);
    a = QUERY(read, "[:find ?n . :in $ $b :where [$b ?e :person/email \"bob@x\"] [$b ?e :person/name ?n]]", inputs);
    if (a) {
        STRING_IS(a, 0, "Bob");
        free_answer(a);
    }

    /* A relation as a source. */
    a = QUERY(read, "[:find ?id ?label :in $ $r :where [$r ?id ?label]]", "[[[1 \"x\"] [2 \"y\"]]]");
    if (a) {
        SHAPE_IS(a, EVE_SHAPE_RELATION);
        ROWS_ARE(a, 2, 2);
        CHECK(NODE(a, CELL(a, 0, 0)).value_type == EVE_VALUE_LONG && LONG(a, CELL(a, 0, 0)) == 1);
        STRING_IS(a, CELL(a, 0, 1), "x");
        CHECK(LONG(a, CELL(a, 1, 0)) == 2);
        STRING_IS(a, CELL(a, 1, 1), "y");
        EDN_IS(a, "#{[1 \"x\"] [2 \"y\"]}");
        free_answer(a);
    }
    /* Joined with the database, and all three sources at once. */
    a = QUERY(read,
              "[:find ?n ?label :in $ $r :where [$r ?a ?label] [?e :person/age ?a] [?e :person/name ?n]]",
              "[[[36 \"thirty-six\"] [40 \"forty\"]]]");
    if (a) {
        EDN_IS(a, "#{[\"Ada\" \"thirty-six\"] [\"Bob\" \"forty\"] [\"Cy\" \"thirty-six\"]}");
        free_answer(a);
    }
    snprintf(inputs, sizeof inputs, "[#eve/db %u [[\"ada@x\" \"first\"] [\"dan@x\" \"last\"]]]", other);
    a = QUERY(read,
              "[:find ?n ?label :in $ $b $r :where [$r ?m ?label] [$b ?o :person/email ?m]"
              " [$b ?o :person/name ?n]]",
              inputs);
    if (a) {
        EDN_IS(a, "#{[\"Ada Lovelace\" \"first\"] [\"Dan\" \"last\"]}");
        free_answer(a);
    }

    /* Bad sources. */
    eve_answer *untouched = NULL;
    const char *query = "[:find ?n :in $ $b :where [$b ?e :person/name ?n]]";
    snprintf(inputs, sizeof inputs, "[#eve/db %u]", a_map);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, inputs, &untouched),
                 EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, "[#eve/db 200]", &untouched),
                 EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, "[#eve/db 4000000]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, "[#eve/db -1]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, "[#eve/db \"x\"]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, "[5]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, NULL, &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, query, "[[1 2]]", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK(untouched == NULL);
}

/* Query failures: a message, and *answer left alone. */
static void test_query_errors(eve_read *read) {
    eve_answer *untouched = NULL;
    const char *ok = "[:find ?n :where [_ :person/name ?n]]";
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, "[:find ?n :where [?e :person/shoe ?n]]",
                                     NULL, &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("unknown attribute");
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, "[:find ?n :where", NULL, &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, ok, "[1 2", &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, 9, 0, ok, NULL, &untouched), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, NULL, NULL, &untouched),
                 EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, ok, NULL, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_query_answer(NULL, db, EVE_VIEW_CURRENT, 0, ok, NULL, &untouched),
                 EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_db_query_answer(read, a_map, EVE_VIEW_CURRENT, 0, ok, NULL, &untouched),
                 EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_db_query_answer((eve_read *)slab, db, EVE_VIEW_CURRENT, 0, ok, NULL, &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK(untouched == NULL);
}

/* NULL, freed, stale and foreign handles, and NULL out-pointers. */
static void test_handle_errors(eve_read *read) {
    const eve_node *nodes = NULL;
    uint64_t count = 0, u = 0, v = 0;
    uint32_t shape = 0;
    eve_node node;
    int64_t l = 0;
    double d = 0;
    const char *text = NULL;
    size_t len = 0;

    CHECK_STATUS(eve_answer_free(NULL), EVE_ERR_NULL_POINTER);
    CHECK_MESSAGE("answer handle is NULL");
    CHECK_STATUS(eve_answer_shape(NULL, &shape), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_nodes(NULL, &nodes, &count), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_node(NULL, 0, &node), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_child(NULL, 0, 0, &u), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_rows(NULL, &u, &v), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_cell(NULL, 0, 0, &u), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_column_name(NULL, 0, &text), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_long(NULL, 0, &l), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_double(NULL, 0, &d), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_text(NULL, 0, &text, &len), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_edn(NULL, &text), EVE_ERR_NULL_POINTER);

    eve_answer *a = QUERY(read, "[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a]]", NULL);
    if (!a) return;
    /* NULL out-pointers. */
    CHECK_STATUS(eve_answer_shape(a, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_nodes(a, NULL, &count), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_nodes(a, &nodes, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_node(a, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_child(a, 0, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_rows(a, NULL, &v), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_rows(a, &u, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_cell(a, 0, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_column_name(a, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_long(a, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_double(a, 0, NULL), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_text(a, 0, NULL, &len), EVE_ERR_NULL_POINTER);
    CHECK_STATUS(eve_answer_edn(a, NULL), EVE_ERR_NULL_POINTER);

    /* Wrong getter for the node's type. */
    uint64_t name = CELL(a, 0, 0), age = CELL(a, 0, 1);
    CHECK_STATUS(eve_answer_long(a, name, &l), EVE_ERR_WRONG_KIND);
    CHECK_MESSAGE("a string");
    CHECK_STATUS(eve_answer_double(a, name, &d), EVE_ERR_WRONG_KIND);
    CHECK_STATUS(eve_answer_text(a, age, &text, &len), EVE_ERR_WRONG_KIND);
    CHECK_MESSAGE("a long");
    CHECK_STATUS(eve_answer_text(a, 0, &text, &len), EVE_ERR_WRONG_KIND);
    CHECK_MESSAGE("a vector");
    CHECK_STATUS(eve_answer_long(a, 1, &l), EVE_ERR_WRONG_KIND);
    CHECK_MESSAGE("a map");
    CHECK_STATUS(eve_answer_child(a, age, 0, &u), EVE_ERR_WRONG_KIND);
    CHECK_MESSAGE("a collection");

    /* Out of range. */
    CHECK_OK(eve_answer_nodes(a, &nodes, &count));
    CHECK_STATUS(eve_answer_node(a, count, &node), EVE_ERR_NOT_FOUND);
    CHECK_MESSAGE("nodes");
    CHECK_STATUS(eve_answer_long(a, count, &l), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_double(a, count + 7, &d), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_text(a, UINT64_MAX, &text, &len), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_child(a, count, 0, &u), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_child(a, 0, 3, &u), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_child(a, 0, UINT64_MAX, &u), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_cell(a, 3, 0, &u), EVE_ERR_NOT_FOUND);
    CHECK_STATUS(eve_answer_column_name(a, 2, &text), EVE_ERR_NOT_FOUND);

    /* Freed: every call fails cleanly, freeing again too. */
    CHECK_OK(eve_answer_free(a));
    CHECK_STATUS(eve_answer_shape(a, &shape), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("answer handle");
    CHECK_STATUS(eve_answer_nodes(a, &nodes, &count), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_node(a, 0, &node), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_child(a, 0, 0, &u), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_rows(a, &u, &v), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_cell(a, 0, 0, &u), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_column_name(a, 0, &text), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_long(a, 0, &l), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_double(a, 0, &d), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_text(a, 0, &text, &len), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_edn(a, &text), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_free(a), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_free(a), EVE_ERR_INVALID_ARGUMENT);

    /* A new answer (which may reuse the freed one's slot) does not revive the old handle. */
    eve_answer *b = QUERY(read, "[:find ?n . :where [?e :person/email \"ada@x\"] [?e :person/name ?n]]", NULL);
    if (b) {
        CHECK(b != a);
        CHECK_STATUS(eve_answer_edn(a, &text), EVE_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(eve_answer_free(a), EVE_ERR_INVALID_ARGUMENT);
        STRING_IS(b, 0, "Ada");
        free_answer(b);
    }

    /* Other handles, and made-up ones, are not answers. */
    CHECK_STATUS(eve_answer_free((eve_answer *)read), EVE_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE("read handle");
    CHECK_STATUS(eve_answer_edn((const eve_answer *)slab, &text), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_edn((const eve_answer *)(uintptr_t)0x7f, &text), EVE_ERR_INVALID_ARGUMENT);
    eve_cursor *cursor = NULL;
    CHECK_OK(eve_db_datoms(read, db, EVE_INDEX_EAVT, EVE_VIEW_CURRENT, 0, NULL, &cursor));
    CHECK_STATUS(eve_answer_free((eve_answer *)cursor), EVE_ERR_INVALID_ARGUMENT);
    CHECK_OK(eve_cursor_close(cursor));
    /* And an answer is not a cursor or a read. */
    eve_answer *c = QUERY(read, "[:find ?n . :where [?e :person/email \"ada@x\"] [?e :person/name ?n]]", NULL);
    if (c) {
        size_t n = 0;
        eve_datom datom;
        CHECK_STATUS(eve_cursor_next((eve_cursor *)c, &datom, 1, &n), EVE_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(eve_read_end((eve_read *)c), EVE_ERR_INVALID_ARGUMENT);
        free_answer(c);
    }
}

/* Views: the answer API sees the same versions as eve_db_query. */
static void test_views(void) {
    eve_tx_report report;
    uint64_t before = 0;
    CHECK_OK(eve_db_wait(slab, db, 0, 0, &before));
    CHECK_OK(eve_db_transact(slab, db, "[[:db/add [:person/email \"ada@x\"] :person/age 37]]", NULL, 0, &report));
    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    const char *age = "[:find ?a . :where [?e :person/email \"ada@x\"] [?e :person/age ?a]]";
    eve_answer *a = query_at(__LINE__, read, EVE_VIEW_CURRENT, 0, age, NULL);
    if (a) {
        CHECK(LONG(a, 0) == 37);
        free_answer(a);
    }
    a = query_at(__LINE__, read, EVE_VIEW_AS_OF, before, age, NULL);
    if (a) {
        CHECK(LONG(a, 0) == 36);
        free_answer(a);
    }
    /* Since: only datoms asserted after `before` (Ada's new age), not her email. */
    a = query_at(__LINE__, read, EVE_VIEW_SINCE, before, age, NULL);
    if (a) {
        CHECK(ROW_COUNT(a) == 0);
        free_answer(a);
    }
    a = query_at(__LINE__, read, EVE_VIEW_SINCE, before, "[:find [?a ...] :where [_ :person/age ?a]]", NULL);
    if (a) {
        EDN_IS(a, "[37]");
        free_answer(a);
    }
    a = query_at(__LINE__, read, EVE_VIEW_HISTORY, 0,
                 "[:find [?a ...] :where [?e :person/email \"ada@x\"] [?e :person/age ?a]]", NULL);
    if (a) {
        EDN_IS(a, "[36 37]");
        free_answer(a);
    }
    CHECK_OK(eve_read_end(read));
}

/* ---- lifetimes and threads ----------------------------------------------------------- */

struct reader_job {
    eve_answer *answer;
    const eve_node *nodes; /* from the creating thread */
    int failures;
    char message[256];
};

/* Reads a relation answer made by another thread: ["Ada" 36] ["Bob" 40] ["Cy" 36]. */
static void *read_in_thread(void *arg) {
    struct reader_job *job = arg;
    const eve_answer *a = job->answer;
    uint64_t rows = 0, columns = 0, cell = 0, count = 0;
    const eve_node *nodes = NULL;
    const char *text = NULL, *edn = NULL;
    int64_t age = 0;
    if (eve_answer_rows(a, &rows, &columns) != EVE_OK || rows != 3 || columns != 2) job->failures++;
    if (eve_answer_cell(a, 1, 0, &cell) != EVE_OK || eve_answer_text(a, cell, &text, NULL) != EVE_OK ||
        strcmp(text, "Bob") != 0)
        job->failures++;
    if (eve_answer_cell(a, 2, 1, &cell) != EVE_OK || eve_answer_long(a, cell, &age) != EVE_OK || age != 36)
        job->failures++;
    if (eve_answer_nodes(a, &nodes, &count) != EVE_OK || nodes != job->nodes || count != 10)
        job->failures++;
    if (eve_answer_edn(a, &edn) != EVE_OK || strcmp(edn, "#{[\"Ada\" 36] [\"Bob\" 40] [\"Cy\" 36]}") != 0)
        job->failures++;
    /* Errors in this thread have their own message. */
    if (eve_answer_long(a, 0, &age) != EVE_ERR_WRONG_KIND) job->failures++;
    snprintf(job->message, sizeof job->message, "%s", eve_last_error_message());
    return NULL;
}

static void *free_in_thread(void *arg) {
    struct reader_job *job = arg;
    if (eve_answer_free(job->answer) != EVE_OK) job->failures++;
    if (eve_answer_free(job->answer) != EVE_ERR_INVALID_ARGUMENT) job->failures++;
    return NULL;
}

/* Each thread queries through its own read, many times, and checks what it gets. */
static void *query_in_thread(void *arg) {
    struct reader_job *job = arg;
    for (int i = 0; i < 200; i++) {
        eve_read *read;
        eve_answer *a = NULL;
        if (eve_read_begin(slab, &read) != EVE_OK) {
            job->failures++;
            return NULL;
        }
        if (eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0,
                                "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]", NULL,
                                &a) != EVE_OK)
            job->failures++;
        if (eve_read_end(read) != EVE_OK) job->failures++;
        uint64_t cell = 0;
        const char *text = NULL;
        if (eve_answer_cell(a, i % 3, 0, &cell) != EVE_OK || eve_answer_text(a, cell, &text, NULL) != EVE_OK ||
            strcmp(text, (const char *[]){"Ada", "Bob", "Cy"}[i % 3]) != 0)
            job->failures++;
        if (eve_answer_free(a) != EVE_OK) job->failures++;
    }
    return NULL;
}

static void test_lifetimes(void) {
    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    eve_answer *a = QUERY(read, "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]", NULL);
    eve_answer *p = PULL(read, "[:person/name {:person/best [:person/name]}]", "[:person/email \"cy@x\"]");
    const eve_node *nodes = NULL;
    uint64_t count = 0;
    const char *edn_before = NULL;
    if (a) {
        CHECK_OK(eve_answer_nodes(a, &nodes, &count));
        CHECK_OK(eve_answer_edn(a, &edn_before));
    }
    CHECK_OK(eve_read_end(read));
    if (!a || !p) return;

    /* The read is over and the database moves on (and is reclaimed); the answers own their
     * data and still say the same. */
    CHECK_OK(eve_db_transact(slab, db, "[[:db/add [:person/email \"bob@x\"] :person/name \"Robert\"]]", NULL, 0, NULL));
    for (int i = 0; i < 20; i++) {
        char tx[96];
        snprintf(tx, sizeof tx, "[[:db/add [:person/email \"cy@x\"] :person/age %d]]", 50 + i);
        CHECK_OK(eve_db_transact(slab, db, tx, NULL, 0, NULL));
    }
    CHECK_OK(eve_slab_reclaim(slab, NULL));
    const eve_node *again = NULL;
    uint64_t count_again = 0;
    const char *edn = NULL;
    CHECK_OK(eve_answer_nodes(a, &again, &count_again));
    CHECK(again == nodes && count_again == count && count == 10);
    CHECK_OK(eve_answer_edn(a, &edn));
    CHECK(edn == edn_before && strcmp(edn, "#{[\"Ada\" 36] [\"Bob\" 40] [\"Cy\" 36]}") == 0);
    STRING_IS(a, CELL(a, 1, 0), "Bob");
    CHECK(LONG(a, CELL(a, 2, 1)) == 36);
    CHECK_TREE(a);
    STRING_IS(p, MAP_GET(p, MAP_GET(p, 0, "person/best"), "person/name"), "Bob");
    EDN_IS(p, "{:person/name \"Cy\", :person/best {:person/name \"Bob\"}}");

    /* Another thread reads the answer (answers are not tied to a thread, unlike reads). */
    struct reader_job job = {a, nodes, 0, ""};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, read_in_thread, &job) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(job.failures == 0);
    CHECK(strstr(job.message, "a set") != NULL);
    /* ...and still works here. */
    CHECK_TREE(a);

    /* Another thread frees the pull; here it is gone. */
    struct reader_job freeing = {p, NULL, 0, ""};
    CHECK(pthread_create(&thread, NULL, free_in_thread, &freeing) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(freeing.failures == 0);
    const char *text = NULL;
    CHECK_STATUS(eve_answer_edn(p, &text), EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_answer_free(p), EVE_ERR_INVALID_ARGUMENT);
    CHECK_OK(eve_answer_free(a));
    CHECK_STATUS(eve_answer_free(a), EVE_ERR_INVALID_ARGUMENT);

    /* Put Bob and Cy back as they were, then query from several threads at once. */
    CHECK_OK(eve_db_transact(slab, db,
                             "[[:db/add [:person/email \"bob@x\"] :person/name \"Bob\"]"
                             " [:db/add [:person/email \"cy@x\"] :person/age 36]]",
                             NULL, 0, NULL));
    enum { THREADS = 4 };
    struct reader_job jobs[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        CHECK(pthread_create(&threads[i], NULL, query_in_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(jobs[i].failures == 0);
    }
}

/* Reads the entity id of a tempid out of a transaction report ({"ada" 1048576, ...}). */
static long long tempid(const eve_tx_report *report, const char *name) {
    char quoted[32];
    snprintf(quoted, sizeof quoted, "\"%s\" ", name);
    const char *at = strstr(report->tempids, quoted);
    long long id = 0;
    if (at) sscanf(at + strlen(quoted), "%lld", &id);
    CHECK(id > 0);
    return id;
}

int main(void) {
    char path[256];
    temp_slab_path(path, sizeof path, "answers");
    CHECK_OK(eve_slab_open(path, NULL, &slab));
    CHECK_OK(eve_db_open(slab, "people", &db));
    CHECK_OK(eve_db_open(slab, "other people", &other));
    CHECK_OK(eve_map_open(slab, "not a database", &a_map));
    CHECK(db != other);

    eve_tx_report report;
    CHECK_OK(eve_db_transact(slab, db, SCHEMA, NULL, 0, &report));
    CHECK_OK(eve_db_transact(slab, db, PEOPLE, NULL, 0, &report));
    ada = tempid(&report, "ada");
    bob = tempid(&report, "bob");
    cy = tempid(&report, "cy");
    CHECK_OK(eve_db_transact(slab, other, SCHEMA, NULL, 0, NULL));
    CHECK_OK(eve_db_transact(slab, other,
                             "[{:person/email \"ada@x\" :person/name \"Ada Lovelace\"}"
                             " {:person/email \"dan@x\" :person/name \"Dan\"}]",
                             NULL, 0, NULL));

    eve_read *read;
    CHECK_OK(eve_read_begin(slab, &read));
    test_relation(read);
    test_scalar(read);
    test_collection(read);
    test_tuple(read);
    test_maps(read);
    test_aggregates(read);
    test_pull_in_find(read);
    test_pull_answer(read);
    test_sources(read);
    test_query_errors(read);
    test_handle_errors(read);
    CHECK_OK(eve_read_end(read));

    /* An ended read makes no answers. */
    eve_answer *untouched = NULL;
    CHECK_STATUS(eve_db_query_answer(read, db, EVE_VIEW_CURRENT, 0, "[:find ?n :where [_ :person/name ?n]]",
                                     NULL, &untouched),
                 EVE_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(eve_db_pull_answer(read, db, "[*]", "1", &untouched), EVE_ERR_INVALID_ARGUMENT);
    CHECK(untouched == NULL);

    test_lifetimes();
    test_views();

    CHECK_OK(eve_slab_close(slab));
    unlink(path);
    return finish("test_answers");
}
