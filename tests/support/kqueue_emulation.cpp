// kqueue(2) emulated on epoll, for tests on Linux only: the subset declared
// in kqueue_emulation/sys/event.h, following FreeBSD's or XNU's kernel
// (UNIPOLL_KQUEUE_EMULATION=freebsd|darwin) wherever they differ. This file
// is the process-wide part: the personality, kqueue(), kevent(), the table
// of kqueues by descriptor, fork, and what closes and reads of descriptors
// do to every kqueue. One kqueue's model is emulation/emulated_kqueue.hpp.
#include "emulation/emulated_kqueue.hpp"

#include <sys/event.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

namespace kqueue_emulation {
namespace {

std::atomic<bool> broken_user_events{false};
std::atomic<int> trigger_error{0};

constexpr std::uint64_t notify_tag = ~std::uint64_t{0};

personality resolve_personality() {
    const char* env = std::getenv("UNIPOLL_KQUEUE_EMULATION");
    if (!env || !*env || std::strcmp(env, "freebsd") == 0) return personality::freebsd;
    if (std::strcmp(env, "darwin") == 0) return personality::darwin;
    std::fprintf(stderr, "kqueue emulation: UNIPOLL_KQUEUE_EMULATION=%s is neither freebsd nor darwin\n",
                 env);
    std::abort();
}

// Emulated kqueues by descriptor.
struct kqueue_table {
    std::mutex mutex;
    std::unordered_map<int, std::shared_ptr<emulated_kqueue>> by_fd;

    // Never destroyed: it outlives threads still in kevent() at exit.
    static std::atomic<kqueue_table*>& instance() {
        static std::atomic<kqueue_table*> table{new kqueue_table};
        return table;
    }
    static kqueue_table& get() { return *instance().load(); }

    std::vector<std::shared_ptr<emulated_kqueue>> all() {
        std::lock_guard lock(mutex);
        std::vector<std::shared_ptr<emulated_kqueue>> out;
        out.reserve(by_fd.size());
        for (auto& [fd, kq] : by_fd) out.push_back(kq);
        return out;
    }

    // A kqueue is not inherited by fork(2) (kqueue(2), FreeBSD and macOS):
    // its descriptor does not exist in the child, so the number is free
    // there. The child has one thread, which may find the table locked by a
    // thread of the parent, so it abandons the table instead of locking it.
    static void forget_in_child() noexcept {
        kqueue_table* old = instance().load();
        for (auto& [fd, kq] : old->by_fd) real_close(fd);
        instance().store(new kqueue_table);
    }
};

}  // namespace

personality current_personality() {
    static const personality p = resolve_personality();
    return p;
}

const char* personality_name(personality p) noexcept {
    return p == personality::darwin ? "darwin" : "freebsd";
}

bool user_events_broken() noexcept { return broken_user_events.load(); }
int user_trigger_error() noexcept { return trigger_error.load(); }
void set_user_events_broken(bool broken) noexcept { broken_user_events.store(broken); }
void fail_user_triggers(int err) noexcept { trigger_error.store(err); }

namespace {
std::shared_mutex descriptor_table;
thread_local bool descriptor_table_held = false;
// A kevent() of another thread may hold the lock when a thread forks; that
// thread does not exist in the child, whose copy starts afresh. (Not taken
// around fork() and released in the child: glibc releases a write lock only
// in the thread id that took it, and the child's differs.)
const int descriptor_table_at_fork =
    ::pthread_atfork(nullptr, nullptr, [] { new (&descriptor_table) std::shared_mutex; });
}  // namespace

bool descriptor_table_lock::held_here() noexcept { return descriptor_table_held; }

descriptor_table_lock::descriptor_table_lock(mode m) noexcept : mode_(m) {
    if (descriptor_table_held) return;
    if (m == exclusive)
        descriptor_table.lock();
    else
        descriptor_table.lock_shared();
    descriptor_table_held = held_ = true;
}

descriptor_table_lock::~descriptor_table_lock() {
    if (!held_) return;
    descriptor_table_held = false;
    if (mode_ == exclusive)
        descriptor_table.unlock();
    else
        descriptor_table.unlock_shared();
}

void descriptor_closing(int fd) noexcept {
    kqueue_table& t = kqueue_table::get();
    std::vector<std::shared_ptr<emulated_kqueue>> kqs;
    {
        std::lock_guard lock(t.mutex);
        // Closing a kqueue's descriptor ends it: kevent() on the number
        // fails with EBADF from now on, whatever it is reused for.
        t.by_fd.erase(fd);
        kqs.reserve(t.by_fd.size());
        for (auto& [n, kq] : t.by_fd) kqs.push_back(kq);
    }
    for (auto& kq : kqs) kq->descriptor_closing(fd);
}

void descriptor_reading(int fd) noexcept {
    const descriptor_table_lock table(descriptor_table_lock::shared);  // the filters ask other fds
    for (auto& kq : kqueue_table::get().all()) kq->take_in_changes(fd);
}

void descriptor_read(int fd) noexcept {
    const descriptor_table_lock table(descriptor_table_lock::shared);
    const std::vector<std::shared_ptr<emulated_kqueue>> kqs = kqueue_table::get().all();
    if (kqs.empty()) return;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
    // A read from a pipe wakes the knotes of both of its ends (they hang on
    // the reading side's list in both kernels), so an EV_CLEAR knote fires
    // again while data is left: FreeBSD pipe_read calls pipeselwakeup() when
    // at least PIPE_BUF (512 there) bytes are free, XNU pipe_read
    // (sys_pipe.c) when any are.
    const int size = ::fcntl(fd, F_GETPIPE_SZ);
    int held = 0;
    if (size <= 0 || ::ioctl(fd, FIONREAD, &held) != 0) return;
    const long free_bytes = size - held;
    constexpr long freebsd_pipe_buf = 512;
    if (current_personality() == personality::freebsd ? free_bytes < freebsd_pipe_buf : free_bytes <= 0)
        return;
    for (auto& kq : kqs) kq->pipe_read(st.st_dev, st.st_ino);
}

}  // namespace kqueue_emulation

int kqueue() {
    using namespace kqueue_emulation;
    (void)current_personality();  // a bad UNIPOLL_KQUEUE_EMULATION stops here
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return -1;
    const int nfd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = notify_tag;
    if (nfd < 0 || ::epoll_ctl(ep, EPOLL_CTL_ADD, nfd, &ev) != 0) {
        const int err = errno;
        if (nfd >= 0) real_close(nfd);
        real_close(ep);
        errno = err;
        return -1;
    }
    static std::once_flag at_fork;
    std::call_once(at_fork, [] { ::pthread_atfork(nullptr, nullptr, kqueue_table::forget_in_child); });
    auto kq = std::make_shared<emulated_kqueue>(ep, nfd);
    kqueue_table& t = kqueue_table::get();
    std::lock_guard lock(t.mutex);
    // A number can only be in the table if its kqueue was closed where the
    // emulation could not see it.
    t.by_fd[ep] = std::move(kq);
    return ep;
}

int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout) {
    using namespace kqueue_emulation;
    std::shared_ptr<emulated_kqueue> st;
    {
        kqueue_table& t = kqueue_table::get();
        std::lock_guard lock(t.mutex);
        auto it = t.by_fd.find(kq);
        if (it != t.by_fd.end()) st = it->second;
    }
    // Closed, never a kqueue, or a kqueue of the parent in a forked child:
    // FreeBSD kqueue_acquire and XNU kevent_get_kqfile say EBADF.
    if (!st) {
        errno = EBADF;
        return -1;
    }
    if (nchanges < 0 || nevents < 0 ||
        (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000))) {
        errno = EINVAL;
        return -1;
    }
    return st->kevent(changelist, nchanges, eventlist, nevents, timeout);
}
