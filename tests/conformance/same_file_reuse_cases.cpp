// Close without remove(), and then the same file back under the same number:
// a FIFO opened again, or dup2 of a surviving duplicate onto the number.
// Kernels differ in what they still hold then (epoll keeps a registration
// while the file lives on; kqueue deleted the knotes at close, whatever
// happens to the file later), so docs/semantics.md allows two outcomes for
// registering the number again: add() with a new token works, or add()
// gives EEXIST and modify() works. Either way the fd is then reported, and
// only under the new token: it never falls silent.
#include "fixture.hpp"

#include "fd_helpers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace conformance {
namespace {

// A FIFO in a private directory, removed with it.
class fifo_path {
public:
    fifo_path() {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/unipoll-fifo-XXXXXX";
        if (!::mkdtemp(templ.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        dir_ = templ;
        path_ = dir_ + "/fifo";
        if (::mkfifo(path_.c_str(), 0600) != 0) {
            const int err = errno;
            ::rmdir(dir_.c_str());
            throw std::system_error(err, std::generic_category(), "mkfifo");
        }
    }
    fifo_path(const fifo_path&) = delete;
    fifo_path& operator=(const fifo_path&) = delete;
    ~fifo_path() {
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    unique_fd open(int flags) const {
        const int fd = ::open(path_.c_str(), flags | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) throw std::system_error(errno, std::generic_category(), "open(fifo)");
        return unique_fd(fd);
    }

private:
    std::string dir_;
    std::string path_;
};

// Puts `fresh`'s file under `number`, which is closed, and closes `fresh`.
void move_to(unique_fd& fresh, int number) {
    if (fresh.get() == number) return;
    if (::dup2(fresh.get(), number) != number)
        throw std::system_error(errno, std::generic_category(), "dup2");
    if (::fcntl(number, F_SETFD, FD_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "fcntl(FD_CLOEXEC)");
    fresh = unique_fd(number);
}

// Registers `number` again as docs/semantics.md allows after a close
// without remove(): add(), or EEXIST and then modify().
void register_again(unipoll::poller& p, int number, std::uint64_t token, trigger how) {
    try {
        p.add(number, interest::read, token, how);
    } catch (const std::system_error& e) {
        BOOST_REQUIRE_MESSAGE(e.code() == std::errc::file_exists,
                              "add of the number that names the same file again: " << e.what());
        p.modify(number, interest::read, token, how);
    }
}

// Each of three writes is reported with `token` within patience, and the
// old token never comes (a oneshot is re-armed after each report).
void expect_reported_under(unipoll::poller& p, int writer, int number, std::uint64_t old_token,
                           std::uint64_t token, trigger how) {
    for (int round = 0; round < 3; ++round) {
        write_byte(writer);
        const auto deadline = steady::now() + patience;
        bool seen = false;
        while (!seen && steady::now() < deadline) {
            const polled r = poll_for(p, patience);
            BOOST_CHECK_MESSAGE(!r.has(old_token), "token " << old_token << " of the closed fd "
                                                             << number << " reported again");
            seen = r.has(token);
        }
        BOOST_CHECK_MESSAGE(seen, "fd " << number << " fell silent: token " << token
                                        << " not reported, round " << round);
        drain(number);
        if (how == trigger::oneshot) p.modify(number, interest::read, token, how);
    }
}

// The registration works before the close, so a silence afterwards is the
// re-registration's.
void expect_working(unipoll::poller& p, int writer, int number, std::uint64_t token) {
    write_byte(writer);
    const auto e = await_token(p, token);
    BOOST_REQUIRE_MESSAGE(e && e->readable, "fd " << number << " not reported before the close");
    drain(number);
}

CONFORMANCE_CASE(fifo_reopened_under_the_same_number_reports_the_new_token) {
    unipoll::poller p(backend_under_test);
    fifo_path fifo;
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot}) {
        if (!p.supports(how)) continue;
        BOOST_TEST_CONTEXT("trigger " << trigger_name(how)) {
            // The reader first: a FIFO cannot be opened for writing alone
            // without blocking.
            unique_fd reader = fifo.open(O_RDONLY);
            unique_fd writer = fifo.open(O_WRONLY);
            const int number = reader.get();
            p.add(number, interest::read, 701, how);
            expect_working(p, writer.get(), number, 701);

            reader.reset();  // closed without remove()
            unique_fd again = fifo.open(O_RDONLY);
            move_to(again, number);
            register_again(p, number, 702, how);
            expect_reported_under(p, writer.get(), number, 701, 702, how);
            p.remove(number);
        }
    }
    check_poller_still_works(p);
}

CONFORMANCE_CASE(dup2_of_a_surviving_duplicate_reports_the_new_token) {
    unipoll::poller p(backend_under_test);
    for (trigger how : {trigger::level, trigger::edge, trigger::oneshot}) {
        if (!p.supports(how)) continue;
        BOOST_TEST_CONTEXT("trigger " << trigger_name(how)) {
            auto fds = make_pipe();
            const int number = fds.read_end.get();
            unique_fd keeper(::fcntl(number, F_DUPFD_CLOEXEC, 0));
            BOOST_REQUIRE_MESSAGE(keeper.get() >= 0, "fcntl(F_DUPFD_CLOEXEC): " << std::strerror(errno));
            p.add(number, interest::read, 711, how);
            expect_working(p, fds.write_end.get(), number, 711);

            fds.read_end.reset();  // closed without remove(); the file lives on in keeper
            BOOST_REQUIRE_MESSAGE(::dup2(keeper.get(), number) == number, "dup2: " << std::strerror(errno));
            unique_fd same(number);
            register_again(p, number, 712, how);
            expect_reported_under(p, fds.write_end.get(), number, 711, 712, how);
            p.remove(number);
        }
    }
    check_poller_still_works(p);
}

}  // namespace
}  // namespace conformance
