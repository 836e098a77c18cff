// Checks of the reference model itself, for the rules no real backend
// breaks (so the corpus cannot show that the model still catches them):
// after a close without remove(), the old registration's token is
// tolerated until the number is remove()d or add()ed again, and flagged
// from then on. Fed by hand, without a poller.
#include "fd_pool.hpp"
#include "reference_model.hpp"

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace unipoll_fuzz;

int failures = 0;

void check(bool ok, const std::string& what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what.c_str());
        ++failures;
    }
}

// One poll(0) reporting `token` (with every flag set, or none): whether
// the model accepts it.
bool accepts(reference_model& m, std::uint64_t token, bool flags = true) {
    const unipoll::event ev{token, flags, flags, flags, flags};
    try {
        m.check_poll(false, std::chrono::nanoseconds{0}, 16, {&ev, 1}, false,
                     std::chrono::nanoseconds{0}, {});
        return true;
    } catch (const divergence&) {
        return false;
    }
}

// A pipe in slot 0 whose read end is registered with token t1 and then
// closed without remove(); the write end is closed too and the slot
// reopened, so the read end's number now belongs to a new pipe (pipe2
// takes the lowest free numbers). `then` gets the model and the number.
void scenario(const char* name, bool reuse,
              const std::function<void(reference_model&, int, std::uint64_t)>& then) {
    fd_pool pool;
    reference_model m({false, false}, pool);
    pool.open(0, false);
    const int rd = pool.fd({0, 0});
    m.opened(rd);
    m.opened(pool.fd({0, 1}));
    const std::uint64_t t1 = m.next_token(false);
    m.check_add(rd, 1, 0, true, t1, 0);
    check(accepts(m, t1, false), std::string(name) + ": live token refused");
    pool.close({0, 0}, true);
    m.closed(rd);
    m.touched(0);
    check(accepts(m, t1), std::string(name) + ": token of a closed fd refused before reuse");
    if (reuse) {
        pool.close({0, 1}, false);
        m.touched(0);
        pool.open(0, false);
        if (pool.fd({0, 0}) != rd) {
            std::fprintf(stderr, "%s: skipped, the number was not reused\n", name);
            return;
        }
        m.opened(pool.fd({0, 0}));
        m.opened(pool.fd({0, 1}));
        check(accepts(m, t1), std::string(name) + ": token of a closed fd refused after reuse");
    }
    then(m, rd, t1);
}

}  // namespace

int main() {
    scenario("remove", false, [](reference_model& m, int fd, std::uint64_t t1) {
        m.check_remove(fd, 0);
        check(!accepts(m, t1), "remove: old token accepted after remove()");
    });
    scenario("reuse, remove", true, [](reference_model& m, int fd, std::uint64_t t1) {
        m.check_remove(fd, 0);
        check(!accepts(m, t1), "reuse, remove: old token accepted after remove()");
    });
    scenario("reuse, add", true, [](reference_model& m, int fd, std::uint64_t t1) {
        const std::uint64_t t2 = m.next_token(true);
        m.check_add(fd, 1, 0, true, t2, 0);
        check(!accepts(m, t1), "reuse, add: old token accepted after add() of the number");
        check(accepts(m, t2, false), "reuse, add: new token refused");
    });
    scenario("reuse, modify, add", true, [](reference_model& m, int fd, std::uint64_t t1) {
        // modify() of the reused number fails (ENOENT) and the registration
        // leaves the model's table; the old token lives on until the add.
        m.check_modify(fd, 1, 0, true, m.next_token(false), ENOENT);
        check(accepts(m, t1), "reuse, modify, add: old token refused after a failed modify()");
        m.check_add(fd, 1, 0, true, m.next_token(false), 0);
        check(!accepts(m, t1), "reuse, modify, add: old token accepted after add() of the number");
    });
    scenario("reuse, modify, remove", true, [](reference_model& m, int fd, std::uint64_t t1) {
        m.check_modify(fd, 1, 0, true, m.next_token(false), ENOENT);
        m.check_remove(fd, ENOENT);
        check(!accepts(m, t1), "reuse, modify, remove: old token accepted after remove()");
    });
    if (failures == 0) std::fprintf(stderr, "reference model: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
