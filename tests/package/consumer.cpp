// Built against an installed unipoll, like a user's program: a wake from
// another thread and an fd event must both arrive, and the headers and the
// library must carry the same version. Prints "consumer: unipoll <version>,
// <backend> backend, ok".
#include <unipoll/poller.hpp>
#include <unipoll/version.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

int main() {
    unipoll::poller p;
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    p.add(fds[0], unipoll::interest::read, 7);
    std::thread waker([&] { p.wake(); });
    unipoll::event ev[4];
    bool woken = false;
    while (!woken) woken = p.poll(ev).woken;
    waker.join();
    if (::write(fds[1], "x", 1) != 1) return 1;
    const auto r = p.poll(ev);
    const bool same_version = unipoll::version() == UNIPOLL_VERSION;
    const bool ok = same_version && r.count == 1 && ev[0].token == 7 && ev[0].readable;
    p.remove(fds[0]);
    ::close(fds[0]);
    ::close(fds[1]);
    std::printf("consumer: unipoll %s, %s backend, %s\n", std::string(unipoll::version()).c_str(),
                std::string(unipoll::name(p.kind())).c_str(), ok ? "ok" : "FAILED");
    if (!same_version)
        std::printf("consumer: headers are %s, the library is %s\n", UNIPOLL_VERSION,
                    std::string(unipoll::version()).c_str());
    return ok ? 0 : 1;
}
