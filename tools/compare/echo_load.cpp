#include "echo_load.hpp"

#include "loopback.hpp"
#include "stats.hpp"
#include "timing.hpp"

#include <unipoll/poller.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <span>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace compare {

namespace {

enum stage : int { connecting, loading, recording, loaded, finishing };

// Latency samples kept per run; beyond it requests are counted, not timed.
constexpr std::size_t max_samples = 4'000'000;

}  // namespace

// Lives in a MAP_SHARED page both processes see; lock-free atomics only.
struct load_shared {
    std::atomic<int> stage{connecting};
    std::atomic<std::uint64_t> connected{0};
    std::atomic<unsigned> first_pass{0};  // client threads whose connections all answered once
    load_numbers numbers;                 // written by the child before it exits
    char error[512] = {};
};

namespace {

struct client_conn {
    int fd = -1;
    std::int64_t sent_at = 0;
    std::uint64_t got = 0;
    bool busy = false;
    bool answered = false;
};

struct client_result {
    std::vector<std::int64_t> samples;
    std::vector<std::int64_t> first_pass;
    std::uint64_t requests = 0;
};

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("echo client: " + what); }

// One client thread: its share of the connections and of the requests in
// flight. Requests go round-robin over the connections, so that every
// connection of the server carries traffic, `in_flight` of them at a time.
void run_client(load_shared& sh, std::span<const int> fds, std::uint64_t in_flight, std::uint64_t msg,
                std::size_t sample_cap, client_result& out, pid_t parent) {
    // The clients' own poller: unipoll's preferred backend here, the same
    // for every subject served.
    unipoll::poller p(unipoll::available_backends().front());
    std::vector<client_conn> conns(fds.size());
    for (std::size_t i = 0; i < fds.size(); ++i) {
        conns[i].fd = fds[i];
        p.add(fds[i], unipoll::interest::read, i);
    }
    const std::vector<char> request(msg, 'q');
    std::vector<char> buf(64 * 1024);
    std::array<unipoll::event, 256> events{};
    out.samples.reserve(sample_cap);
    out.first_pass.reserve(fds.size());
    std::size_t cursor = 0, outstanding = 0, answered = 0;

    auto send_next = [&] {
        while (conns[cursor].busy) cursor = (cursor + 1) % conns.size();
        client_conn& c = conns[cursor];
        cursor = (cursor + 1) % conns.size();
        c.busy = true;
        c.got = 0;
        c.sent_at = now_ns();
        if (::write(c.fd, request.data(), msg) != static_cast<ssize_t>(msg))
            fail(std::string("write of a request: ") + std::strerror(errno));
        ++outstanding;
    };
    for (std::uint64_t k = 0; k < in_flight; ++k) send_next();
    int quiet_polls = 0;
    for (;;) {
        const int st = sh.stage.load(std::memory_order_acquire);
        if (st == finishing && outstanding == 0) return;
        const auto res = p.poll(events, std::chrono::milliseconds(100));
        if (res.count == 0) {
            if (::getppid() != parent) std::_Exit(3);  // the server's process is gone
            if (++quiet_polls > 100) fail(std::to_string(outstanding) + " replies outstanding for 10 s");
            continue;
        }
        quiet_polls = 0;
        for (std::size_t e = 0; e < res.count; ++e) {
            client_conn& c = conns[events[e].token];
            const ssize_t n = ::read(c.fd, buf.data(), buf.size());
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            if (n <= 0) fail(n == 0 ? "the server closed a connection" : std::string("read: ") + std::strerror(errno));
            c.got += static_cast<std::uint64_t>(n);
            if (!c.busy || c.got > msg) fail("the server sent more than it was sent");
            if (c.got < msg) continue;
            const std::int64_t latency = now_ns() - c.sent_at;
            c.busy = false;
            --outstanding;
            const int now_stage = sh.stage.load(std::memory_order_relaxed);
            if (!c.answered) {
                c.answered = true;
                out.first_pass.push_back(latency);
                if (++answered == conns.size()) sh.first_pass.fetch_add(1);
            } else if (now_stage == recording) {
                if (out.samples.size() < sample_cap) out.samples.push_back(latency);
                ++out.requests;
            }
            if (now_stage != finishing) send_next();
        }
    }
}

[[noreturn]] void child_main(load_shared& sh, const load_plan& plan, pid_t parent) {
    try {
        std::vector<int> fds;
        fds.reserve(plan.connections);
        for (std::uint64_t i = 0; i < plan.connections; ++i) {
            fds.push_back(connect_loopback(plan.port));
            sh.connected.store(i + 1, std::memory_order_release);
        }
        while (sh.stage.load(std::memory_order_acquire) == connecting) {
            if (::getppid() != parent) std::_Exit(3);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        const unsigned threads = plan.threads;
        std::vector<client_result> results(threads);
        std::vector<std::exception_ptr> errors(threads);
        std::vector<std::thread> workers;
        for (unsigned t = 0; t < threads; ++t) {
            const std::size_t from = plan.connections * t / threads, to = plan.connections * (t + 1) / threads;
            const std::uint64_t share = plan.in_flight / threads + (t < plan.in_flight % threads ? 1 : 0);
            workers.emplace_back([&, t, from, to, share] {
                try {
                    run_client(sh, std::span<const int>(fds).subspan(from, to - from), share, plan.message_bytes,
                               max_samples / threads, results[t], parent);
                } catch (...) {
                    errors[t] = std::current_exception();
                }
            });
        }
        for (auto& w : workers) w.join();
        for (const auto& e : errors)
            if (e) std::rethrow_exception(e);
        for (const int fd : fds) ::close(fd);  // SO_LINGER 0: a reset each

        std::vector<std::int64_t> samples, first;
        load_numbers n;
        for (auto& r : results) {
            n.requests += r.requests;
            samples.insert(samples.end(), r.samples.begin(), r.samples.end());
            first.insert(first.end(), r.first_pass.begin(), r.first_pass.end());
        }
        const latency_summary l = summarize(std::move(samples));
        n.p50_ns = l.p50;
        n.p99_ns = l.p99;
        n.mean_ns = l.mean;
        n.max_ns = l.max;
        n.first_pass_p50_ns = summarize(std::move(first)).p50;
        sh.numbers = n;
        std::_Exit(0);
    } catch (const std::exception& e) {
        std::strncpy(sh.error, e.what(), sizeof sh.error - 1);
    } catch (...) {
        std::strncpy(sh.error, "unknown error", sizeof sh.error - 1);
    }
    std::_Exit(1);
}

}  // namespace

load_process::load_process(const load_plan& plan) : threads_(plan.threads) {
    void* page = ::mmap(nullptr, sizeof(load_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "echo: mmap(MAP_SHARED)");
    shared_ = new (page) load_shared;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        const int err = errno;
        ::munmap(page, sizeof(load_shared));
        throw std::system_error(err, std::generic_category(), "echo: fork of the load generator");
    }
    if (pid_ == 0) child_main(*shared_, plan, parent);
}

load_process::~load_process() {
    kill();
    shared_->~load_shared();
    ::munmap(shared_, sizeof(load_shared));
}

std::uint64_t load_process::connected() const { return shared_->connected.load(std::memory_order_acquire); }

bool load_process::running() {
    if (status_ < 0) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
        status_ = status;
    }
    if (WIFEXITED(status_) && WEXITSTATUS(status_) == 0) return false;
    throw std::runtime_error(shared_->error[0] ? std::string(shared_->error)
                                               : "echo client process ended with status " + std::to_string(status_));
}

void load_process::go() { shared_->stage.store(loading, std::memory_order_release); }
bool load_process::first_pass_done() const { return shared_->first_pass.load(std::memory_order_acquire) == threads_; }
void load_process::start_recording() { shared_->stage.store(recording, std::memory_order_release); }
void load_process::stop_recording() { shared_->stage.store(loaded, std::memory_order_release); }
void load_process::finish() { shared_->stage.store(finishing, std::memory_order_release); }

load_numbers load_process::wait(std::int64_t timeout_ns) {
    const std::int64_t deadline = now_ns() + timeout_ns;
    while (running()) {
        if (now_ns() > deadline) {
            kill();
            throw std::runtime_error("echo client process still running after the load ended");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return shared_->numbers;
}

void load_process::kill() noexcept {
    if (status_ >= 0 || pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
}

}  // namespace compare
