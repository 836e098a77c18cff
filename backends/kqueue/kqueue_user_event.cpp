// The `kqueue` backend: the wake event is an EVFILT_USER knote, registered
// once with EV_ADD|EV_CLEAR so the kernel hands each trigger to exactly one
// kevent caller and clears it (the consume-on-delivery of docs/semantics.md),
// and posted with NOTE_TRIGGER alone (Go CL 628975 does the same).
#include "backend_factories.hpp"
#include "kqueue_backend.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <string>
#include <system_error>

namespace unipoll::detail {
namespace {

#ifdef EVFILT_USER

// User events have their own ident space, apart from descriptors.
constexpr std::uintptr_t wake_ident = 0;

class kqueue_user_backend final : public kqueue_backend {
public:
    explicit kqueue_user_backend(int kq) noexcept : kqueue_backend(kq) {}

    backend kind() const noexcept override { return backend::kqueue; }

    // Registers the wake event and triggers it in the same kevent call with
    // a zero timeout, which must return it. EVFILT_USER has been found to
    // compile and register but never fire on some systems (libuv checks the
    // same way). Returns why it failed, or an empty string. On success the
    // probe's trigger has been consumed, so no stale wake is left behind.
    std::string probe() {
        std::array<kq::kevent_t, 2> changes{
            kq::make_kevent(wake_ident, EVFILT_USER, kq::as_flags(EV_ADD | EV_CLEAR), 0, registry::wake_key),
            kq::make_kevent(wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, registry::wake_key)};
        std::array<kq::kevent_t, 2> got{};
        const timespec zero{};
        stat_counters::bump(stats.syscalls);
        const int n = ::kevent(kq(), changes.data(), 2, got.data(), 2, &zero);
        if (n < 0) return "kevent: " + std::generic_category().message(errno);
        for (int i = 0; i < n; ++i) {
            const kq::kevent_t& ev = got[static_cast<std::size_t>(i)];
            if (ev.flags & EV_ERROR)
                return "kevent(EVFILT_USER): " +
                       std::generic_category().message(static_cast<int>(ev.data));
            if (is_wake_event(ev)) return {};
        }
        return "a triggered EVFILT_USER event was not returned by kevent";
    }

    void post() noexcept override {
        // flags 0: the knote exists. An EV_CLEAR here would reset the very
        // trigger it sets (FreeBSD, NetBSD), and EV_ADD re-registers the
        // knote; either can lose a wake.
        kq::kevent_t ev = kq::make_kevent(wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, registry::wake_key);
        const int saved = errno;
        int rc;
        do {
            stat_counters::bump(stats.syscalls);
            rc = ::kevent(kq(), &ev, 1, nullptr, 0, nullptr);
        } while (rc < 0 && errno == EINTR);
        // A lost post is a lost wake: say so at the next poll rather than
        // never (a signal handler cannot be told).
        if (rc < 0) post_failed(errno);
        errno = saved;
    }

protected:
    bool is_wake_event(const kq::kevent_t& ev) const noexcept override {
        return ev.filter == EVFILT_USER && ev.ident == wake_ident;
    }

    // EV_CLEAR: the kernel consumed the trigger by returning it.
    bool on_wake_event(bool) noexcept override { return true; }
};

void report_fallback(const std::string& why) {
    static std::once_flag once;
    std::call_once(once, [&] {
        std::fprintf(stderr, "unipoll: kqueue: EVFILT_USER does not work here (%s); using kqueue-pipe\n",
                     why.c_str());
    });
}

#endif  // EVFILT_USER

}  // namespace

std::unique_ptr<backend_impl> make_kqueue_backend() {
#ifdef EVFILT_USER
    auto b = std::make_unique<kqueue_user_backend>(open_kqueue(backend::kqueue));
    const std::string why = b->probe();
    if (why.empty()) return b;
    report_fallback(why);
#endif
    // Without EVFILT_USER in the headers (NetBSD < 10, OpenBSD < 7.8) the
    // pipe variant is the only choice, known at build time.
    return make_kqueue_pipe_backend();
}

}  // namespace unipoll::detail
