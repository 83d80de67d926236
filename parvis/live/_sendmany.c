/*
 * parvis.live._sendmany: one payload sent to many sockets with the GIL released once.
 *
 * Written by hand because no library does it: Python (and uvloop, and every asyncio
 * transport) makes one system call per socket with the GIL held or re-taken around each
 * call. A live room sends the same WebSocket message to thousands of listeners ten times a
 * second; done from the event loop, those sends take half of its core, and done from a
 * Python thread one call at a time, the thread waits for the GIL before each send (see
 * `parvis.live.writer`). Here a whole batch of sends runs without the GIL, so the relay's
 * writer thread uses the second core while the event loop keeps admitting listeners.
 *
 * send_jobs(jobs) takes a sequence of (fds, payload) pairs: fds a buffer of native ints
 * (array('i')), payload a bytes-like object. For each fd it calls
 * send(fd, payload, MSG_DONTWAIT | MSG_NOSIGNAL) once (retrying only on EINTR) and returns,
 * per job, the list of (index, result) for the sends that did not take the whole payload:
 * result is the number of bytes taken (0 <= result < len) or -errno. Sends that took
 * everything are not listed, so the common case returns empty lists.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct {
    Py_buffer fds;
    Py_buffer payload;
    Py_ssize_t *results;
} job_t;

static void release_jobs(job_t *jobs, Py_ssize_t count) {
    for (Py_ssize_t j = 0; j < count; j++) {
        if (jobs[j].fds.obj != NULL) PyBuffer_Release(&jobs[j].fds);
        if (jobs[j].payload.obj != NULL) PyBuffer_Release(&jobs[j].payload);
        PyMem_RawFree(jobs[j].results);
    }
    PyMem_Free(jobs);
}

static PyObject *send_jobs(PyObject *module, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "send_jobs expects a sequence of (fds, payload)");
    if (seq == NULL) return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    job_t *jobs = PyMem_Calloc(count ? count : 1, sizeof(job_t));
    if (jobs == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t j = 0; j < count; j++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, j);
        PyObject *fds_obj, *payload_obj;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "each job must be a (fds, payload) tuple");
            goto fail;
        }
        fds_obj = PyTuple_GET_ITEM(item, 0);
        payload_obj = PyTuple_GET_ITEM(item, 1);
        if (PyObject_GetBuffer(fds_obj, &jobs[j].fds, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
            goto fail;
        if (jobs[j].fds.itemsize != sizeof(int) || jobs[j].fds.format == NULL ||
            strcmp(jobs[j].fds.format, "i") != 0) {
            PyErr_SetString(PyExc_TypeError, "fds must be an array('i') of descriptors");
            goto fail;
        }
        if (PyObject_GetBuffer(payload_obj, &jobs[j].payload, PyBUF_C_CONTIGUOUS) < 0)
            goto fail;
        Py_ssize_t n = jobs[j].fds.len / (Py_ssize_t)sizeof(int);
        jobs[j].results = PyMem_RawMalloc((n ? n : 1) * sizeof(Py_ssize_t));
        if (jobs[j].results == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
    }

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t j = 0; j < count; j++) {
        const int *fds = (const int *)jobs[j].fds.buf;
        Py_ssize_t n = jobs[j].fds.len / (Py_ssize_t)sizeof(int);
        const char *data = (const char *)jobs[j].payload.buf;
        size_t length = (size_t)jobs[j].payload.len;
        for (Py_ssize_t i = 0; i < n; i++) {
            ssize_t sent;
            do {
                sent = send(fds[i], data, length, MSG_DONTWAIT | MSG_NOSIGNAL);
            } while (sent < 0 && errno == EINTR);
            jobs[j].results[i] = sent < 0 ? -(Py_ssize_t)errno : (Py_ssize_t)sent;
        }
    }
    Py_END_ALLOW_THREADS

    PyObject *out = PyList_New(count);
    if (out == NULL) goto fail;
    for (Py_ssize_t j = 0; j < count; j++) {
        PyObject *short_sends = PyList_New(0);
        if (short_sends == NULL) {
            Py_DECREF(out);
            goto fail;
        }
        PyList_SET_ITEM(out, j, short_sends);
        Py_ssize_t n = jobs[j].fds.len / (Py_ssize_t)sizeof(int);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (jobs[j].results[i] == jobs[j].payload.len) continue;
            PyObject *pair = Py_BuildValue("(nn)", i, jobs[j].results[i]);
            if (pair == NULL || PyList_Append(short_sends, pair) < 0) {
                Py_XDECREF(pair);
                Py_DECREF(out);
                goto fail;
            }
            Py_DECREF(pair);
        }
    }
    release_jobs(jobs, count);
    Py_DECREF(seq);
    return out;

fail:
    release_jobs(jobs, count);
    Py_DECREF(seq);
    return NULL;
}

static PyMethodDef methods[] = {
    {"send_jobs", send_jobs, METH_O,
     "send_jobs(jobs) -> per job, the (index, result) of each send that fell short."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sendmany",
    "One payload sent to many sockets with the GIL released once.", -1, methods,
};

PyMODINIT_FUNC PyInit__sendmany(void) { return PyModule_Create(&module); }
