/* Two loops over runs of extended lines, compiled (optional; see telemetry_csv/compiled.py):
 * `excess`, the lines whose cache parts exceed their prompt tokens (the reference is
 * fastpath._cache_excess_lines), and `ids`, the lines that have a source id (the reference is
 * source_ids.Conflicts.add_run's loop).
 *
 * The fast path has matched the run's lines against the extended shape already, so both only
 * find commas and digits. They read the str as it is stored (1, 2 or 4 bytes a character), so
 * that positions are the str's own indexes. Anything that is not such a line makes them return
 * None, and the caller reads the run the reference way.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The count in text[from:to]: 0 when empty; -1 if not 1 to 15 digits. */
static int64_t count_at(int kind, const void *data, Py_ssize_t from, Py_ssize_t to) {
    if (to - from > 15) return -1;
    int64_t value = 0;
    for (Py_ssize_t i = from; i < to; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (int64_t)(c - '0');
    }
    return value;
}

/* The first `c` in text[from:end], or end: memchr where the str stores a byte a character (an
 * ASCII run reads in about two thirds of the time of a loop), a plain loop otherwise. A run
 * that holds one emoji stores 4 bytes a character, and reading those is what bounds the loops
 * then (about what one str.count over the run takes). */
static Py_ssize_t find_char(int kind, const void *data, Py_ssize_t from, Py_ssize_t end, Py_UCS4 c) {
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *at = memchr((const char *)data + from, (int)c, (size_t)(end - from));
        return at == NULL ? end : at - (const char *)data;
    }
    if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *text = data;
        while (from < end && text[from] != c) from++;
        return from;
    }
    const Py_UCS4 *text = data;
    while (from < end && text[from] != c) from++;
    return from;
}

/* The last `c` in text[from:stop], or from - 1. */
static Py_ssize_t rfind_char(int kind, const void *data, Py_ssize_t from, Py_ssize_t stop, Py_UCS4 c) {
    Py_ssize_t at = stop - 1;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *text = data;
        while (at >= from && text[at] != c) at--;
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *text = data;
        while (at >= from && text[at] != c) at--;
    } else {
        const Py_UCS4 *text = data;
        while (at >= from && text[at] != c) at--;
    }
    return at;
}

/* Appends `item` (a new reference, or NULL after an error) to `found`: -1 on an error. */
static int append_new(PyObject *found, PyObject *item) {
    int failed = item == NULL || PyList_Append(found, item) < 0;
    Py_XDECREF(item);
    return failed ? -1 : 0;
}

PyDoc_STRVAR(excess_doc,
    "excess(text, start, end)\n"
    "--\n\n"
    "Where the lines of text[start:end] (whole extended lines, each ending in a newline) whose\n"
    "cache parts exceed their prompt tokens start, or None if a line is not of that shape.");

static PyObject *excess(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "excess(str, int, int)");
        return NULL;
    }
    PyObject *text = args[0];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), end = PyLong_AsSsize_t(args[2]);
    if ((start == -1 || end == -1) && PyErr_Occurred()) return NULL;
    if (start < 0 || end > PyUnicode_GET_LENGTH(text) || start > end) {
        PyErr_SetString(PyExc_ValueError, "start and end outside the text");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *found = PyList_New(0);
    if (found == NULL) return NULL;
    Py_ssize_t at = start;
    while (at < end) {
        Py_ssize_t stop = find_char(kind, data, at, end, '\n');
        if (stop == end) goto not_shaped; /* a run's last line ends in a newline too */
        /* no cache parts: the line ends in two empty fields */
        if (stop - at >= 2 && PyUnicode_READ(kind, data, stop - 1) == ',' &&
            PyUnicode_READ(kind, data, stop - 2) == ',') {
            at = stop + 1;
            continue;
        }
        Py_ssize_t last = rfind_char(kind, data, at, stop, ',');
        Py_ssize_t before = rfind_char(kind, data, at, last, ',');
        /* the prompt tokens: the third field */
        Py_ssize_t prompt_start = find_char(kind, data, at, stop, ',') + 1;
        if (prompt_start > stop) goto not_shaped;
        prompt_start = find_char(kind, data, prompt_start, stop, ',') + 1;
        if (prompt_start > stop) goto not_shaped;
        Py_ssize_t prompt_end = find_char(kind, data, prompt_start, stop, ',');
        if (before < at || prompt_end >= before) goto not_shaped;
        int64_t read = count_at(kind, data, before + 1, last);
        int64_t write = count_at(kind, data, last + 1, stop);
        int64_t prompt = count_at(kind, data, prompt_start, prompt_end);
        if (read < 0 || write < 0 || prompt < 0 || prompt_end == prompt_start) goto not_shaped;
        if (read + write > prompt && append_new(found, PyLong_FromSsize_t(at)) < 0) {
            Py_DECREF(found);
            return NULL;
        }
        at = stop + 1;
    }
    return found;

not_shaped:
    Py_DECREF(found);
    Py_RETURN_NONE;
}

/* Where the comma before each of the last four fields of text[at:stop] is, or 0. */
static int last_four(int kind, const void *data, Py_ssize_t at, Py_ssize_t stop, Py_ssize_t commas[4]) {
    for (int k = 3; k >= 0; k--) {
        stop = rfind_char(kind, data, at, stop, ',');
        if (stop < at) return 0;
        commas[k] = stop;
    }
    return 1;
}

PyDoc_STRVAR(ids_doc,
    "ids(run)\n"
    "--\n\n"
    "(source, source_id, line) of each line of a run of extended lines (each ending in a\n"
    "newline) that has a source id, in order; None if a line is not of that shape.");

static PyObject *ids(PyObject *module, PyObject *run) {
    (void)module;
    if (!PyUnicode_Check(run)) {
        PyErr_SetString(PyExc_TypeError, "ids(str)");
        return NULL;
    }
    int kind = PyUnicode_KIND(run);
    const void *data = PyUnicode_DATA(run);
    Py_ssize_t end = PyUnicode_GET_LENGTH(run);
    PyObject *found = PyList_New(0);
    if (found == NULL) return NULL;
    Py_ssize_t at = 0;
    while (at < end) {
        Py_ssize_t stop = find_char(kind, data, at, end, '\n');
        Py_ssize_t commas[4];
        if (stop == end || !last_four(kind, data, at, stop, commas)) {
            Py_DECREF(found);
            Py_RETURN_NONE;
        }
        if (commas[1] + 1 < commas[2]) { /* a source id */
            PyObject *item = Py_BuildValue(
                "(NNN)", PyUnicode_Substring(run, commas[0] + 1, commas[1]),
                PyUnicode_Substring(run, commas[1] + 1, commas[2]),
                PyUnicode_Substring(run, at, stop));
            if (append_new(found, item) < 0) {
                Py_DECREF(found);
                return NULL;
            }
        }
        at = stop + 1;
    }
    return found;
}

static PyMethodDef methods[] = {
    {"excess", (PyCFunction)(void (*)(void))excess, METH_FASTCALL, excess_doc},
    {"ids", ids, METH_O, ids_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_extended", "Two loops over runs of extended lines, compiled.", -1,
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__extended(void) { return PyModule_Create(&module); }
