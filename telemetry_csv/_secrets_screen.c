/* The secret screen's pass over a block of lines, compiled (optional; see
 * telemetry_csv/compiled.py). The reference is secrets_scan.screen_lines: a translate of the
 * whole block and one search of it for the run of token characters, then one more search of the
 * whole block for each literal, then a count of line breaks up to each place found. Here the
 * block is read a line at a time while the line is in cache: a skip search for the run, memchr
 * for each literal, and a line that holds either is flagged without reading the rest of it.
 * What to look for (the token characters, the run's length, the literals) stays in
 * secrets_scan.py and comes in as arguments, so the two cannot drift apart.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Whether line[0:size] holds a run of at least `run` token bytes. A skip search: the byte
 * where a run long enough would end is read first, so text with short words costs about one
 * read every few bytes rather than one a byte. */
static int has_run(const unsigned char *line, Py_ssize_t size, const char *token, Py_ssize_t run) {
    Py_ssize_t at = 0, length = 0; /* `length` token bytes end just before `at` */
    while (at + run - length <= size) {
        Py_ssize_t probe = at + run - length - 1;
        if (!token[line[probe]]) {
            at = probe + 1;
            length = 0;
            continue;
        }
        Py_ssize_t first = probe;
        while (first > at && token[line[first - 1]]) first--;
        if (first == at) return 1; /* the bytes from `at` to `probe` finish the run */
        length = probe - first + 1;
        at = probe + 1;
    }
    return 0;
}

/* Whether line[0:size] holds one of `literals`: memchr finds each place that starts like one. */
static int has_literal(const unsigned char *line, Py_ssize_t size, PyObject *literals) {
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(literals); k++) {
        PyObject *literal = PyTuple_GET_ITEM(literals, k);
        Py_ssize_t width = PyBytes_GET_SIZE(literal);
        const char *bytes = PyBytes_AS_STRING(literal);
        const unsigned char *at = line, *end = line + size;
        while (end - at >= width) {
            at = memchr(at, (unsigned char)bytes[0], (size_t)(end - at - width + 1));
            if (at == NULL) break;
            if (memcmp(at, bytes, (size_t)width) == 0) return 1;
            at++;
        }
    }
    return 0;
}

PyDoc_STRVAR(lines_doc,
    "lines(block, token_characters, run, literals)\n"
    "--\n\n"
    "The numbers (from 0) of the lines of block (bytes) that hold a run of at least `run`\n"
    "bytes of token_characters, or one of literals (bytes, none empty or holding a line break).");

static PyObject *lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 4 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[1]) ||
        !PyTuple_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "lines(bytes, bytes, int, tuple[bytes, ...])");
        return NULL;
    }
    Py_ssize_t run = PyLong_AsSsize_t(args[2]);
    if (run == -1 && PyErr_Occurred()) return NULL;
    if (run < 1) {
        PyErr_SetString(PyExc_ValueError, "run must be at least 1");
        return NULL;
    }
    char token[256] = {0};
    const unsigned char *tokens = (const unsigned char *)PyBytes_AS_STRING(args[1]);
    for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(args[1]); i++) token[tokens[i]] = 1;
    if (token['\n']) {
        PyErr_SetString(PyExc_ValueError, "a line break cannot be a token character");
        return NULL;
    }
    PyObject *literals = args[3];
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(literals); k++) {
        PyObject *literal = PyTuple_GET_ITEM(literals, k);
        if (!PyBytes_Check(literal) || PyBytes_GET_SIZE(literal) == 0 ||
            memchr(PyBytes_AS_STRING(literal), '\n', (size_t)PyBytes_GET_SIZE(literal))) {
            PyErr_SetString(PyExc_ValueError, "each literal: bytes, not empty, no line break");
            return NULL;
        }
    }

    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    PyObject *found = PySet_New(NULL);
    if (found == NULL) return NULL;
    Py_ssize_t line = 0;
    for (Py_ssize_t at = 0; at <= size; line++) {
        const unsigned char *stop = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = stop == NULL ? size : stop - data;
        if (has_run(data + at, end - at, token, run) || has_literal(data + at, end - at, literals)) {
            PyObject *number = PyLong_FromSsize_t(line);
            int failed = number == NULL || PySet_Add(found, number) < 0;
            Py_XDECREF(number);
            if (failed) {
                Py_DECREF(found);
                return NULL;
            }
        }
        at = end + 1;
    }
    return found;
}

static PyMethodDef methods[] = {
    {"lines", (PyCFunction)(void (*)(void))lines, METH_FASTCALL, lines_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_secrets_screen", "The secret screen's pass over lines, compiled.", -1,
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__secrets_screen(void) { return PyModule_Create(&module); }
