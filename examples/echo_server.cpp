// A TCP echo server on loopback: the poller thread owns the sockets, a worker
// thread "processes" each message and hands it back through a queue and
// poller::wake() — the pattern unipoll's wake exists for.
//
//   echo_server [port]          serve on 127.0.0.1:port (0 = any) until killed
//   echo_server --self-test N   serve, run a client that echoes N messages
//                               through it and checks them, then exit
#include <unipoll/poller.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace {

struct job {
    int fd;
    std::string data;
};

// A tiny mutex-protected queue; the worker pushes results and then wakes
// the poller, so the poller thread never blocks on the queue.
class job_queue {
public:
    void push(job j) {
        {
            std::lock_guard lock(mu_);
            jobs_.push_back(std::move(j));
        }
        cv_.notify_one();
    }
    bool pop_wait(job& out, const std::atomic<bool>& stop) {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !jobs_.empty() || stop.load(); });
        if (jobs_.empty()) return false;
        out = std::move(jobs_.front());
        jobs_.pop_front();
        return true;
    }
    std::deque<job> take_all() {
        std::lock_guard lock(mu_);
        return std::exchange(jobs_, {});
    }
    void notify_all() { cv_.notify_all(); }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<job> jobs_;
};

int check(int rc, const char* what) {
    if (rc < 0) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Portable spelling of SOCK_NONBLOCK|SOCK_CLOEXEC (macOS has neither).
int nonblocking(int fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int listen_loopback(std::uint16_t port) {
    const int fd = nonblocking(check(::socket(AF_INET, SOCK_STREAM, 0), "socket"));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind");
    check(::listen(fd, 64), "listen");
    return fd;
}

std::uint16_t local_port(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    check(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), "getsockname");
    return ntohs(addr.sin_port);
}

void send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::send(fd, s.data() + off, s.size() - off, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;  // peer gone; its hangup event closes it
        off += static_cast<std::size_t>(n);
    }
}

// Client side of --self-test: N request/response round trips.
bool run_client(std::uint16_t port, int messages) {
    const int fd = check(::socket(AF_INET, SOCK_STREAM, 0), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "connect");
    bool ok = true;
    for (int i = 0; i < messages && ok; ++i) {
        const std::string msg = "message " + std::to_string(i) + "\n";
        send_all(fd, msg);
        std::string got;
        char buf[256];
        while (got.size() < msg.size()) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        ok = got == msg;
        if (!ok) std::fprintf(stderr, "echo mismatch at %d: got \"%s\"\n", i, got.c_str());
    }
    ::close(fd);
    return ok;
}

}  // namespace

int main(int argc, char** argv) try {
    int self_test = 0;
    std::uint16_t port = 0;
    if (argc == 3 && std::strcmp(argv[1], "--self-test") == 0) {
        self_test = std::stoi(argv[2]);
    } else if (argc == 2) {
        port = static_cast<std::uint16_t>(std::stoi(argv[1]));
    } else if (argc != 1) {
        std::fprintf(stderr, "usage: %s [port] | --self-test N\n", argv[0]);
        return 2;
    }

    std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up mid-echo is not fatal
    unipoll::poller p;
    const int lfd = listen_loopback(port);
    constexpr std::uint64_t listener_token = ~std::uint64_t{0};
    p.add(lfd, unipoll::interest::read, listener_token);
    std::printf("echo_server: %s backend, listening on 127.0.0.1:%u\n",
                std::string(unipoll::name(p.kind())).c_str(), local_port(lfd));
    std::fflush(stdout);

    std::atomic<bool> stop{false};
    job_queue work, done;
    std::thread worker([&] {
        job j;
        while (work.pop_wait(j, stop)) {
            done.push(std::move(j));  // the "processing" is the identity
            p.wake();
        }
    });

    bool client_ok = true;
    std::thread client;
    if (self_test > 0) {
        client = std::thread([&] {
            client_ok = run_client(local_port(lfd), self_test);
            stop = true;
            p.wake();
        });
    }

    std::map<int, bool> clients;
    unipoll::event events[64];
    while (!stop) {
        const auto r = p.poll(events);
        if (r.woken)
            for (job& j : done.take_all()) send_all(j.fd, j.data);
        for (std::size_t i = 0; i < r.count; ++i) {
            const auto& ev = events[i];
            if (ev.token == listener_token) {
                int cfd;
                while ((cfd = ::accept(lfd, nullptr, nullptr)) >= 0) {
                    nonblocking(cfd);
                    p.add(cfd, unipoll::interest::read, static_cast<std::uint64_t>(cfd));
                    clients[cfd] = true;
                }
                continue;
            }
            const int cfd = static_cast<int>(ev.token);
            char buf[4096];
            const ssize_t n = ::recv(cfd, buf, sizeof buf, 0);
            if (n > 0) {
                work.push({cfd, std::string(buf, static_cast<std::size_t>(n))});
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                p.remove(cfd);  // remove before close
                ::close(cfd);
                clients.erase(cfd);
            }
        }
    }

    work.notify_all();
    worker.join();
    if (client.joinable()) client.join();
    for (auto& [cfd, _] : clients) {
        p.remove(cfd);
        ::close(cfd);
    }
    p.remove(lfd);
    ::close(lfd);
    const auto s = p.stats();
    std::printf("echo_server: done; syscalls %llu, wake posts %llu, coalesced %llu\n",
                static_cast<unsigned long long>(s.syscalls),
                static_cast<unsigned long long>(s.wake_posts),
                static_cast<unsigned long long>(s.wakes_coalesced));
    if (self_test > 0) std::printf("echo_server: self-test %s\n", client_ok ? "passed" : "FAILED");
    return client_ok ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
}
