/* The report's pass over a run of canonical lines, compiled (optional; see telemetry_csv/compiled.py).
 *
 * `tally` does for one run what the loop of `aggregate._scan` does row by row, for the default
 * report (UTC days, no filters), and returns the run's sums by cell instead of adding them to
 * the cells itself: the Python side adds them (a run of thousands of rows touches a hundred
 * cells or so). The pure-Python loop stays the reference: tests compare the two on generated
 * logs, and anything this parser does not recognise as a canonical line makes it return None,
 * before it has called back into Python, so that the caller reads the run the reference way.
 *
 * Everything that is not arithmetic stays in Python, called back: whether a row's source id
 * was read before (`is_new`), and the cost of a row whose model's price is not the plain
 * common case (`cost_of`, which may move the model's price window and update `prices`).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

#if defined(__SIZEOF_INT128__)
#define HAVE_INT128 1
typedef __int128 wide;
#else
#define HAVE_INT128 0 /* then every priced row goes through `cost_of` */
#endif

/* ---- sums that never overflow: a C integer that spills into a Python int ---- */

typedef struct {
    int64_t small;  /* non-negative */
    PyObject *big;  /* what has spilled, or NULL */
} Sum;

static int sum_add(Sum *sum, int64_t value) {
    if (sum->small > INT64_MAX - value) {
        PyObject *part = PyLong_FromLongLong(sum->small);
        if (part == NULL) return -1;
        PyObject *total = sum->big == NULL ? (Py_INCREF(part), part) : PyNumber_Add(sum->big, part);
        Py_DECREF(part);
        if (total == NULL) return -1;
        Py_XDECREF(sum->big);
        sum->big = total;
        sum->small = 0;
    }
    sum->small += value;
    return 0;
}

static PyObject *sum_value(Sum *sum) {
    PyObject *small = PyLong_FromLongLong(sum->small);
    if (small == NULL || sum->big == NULL) return small;
    PyObject *total = PyNumber_Add(sum->big, small);
    Py_DECREF(small);
    return total;
}

#if HAVE_INT128
static PyObject *wide_value(wide value) {
    if (value >= INT64_MIN && value <= INT64_MAX) return PyLong_FromLongLong((long long)value);
    /* high * 2**64 + low */
    PyObject *high = PyLong_FromLongLong((long long)(value >> 64));
    PyObject *low = PyLong_FromUnsignedLongLong((unsigned long long)(value & UINT64_MAX));
    PyObject *shift = PyLong_FromLong(64);
    PyObject *result = NULL;
    if (high != NULL && low != NULL && shift != NULL) {
        PyObject *shifted = PyNumber_Lshift(high, shift);
        if (shifted != NULL) {
            result = PyNumber_Add(shifted, low);
            Py_DECREF(shifted);
        }
    }
    Py_XDECREF(high);
    Py_XDECREF(low);
    Py_XDECREF(shift);
    return result;
}
#endif

/* ---- one line ---- */

typedef struct {
    const char *at;
    Py_ssize_t size;
} Span;

typedef struct {
    Span stamp, model, kind, source, source_id;
    int ok;
    int64_t prompt, completion, duration, cache_read, cache_write;
    int64_t start, second, fraction, day;
    Py_ssize_t model_name, kind_name; /* indexes into the run's names */
} Line;

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* H. Hinnant's days_from_civil, as rfc3339.days_from_civil. */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2;
    int64_t era = floor_div(year, 400);
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* `size` ASCII digits as a number; -1 if any is not a digit. */
static int64_t digits(const char *at, Py_ssize_t size) {
    int64_t value = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (!is_digit(at[i])) return -1;
        value = value * 10 + (at[i] - '0');
    }
    return value;
}

/* A count field: 1 to 15 digits (schema.COUNT_MAX_DIGITS). */
static int count_field(Span span, int64_t *value) {
    if (span.size < 1 || span.size > 15) return 0;
    *value = digits(span.at, span.size);
    return *value >= 0;
}

/* A cache part of the extended shape: empty (0, unknown) or a count. */
static int cache_field(Span span, int64_t *value) {
    if (span.size == 0) {
        *value = 0;
        return 1;
    }
    return count_field(span, value);
}

/* The stored timestamp's hour start, second, fraction (as dates.fraction_ns) and UTC day (as
 * zones.HourBuckets with the UTC zone: the day of the row's second, a leap second being
 * refused). 0 if it is not a timestamp as the log stores them. */
static int stamp_fields(Line *line) {
    const char *s = line->stamp.at;
    Py_ssize_t n = line->stamp.size;
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return 0;
    int64_t year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    int64_t hour = digits(s + 11, 2), minute = digits(s + 14, 2), second = digits(s + 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 59)
        return 0;
    Py_ssize_t end = 19;
    int64_t fraction = 0;
    if (s[19] == '.') {
        end = 20;
        while (end < n && is_digit(s[end])) end++;
        Py_ssize_t count = end - 20;
        if (count < 1 || count > 18) return 0;
        fraction = digits(s + 20, count);
        for (Py_ssize_t i = count; i < 9; i++) fraction *= 10;
    }
    int64_t start = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600;
    if (end == n - 1 && s[end] == 'Z') {
        /* UTC */
    } else if (end == n - 6 && (s[end] == '+' || s[end] == '-') && s[end + 3] == ':') {
        int64_t hours = digits(s + end + 1, 2), minutes = digits(s + end + 4, 2);
        if (hours < 0 || minutes < 0) return 0;
        int64_t offset = hours * 3600 + minutes * 60;
        start = s[end] == '-' ? start + offset : start - offset;
    } else {
        return 0;
    }
    line->start = start;
    line->second = start + minute * 60 + second;
    line->fraction = fraction;
    line->day = floor_div(line->second, SECONDS_PER_DAY);
    return 1;
}

static const char *find(const char *at, const char *end, char c) {
    const char *found = memchr(at, c, (size_t)(end - at));
    return found == NULL ? end : found;
}

/* One line (without its newline) into `line`: its first seven fields split on commas, as
 * `str.split(",", 7)`, and in the extended shape the last four fields of the rest, as
 * `rest.rsplit(",", 4)`. 0 if it is not a line of that shape. */
static int parse_line(const char *at, const char *end, int extended, Line *line) {
    Span fields[7];
    const char *cursor = at;
    for (int i = 0; i < 7; i++) {
        const char *comma = find(cursor, end, ',');
        if (comma == end) return 0;
        fields[i].at = cursor;
        fields[i].size = comma - cursor;
        cursor = comma + 1;
    }
    line->stamp = fields[0];
    line->model = fields[1];
    line->kind = fields[5];
    if (!count_field(fields[2], &line->prompt) || !count_field(fields[3], &line->completion) ||
        !count_field(fields[6], &line->duration))
        return 0;
    if (fields[4].size == 4 && memcmp(fields[4].at, "true", 4) == 0)
        line->ok = 1;
    else if (fields[4].size == 5 && memcmp(fields[4].at, "false", 5) == 0)
        line->ok = 0;
    else
        return 0;
    line->source.at = line->source_id.at = end;
    line->source.size = line->source_id.size = 0;
    line->cache_read = line->cache_write = 0;
    if (extended) {
        /* the rest: notes, source, source id, cache read, cache write */
        Span tail[4];
        const char *stop = end;
        for (int i = 3; i >= 0; i--) {
            const char *comma = stop;
            while (comma > cursor && comma[-1] != ',') comma--;
            if (comma == cursor) return 0; /* fewer than four commas in the rest */
            tail[i].at = comma;
            tail[i].size = stop - comma;
            stop = comma - 1;
        }
        line->source = tail[0];
        line->source_id = tail[1];
        if (!cache_field(tail[2], &line->cache_read) ||
            !cache_field(tail[3], &line->cache_write))
            return 0;
    }
    return stamp_fields(line);
}

/* ---- the run's names (models and task types) and groups, in small hash tables ---- */

typedef struct {
    const char *at;
    Py_ssize_t size;
    PyObject *text; /* the name as a str, made when first needed */
} Name;

typedef struct {
    Name *items;
    Py_ssize_t count, capacity;
    Py_ssize_t *slots; /* index + 1, or 0 */
    Py_ssize_t slot_count;
} Names;

static uint64_t hash_bytes(const char *at, Py_ssize_t size) {
    uint64_t hash = 1469598103934665603ULL;
    for (Py_ssize_t i = 0; i < size; i++) hash = (hash ^ (unsigned char)at[i]) * 1099511628211ULL;
    return hash;
}

static int names_grow(Names *names) {
    Py_ssize_t slot_count = names->slot_count ? names->slot_count * 2 : 64;
    Py_ssize_t *slots = PyMem_Calloc((size_t)slot_count, sizeof(Py_ssize_t));
    if (slots == NULL) return -1;
    for (Py_ssize_t i = 0; i < names->count; i++) {
        uint64_t hash = hash_bytes(names->items[i].at, names->items[i].size);
        Py_ssize_t slot = (Py_ssize_t)(hash & (uint64_t)(slot_count - 1));
        while (slots[slot]) slot = (slot + 1) & (slot_count - 1);
        slots[slot] = i + 1;
    }
    PyMem_Free(names->slots);
    names->slots = slots;
    names->slot_count = slot_count;
    return 0;
}

/* The index of a name, added if new; -1 on running out of memory. */
static Py_ssize_t name_index(Names *names, Span span) {
    if ((names->count + 1) * 2 > names->slot_count && names_grow(names) < 0) return -1;
    uint64_t hash = hash_bytes(span.at, span.size);
    Py_ssize_t mask = names->slot_count - 1;
    Py_ssize_t slot = (Py_ssize_t)(hash & (uint64_t)mask);
    while (names->slots[slot]) {
        Name *name = &names->items[names->slots[slot] - 1];
        if (name->size == span.size && memcmp(name->at, span.at, (size_t)span.size) == 0)
            return names->slots[slot] - 1;
        slot = (slot + 1) & mask;
    }
    if (names->count == names->capacity) {
        Py_ssize_t capacity = names->capacity ? names->capacity * 2 : 32;
        Name *items = PyMem_Realloc(names->items, (size_t)capacity * sizeof(Name));
        if (items == NULL) return -1;
        names->items = items;
        names->capacity = capacity;
    }
    Name *name = &names->items[names->count];
    name->at = span.at;
    name->size = span.size;
    name->text = NULL;
    names->slots[slot] = names->count + 1;
    return names->count++;
}

static PyObject *name_text(Names *names, Py_ssize_t index) {
    Name *name = &names->items[index];
    if (name->text == NULL) {
        name->text = PyUnicode_DecodeUTF8(name->at, name->size, "strict");
        if (name->text != NULL) PyUnicode_InternInPlace(&name->text);
    }
    return name->text;
}

static void names_free(Names *names) {
    for (Py_ssize_t i = 0; i < names->count; i++) Py_XDECREF(names->items[i].text);
    PyMem_Free(names->items);
    PyMem_Free(names->slots);
}

typedef struct {
    int64_t a, b, c, d; /* model, task type (or -1), day (or a constant), success */
    int64_t runs, unpriced;
    Sum prompt, completion, cache_read, cache_write, duration_total;
#if HAVE_INT128
    wide femto;
#endif
    PyObject *femto_big; /* costs `cost_of` gave, or NULL */
    int64_t *durations;
    Py_ssize_t duration_count, duration_capacity;
} Group;

typedef struct {
    Group *items;
    Py_ssize_t count, capacity;
    Py_ssize_t *slots;
    Py_ssize_t slot_count;
} Groups;

static uint64_t hash_key(int64_t a, int64_t b, int64_t c, int64_t d) {
    uint64_t hash = 0x9E3779B97F4A7C15ULL;
    int64_t parts[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
        hash ^= (uint64_t)parts[i] + 0x9E3779B97F4A7C15ULL + (hash << 6) + (hash >> 2);
    }
    return hash * 0xff51afd7ed558ccdULL;
}

static int groups_grow(Groups *groups) {
    Py_ssize_t slot_count = groups->slot_count ? groups->slot_count * 2 : 256;
    Py_ssize_t *slots = PyMem_Calloc((size_t)slot_count, sizeof(Py_ssize_t));
    if (slots == NULL) return -1;
    for (Py_ssize_t i = 0; i < groups->count; i++) {
        Group *group = &groups->items[i];
        uint64_t hash = hash_key(group->a, group->b, group->c, group->d);
        Py_ssize_t slot = (Py_ssize_t)(hash >> 20) & (slot_count - 1);
        while (slots[slot]) slot = (slot + 1) & (slot_count - 1);
        slots[slot] = i + 1;
    }
    PyMem_Free(groups->slots);
    groups->slots = slots;
    groups->slot_count = slot_count;
    return 0;
}

static Group *group_of(Groups *groups, int64_t a, int64_t b, int64_t c, int64_t d) {
    if ((groups->count + 1) * 2 > groups->slot_count && groups_grow(groups) < 0) return NULL;
    uint64_t hash = hash_key(a, b, c, d);
    Py_ssize_t mask = groups->slot_count - 1;
    Py_ssize_t slot = (Py_ssize_t)(hash >> 20) & mask;
    while (groups->slots[slot]) {
        Group *group = &groups->items[groups->slots[slot] - 1];
        if (group->a == a && group->b == b && group->c == c && group->d == d) return group;
        slot = (slot + 1) & mask;
    }
    if (groups->count == groups->capacity) {
        Py_ssize_t capacity = groups->capacity ? groups->capacity * 2 : 128;
        Group *items = PyMem_Realloc(groups->items, (size_t)capacity * sizeof(Group));
        if (items == NULL) return NULL;
        groups->items = items;
        groups->capacity = capacity;
    }
    Group *group = &groups->items[groups->count];
    memset(group, 0, sizeof(Group));
    group->a = a;
    group->b = b;
    group->c = c;
    group->d = d;
    groups->slots[slot] = ++groups->count;
    return group;
}

static void groups_free(Groups *groups) {
    for (Py_ssize_t i = 0; i < groups->count; i++) {
        Py_XDECREF(groups->items[i].prompt.big);
        Py_XDECREF(groups->items[i].completion.big);
        Py_XDECREF(groups->items[i].cache_read.big);
        Py_XDECREF(groups->items[i].cache_write.big);
        Py_XDECREF(groups->items[i].duration_total.big);
        Py_XDECREF(groups->items[i].femto_big);
        PyMem_Free(groups->items[i].durations);
    }
    PyMem_Free(groups->items);
    PyMem_Free(groups->slots);
}

/* ---- a row's cost ---- */

typedef struct {
    int state; /* 0: ask `prices` again, 1: rates below, 2: not priced, 3: ask `cost_of` */
    int64_t start, end, rates[6];
} Price;

/* What `prices` says of a model: a tuple (start, end, six rates) of the current price window
 * (see aggregate._snapshot), None when the model has no price, nothing when only `cost_of`
 * can tell. */
static int price_of(PyObject *prices, PyObject *model, Price *price) {
    PyObject *found = PyDict_GetItemWithError(prices, model);
    if (found == NULL) {
        if (PyErr_Occurred()) return -1;
        price->state = 3;
        return 0;
    }
    if (found == Py_None) {
        price->state = 2;
        return 0;
    }
    if (!PyTuple_Check(found) || PyTuple_GET_SIZE(found) != 8) {
        PyErr_SetString(PyExc_TypeError, "a price is (start, end, six rates)");
        return -1;
    }
    int64_t values[8];
    for (int i = 0; i < 8; i++) {
        values[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(found, i));
        if (values[i] == -1 && PyErr_Occurred()) return -1;
    }
    price->start = values[0];
    price->end = values[1];
    memcpy(price->rates, values + 2, sizeof(price->rates));
    price->state = HAVE_INT128 ? 1 : 3;
    return 0;
}

static int add_cost(Group *group, PyObject *femto) {
    if (femto == Py_None) {
        group->unpriced++;
        return 0;
    }
    PyObject *total = group->femto_big == NULL ? (Py_INCREF(femto), femto)
                                               : PyNumber_Add(group->femto_big, femto);
    if (total == NULL) return -1;
    Py_XDECREF(group->femto_big);
    group->femto_big = total;
    return 0;
}

#if HAVE_INT128
/* A row's cost is under 2**116 (`_price_snapshot` lets rates up to 2**62 through, counts have
 * 15 digits): a sum past 2**120 spills into `femto_big` before it could overflow. */
static int femto_add(Group *group, wide femto) {
    const wide limit = (wide)1 << 120;
    group->femto += femto;
    if (group->femto > limit || group->femto < -limit) {
        PyObject *part = wide_value(group->femto);
        if (part == NULL) return -1;
        int failed = add_cost(group, part);
        Py_DECREF(part);
        if (failed) return -1;
        group->femto = 0;
    }
    return 0;
}
#endif

/* ---- the pass ---- */

static int add_duration(Group *group, int64_t duration) {
    if (group->duration_count == group->duration_capacity) {
        Py_ssize_t capacity = group->duration_capacity ? group->duration_capacity * 2 : 16;
        int64_t *durations =
            PyMem_Realloc(group->durations, (size_t)capacity * sizeof(int64_t));
        if (durations == NULL) return -1;
        group->durations = durations;
        group->duration_capacity = capacity;
    }
    group->durations[group->duration_count++] = duration;
    return 0;
}

static int add_line(Group *group, const Line *line) {
    group->runs++;
    if (sum_add(&group->prompt, line->prompt) < 0 ||
        sum_add(&group->completion, line->completion) < 0 ||
        sum_add(&group->cache_read, line->cache_read) < 0 ||
        sum_add(&group->cache_write, line->cache_write) < 0 ||
        sum_add(&group->duration_total, line->duration) < 0)
        return -1;
    return add_duration(group, line->duration);
}

/* A group's sums as a list: [runs, prompt, completion, cache read, cache write, femto-dollars,
 * unpriced runs, total duration, durations as bytes of native int64]. */
static PyObject *group_value(Group *group) {
    PyObject *femto;
#if HAVE_INT128
    femto = wide_value(group->femto);
#else
    femto = PyLong_FromLong(0);
#endif
    if (femto != NULL && group->femto_big != NULL) {
        PyObject *total = PyNumber_Add(femto, group->femto_big);
        Py_DECREF(femto);
        femto = total;
    }
    if (femto == NULL) return NULL;
    return Py_BuildValue(
        "[LNNNNNLNy#]", (long long)group->runs, sum_value(&group->prompt),
        sum_value(&group->completion), sum_value(&group->cache_read),
        sum_value(&group->cache_write), femto, (long long)group->unpriced,
        sum_value(&group->duration_total), (const char *)group->durations,
        (Py_ssize_t)(group->duration_count * (Py_ssize_t)sizeof(int64_t)));
}

static PyObject *stamp_of(const Line *line) {
    return PyUnicode_DecodeUTF8(line->stamp.at, line->stamp.size, "strict");
}

PyDoc_STRVAR(tally_doc,
    "tally(run, extended, fine, is_new, prices, cost_of)\n"
    "--\n\n"
    "The sums of one run of canonical lines by cell, for a UTC report without filters:\n"
    "(rows counted, {cell key: sums}, {(day, success): sums}, first, last), first and last\n"
    "being (hour start, timestamp) of the run's earliest and latest row; None when a line is\n"
    "not canonical (then nothing was called back). See aggregate._compiled_tally.");

static PyObject *tally(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "tally takes six arguments");
        return NULL;
    }
    PyObject *run = args[0], *is_new = args[3], *prices = args[4], *cost_of = args[5];
    int extended = PyObject_IsTrue(args[1]), fine = PyObject_IsTrue(args[2]);
    if (extended < 0 || fine < 0) return NULL;
    if (!PyUnicode_Check(run) || (prices != Py_None && !PyDict_Check(prices))) {
        PyErr_SetString(PyExc_TypeError, "tally(str, bool, bool, callable, dict | None, callable)");
        return NULL;
    }
#if !HAVE_INT128
    /* every priced row would call back: the reference is faster than that */
    if (prices != Py_None) Py_RETURN_NONE;
#endif
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(run, &size);
    if (text == NULL) {
        /* a lone surrogate, which no canonical line holds: the reference reads such a run */
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    const char *end = text + size;

    Py_ssize_t line_count = 0;
    for (const char *at = text; (at = memchr(at, '\n', (size_t)(end - at))) != NULL; at++)
        line_count++;
    if (size == 0 || end[-1] != '\n') Py_RETURN_NONE;

    PyObject *result = NULL, *cells = NULL, *days = NULL, *first = NULL, *last = NULL;
    PyObject *truth[2] = {NULL, NULL};
    Line *lines = PyMem_Malloc((size_t)(line_count ? line_count : 1) * sizeof(Line));
    Price *price_list = NULL;
    Names names = {0};
    Groups groups = {0}, day_groups = {0};
    if (lines == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    /* Parse every line before calling anything back, so that a line not understood leaves
     * the run to the reference path untouched. */
    const char *at = text;
    for (Py_ssize_t i = 0; i < line_count; i++) {
        const char *stop = memchr(at, '\n', (size_t)(end - at));
        if (!parse_line(at, stop, extended, &lines[i])) {
            PyMem_Free(lines);
            Py_RETURN_NONE;
        }
        at = stop + 1;
    }
    for (Py_ssize_t i = 0; i < line_count; i++) {
        lines[i].model_name = name_index(&names, lines[i].model);
        lines[i].kind_name = name_index(&names, lines[i].kind);
        if (lines[i].model_name < 0 || lines[i].kind_name < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < names.count; i++)
        if (name_text(&names, i) == NULL) goto done; /* not UTF-8 after all: an error */
    price_list = PyMem_Calloc((size_t)(names.count ? names.count : 1), sizeof(Price));
    truth[0] = PyUnicode_InternFromString("false");
    truth[1] = PyUnicode_InternFromString("true");
    if (price_list == NULL || truth[0] == NULL || truth[1] == NULL) {
        if (price_list == NULL) PyErr_NoMemory();
        goto done;
    }

    Py_ssize_t counted = 0, first_index = -1, last_index = -1;
    for (Py_ssize_t i = 0; i < line_count; i++) {
        Line *line = &lines[i];
        if (line->source_id.size) {
            PyObject *source = PyUnicode_DecodeUTF8(line->source.at, line->source.size, "strict");
            PyObject *id = source == NULL ? NULL
                : PyUnicode_DecodeUTF8(line->source_id.at, line->source_id.size, "strict");
            PyObject *answer = id == NULL ? NULL : PyObject_CallFunctionObjArgs(is_new, source, id, NULL);
            Py_XDECREF(source);
            Py_XDECREF(id);
            if (answer == NULL) goto done;
            int fresh = PyObject_IsTrue(answer);
            Py_DECREF(answer);
            if (fresh < 0) goto done;
            if (!fresh) continue; /* the same usage as a row read before */
        }
        counted++;
        /* the first by instant is the first read of equals, the last the last read */
        if (first_index < 0 || line->second < lines[first_index].second ||
            (line->second == lines[first_index].second &&
             line->fraction < lines[first_index].fraction))
            first_index = i;
        if (last_index < 0 || line->second > lines[last_index].second ||
            (line->second == lines[last_index].second &&
             line->fraction >= lines[last_index].fraction))
            last_index = i;
        Group *cell = fine ? group_of(&groups, line->model_name, line->kind_name, line->day, line->ok)
                           : group_of(&groups, line->model_name, line->kind_name, 0, line->ok);
        Group *day = fine ? NULL : group_of(&day_groups, -1, -1, line->day, line->ok);
        if (cell == NULL || (!fine && day == NULL)) {
            PyErr_NoMemory();
            goto done;
        }
        if (add_line(cell, line) < 0 || (day != NULL && add_line(day, line) < 0)) goto done;
        if (prices == Py_None) continue;
        Price *price = &price_list[line->model_name];
        if (price->state == 0 && price_of(prices, name_text(&names, line->model_name), price) < 0)
            goto done;
        if (price->state == 2) {
            cell->unpriced++;
            if (day != NULL) day->unpriced++;
            continue;
        }
#if HAVE_INT128
        const int64_t *rates = price->rates;
        if (price->state == 1 && price->start <= line->start && line->start + 3600 <= price->end &&
            line->prompt <= rates[3]) {
            /* the price of the row's whole hour, its lowest tier: as aggregate._cost */
            wide femto = (wide)rates[0] * (line->prompt - line->cache_read - line->cache_write) +
                         (wide)rates[4] * line->cache_read + (wide)rates[5] * line->cache_write +
                         (wide)rates[1] * line->completion + (wide)rates[2];
            if (femto_add(cell, femto) < 0 || (day != NULL && femto_add(day, femto) < 0))
                goto done;
            continue;
        }
#endif
        PyObject *stamp = stamp_of(line);
        PyObject *femto = stamp == NULL ? NULL
            : PyObject_CallFunction(cost_of, "OLOLLLL", name_text(&names, line->model_name),
                  (long long)line->start, stamp, (long long)line->prompt,
                  (long long)line->completion, (long long)line->cache_read,
                  (long long)line->cache_write);
        Py_XDECREF(stamp);
        if (femto == NULL) goto done;
        int failed = add_cost(cell, femto) < 0 || (day != NULL && add_cost(day, femto) < 0);
        Py_DECREF(femto);
        if (failed) goto done;
        /* `cost_of` may have moved the model's price window: read `prices` again */
        for (Py_ssize_t k = 0; k < names.count; k++) price_list[k].state = 0;
    }

    cells = PyDict_New();
    days = PyDict_New();
    if (cells == NULL || days == NULL) goto done;
    for (Py_ssize_t i = 0; i < groups.count; i++) {
        Group *group = &groups.items[i];
        PyObject *day = fine ? PyLong_FromLongLong(group->c) : NULL;
        if (fine && day == NULL) goto done;
        PyObject *key = fine ? PyTuple_Pack(4, name_text(&names, group->a),
                                            name_text(&names, group->b), day, truth[group->d])
                             : PyTuple_Pack(3, name_text(&names, group->a),
                                            name_text(&names, group->b), truth[group->d]);
        Py_XDECREF(day);
        PyObject *value = key == NULL ? NULL : group_value(group);
        int failed = value == NULL || PyDict_SetItem(cells, key, value) < 0;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (failed) goto done;
    }
    for (Py_ssize_t i = 0; i < day_groups.count; i++) {
        Group *group = &day_groups.items[i];
        PyObject *day = PyLong_FromLongLong(group->c);
        PyObject *key = day == NULL ? NULL : PyTuple_Pack(2, day, truth[group->d]);
        Py_XDECREF(day);
        PyObject *value = key == NULL ? NULL : group_value(group);
        int failed = value == NULL || PyDict_SetItem(days, key, value) < 0;
        Py_XDECREF(key);
        Py_XDECREF(value);
        if (failed) goto done;
    }
    if (first_index >= 0) {
        first = Py_BuildValue("(LN)", (long long)lines[first_index].start, stamp_of(&lines[first_index]));
        last = Py_BuildValue("(LN)", (long long)lines[last_index].start, stamp_of(&lines[last_index]));
        if (first == NULL || last == NULL) goto done;
    } else {
        first = Py_NewRef(Py_None);
        last = Py_NewRef(Py_None);
    }
    result = Py_BuildValue("(nOOOO)", counted, cells, days, first, last);

done:
    Py_XDECREF(cells);
    Py_XDECREF(days);
    Py_XDECREF(first);
    Py_XDECREF(last);
    Py_XDECREF(truth[0]);
    Py_XDECREF(truth[1]);
    PyMem_Free(price_list);
    names_free(&names);
    groups_free(&groups);
    groups_free(&day_groups);
    PyMem_Free(lines);
    return result;
}

static PyMethodDef methods[] = {
    {"tally", (PyCFunction)(void (*)(void))tally, METH_FASTCALL, tally_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tally", "The report's pass over runs, compiled (see telemetry_csv/compiled.py).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__tally(void) { return PyModule_Create(&module); }
