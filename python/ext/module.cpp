// unipoll._unipoll: the extension module behind the unipoll package
// (python/src/unipoll). The Python-level names are re-exported there.
#include "py_poller.hpp"

#include <pybind11/stl.h>

#include <string>
#include <system_error>

namespace py = pybind11;
using unipoll_python::py_poller;

namespace {

// std::system_error (errno category) -> OSError(errno, message), which
// Python turns into FileExistsError, PermissionError, ... by errno.
void translate_system_error(std::exception_ptr p) {
    try {
        if (p) std::rethrow_exception(p);
    } catch (const std::system_error& e) {
        py::object err = py::reinterpret_steal<py::object>(
            PyObject_CallFunction(PyExc_OSError, "is", e.code().value(), e.what()));
        if (err) PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(err.ptr())), err.ptr());
    }
}

std::vector<std::string> backend_names(const std::vector<unipoll::backend>& bs) {
    std::vector<std::string> names;
    for (auto b : bs) names.emplace_back(unipoll::name(b));
    return names;
}

}  // namespace

PYBIND11_MODULE(_unipoll, m) {
    m.doc() = "unipoll's C++ poller (see the unipoll package for the Python-level API)";
    py::register_exception_translator(&translate_system_error);

    m.attr("READ") = unipoll_python::flag_read;
    m.attr("WRITE") = unipoll_python::flag_write;
    m.attr("HANGUP") = unipoll_python::flag_hangup;
    m.attr("ERROR") = unipoll_python::flag_error;
    m.attr("LEVEL") = static_cast<int>(unipoll::trigger::level);
    m.attr("EDGE") = static_cast<int>(unipoll::trigger::edge);
    m.attr("ONESHOT") = static_cast<int>(unipoll::trigger::oneshot);

    m.def("available_backends", [] { return backend_names(unipoll::available_backends()); },
          "Backends that work on this kernel, preferred first.");
    m.def("default_backend", [] { return std::string(unipoll::name(unipoll::default_backend())); },
          "$UNIPOLL_BACKEND if set, else the first available backend.");

    py::class_<py_poller>(m, "Poller",
                          "A readiness poller. Poller(backend=None): None picks "
                          "default_backend().")
        .def(py::init<std::optional<std::string>>(), py::arg("backend") = py::none())
        .def_property_readonly("backend", &py_poller::backend_name, "The backend's name.")
        .def_property_readonly("closed", &py_poller::closed)
        .def("supports", &py_poller::supports, py::arg("trigger"))
        .def("add", &py_poller::add, py::arg("fd"), py::arg("events"),
             py::arg("token") = py::none(), py::arg("trigger") = 0,
             "Watch fd (an int or an object with fileno()) for READ and/or WRITE; "
             "events carry token (default: the fd).")
        .def("modify", &py_poller::modify, py::arg("fd"), py::arg("events"),
             py::arg("token") = py::none(), py::arg("trigger") = 0)
        .def("remove", &py_poller::remove, py::arg("fd"))
        .def("poll", &py_poller::poll, py::arg("timeout") = py::none(),
             py::arg("max_events") = py::none(),
             "Wait up to timeout seconds (None: forever, 0: do not block) and return "
             "([(token, flags), ...], woken). Releases the GIL while blocking.")
        .def("wake", &py_poller::wake,
             "Make the blocking poll in progress, or else the next one, return woken. "
             "Any thread; costs no system call when nobody sleeps.")
        .def("stats", &py_poller::stats)
        .def("close", &py_poller::close)
        .def("__enter__", [](py::object self) { return self; })
        .def("__exit__", [](py_poller& self, py::args) { self.close(); });
}
