// One factory per backend compiled into this build. A factory either returns
// a working backend or throws std::system_error saying why not; constructing
// one is also how selection.cpp probes the running kernel (Seastar-style:
// exercise the feature instead of reading version numbers).
#pragma once

#include "backend_impl.hpp"

#include <memory>

namespace unipoll::detail {

#if UNIPOLL_HAVE_EPOLL
std::unique_ptr<backend_impl> make_epoll_backend();
#endif
#if UNIPOLL_HAVE_IO_URING
std::unique_ptr<backend_impl> make_io_uring_backend();
#endif
#if UNIPOLL_HAVE_KQUEUE
// Falls back to a kqueue-pipe backend when EVFILT_USER does not fire here.
std::unique_ptr<backend_impl> make_kqueue_backend();
std::unique_ptr<backend_impl> make_kqueue_pipe_backend();
#endif
#if UNIPOLL_HAVE_POLL
// POSIX poll(2), or WSAPoll on Windows.
std::unique_ptr<backend_impl> make_poll_backend();
#endif
#if UNIPOLL_HAVE_IOCP
std::unique_ptr<backend_impl> make_iocp_backend();
#endif

}  // namespace unipoll::detail
