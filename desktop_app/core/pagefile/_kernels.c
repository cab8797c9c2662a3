/* Loops over a database image too fine-grained for numpy: built at install where a C compiler is found
 * (setup.py marks it optional); desktop_app.core.pagefile.headers falls back to numpy without it. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Ranges ahead of the one read whose bytes are asked for. */
#define PREFETCH_AHEAD 16
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)0)
#endif

/* 1 when data[start:end) holds a byte that is not zero: eight bytes at a time between the ends. */
static int range_nonzero(const unsigned char *data, Py_ssize_t start, Py_ssize_t end)
{
    while (start < end && (start & 7)) {
        if (data[start++]) return 1;
    }
    uint64_t any = 0;
    for (; start + 32 <= end; start += 32) {
        uint64_t w[4];
        memcpy(w, data + start, 32);
        any |= w[0] | w[1] | w[2] | w[3];
        if (any) return 1;
    }
    for (; start + 8 <= end; start += 8) {
        uint64_t w;
        memcpy(&w, data + start, 8);
        if (w) return 1;
    }
    while (start < end) {
        if (data[start++]) return 1;
    }
    return 0;
}

PyDoc_STRVAR(any_nonzero_doc,
"any_nonzero(data, starts, ends, out)\n--\n\n"
"out[i] = 1 when data[starts[i]:ends[i]] holds a byte that is not zero, else 0 (an empty range: 0).\n"
"starts and ends: int64 buffers of one length; out: a writable buffer of as many bytes. The GIL is\n"
"released meanwhile. ValueError when a range lies outside data.");

static PyObject *any_nonzero(PyObject *self, PyObject *args)
{
    Py_buffer data, starts, ends, out;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*w*", &data, &starts, &ends, &out)) return NULL;
    /* (the formats y* and w* ask for contiguous buffers, read as bytes) */
    Py_ssize_t count = starts.len / 8;
    if (starts.len % 8 || ends.len != starts.len || out.len != count) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must be int64 buffers of one length, out as long");
        goto done;
    }
    const int64_t *first = starts.buf, *last = ends.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (first[i] < last[i] && (first[i] < 0 || last[i] > data.len)) {
            PyErr_Format(PyExc_ValueError, "range %zd lies outside the data", i);
            goto done;
        }
    }
    const unsigned char *bytes = data.buf;
    unsigned char *found = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        /* Each range usually lies on a page of its own: ask for a later one's bytes while this one is
         * read (a cache miss each, else: the walk took 2.5 times as long). */
        if (i + PREFETCH_AHEAD < count && first[i + PREFETCH_AHEAD] < last[i + PREFETCH_AHEAD]) {
            PREFETCH(bytes + first[i + PREFETCH_AHEAD]);
            PREFETCH(bytes + last[i + PREFETCH_AHEAD] - 1);
        }
        found[i] = first[i] < last[i] ? (unsigned char)range_nonzero(bytes, first[i], last[i]) : 0;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"any_nonzero", any_nonzero, METH_VARARGS, any_nonzero_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "Loops over a database image, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
