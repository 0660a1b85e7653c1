// rtpd_bench: the relay's throughput, loss, latency and CPU against a
// minimal baseline forwarder on the same streams, in the same run.
// A tool, not a test (see README.md). Needs root (rtpd drops to nobody in a
// chroot). Loopback only; every loop is bounded in count and time.
//
// Layout: N forwards. rtpd relays on 127.0.0.1:P_i (inside) and
// 127.0.0.2:Q_i (outside); the baseline, set up once next to it, relays on
// 127.0.0.5:P_i and 127.0.0.6:Q_i (the same port numbers), so the two are
// measured alternately (A B B A ...) without re-binding anything and a
// drift of the shared machine hits both alike. The load generator is a
// sender thread and a receiver thread with two sockets, the inside phone
// 127.0.0.3 and the outside phone 127.0.0.4, shared by every stream (each
// forward names them as its peers). Each datagram (172 bytes: RTP header +
// 20 ms of G.711) carries its stream, a trial number and its
// CLOCK_MONOTONIC send time. Relay CPU is the scheduler's run time
// (/proc/.../schedstat, ns) of rtpd or of the baseline thread.
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "codec.h"
#include "endpoint.h"
#include "rtp_workers.h"
#include "rtpd_harness.h"
#include "unique_fd.h"

using namespace sipmasq;
using namespace sipmasq::rtpdtest;

namespace {

constexpr size_t kPacket = 172;
constexpr size_t kBatch = 64;
constexpr uint16_t kPortLow = 20000;  // 22,000 ports per relay address
constexpr uint16_t kPortHigh = 41999;
constexpr double kLossTarget = 0.001;
constexpr double kBusyCore = 90.0;       // % of a core: below it the relay had room
constexpr double kFixedFraction = 0.65;  // fixed-rate comparison: of the flat-out rate
// After the sending ends the receiver drains until everything sent has
// arrived, or nothing arrived for 100 ms, or 3 s passed: a generator whose
// receive queue is behind must not count its backlog as loss.
constexpr int64_t kQuietNs = 100000000;
constexpr int64_t kDrainMaxNs = 3000000000;

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

struct Payload {
    uint8_t rtp[12];
    uint32_t stream;
    uint32_t trial;
    int64_t sent_ns;
};

UniqueFd udp_bound(const Endpoint& at, int buf_bytes) {
    UniqueFd fd(::socket(at.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fd;
    if (buf_bytes > 0) {
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf_bytes, sizeof buf_bytes);
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buf_bytes, sizeof buf_bytes);
    }
    if (::bind(fd.get(), at.sa(), at.len()) != 0) return UniqueFd();
    return fd;
}

Endpoint local_of(int fd) {
    Endpoint e;
    socklen_t len = sizeof(Endpoint::Storage);
    ::getsockname(fd, &e.u.sa, &len);
    return e;
}

// CPU time a task has run, in ns: the first field of /proc/.../schedstat
// (the scheduler's sum_exec_runtime; /proc/.../stat counts 10 ms ticks,
// too coarse for a per-packet cost over 1 s trials). rtpd is one thread.
uint64_t cpu_ns_of(const std::string& schedstat_path) {
    char buf[256] = "";
    UniqueFd fd(::open(schedstat_path.c_str(), O_RDONLY | O_CLOEXEC));
    const ssize_t got = fd.valid() ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
    if (got <= 0) return 0;
    buf[got] = '\0';
    return std::strtoull(buf, nullptr, 10);
}

// The relay's CPU: every rtpd worker's, or the baseline thread's.
uint64_t cpu_ns(const std::vector<std::string>& schedstat_paths) {
    uint64_t sum = 0;
    for (const auto& path : schedstat_paths) sum += cpu_ns_of(path);
    return sum;
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

// Datagrams the kernel dropped at full receive buffers (the "drops"
// column of /proc/net/udp), summed per local address: where a loss
// happened, at a relay's sockets or at the generator's.
struct Drops {
    uint64_t rtpd = 0, base = 0, gen = 0;
};

Drops udp_drops() {
    static const uint32_t rtpd_a = inet_addr("127.0.0.1"), rtpd_b = inet_addr("127.0.0.2");
    static const uint32_t base_a = inet_addr("127.0.0.5"), base_b = inet_addr("127.0.0.6");
    static const uint32_t gen_a = inet_addr("127.0.0.3"), gen_b = inet_addr("127.0.0.4");
    Drops d;
    std::ifstream in("/proc/net/udp");
    std::string line;
    for (int i = 0; i < 100000 && std::getline(in, line); ++i) {
        std::istringstream words(line);
        std::string sl, local, word, last;
        words >> sl >> local;
        while (words >> word) last = word;
        if (local.size() < 9 || last.empty() || sl == "sl") continue;
        const auto addr =
            static_cast<uint32_t>(std::strtoul(local.substr(0, 8).c_str(), nullptr, 16));
        const uint64_t n = std::strtoull(last.c_str(), nullptr, 10);
        if (addr == rtpd_a || addr == rtpd_b) d.rtpd += n;
        if (addr == base_a || addr == base_b) d.base += n;
        if (addr == gen_a || addr == gen_b) d.gen += n;
    }
    return d;
}

// The first field of /proc/loadavg, to record how busy the shared machine was.
std::string loadavg() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    in >> one;
    return one;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---- the load generator -------------------------------------------------------

struct Streams {
    std::vector<Endpoint> to_inside;   // relay inside RTP port of stream i
    std::vector<Endpoint> to_outside;  // relay outside RTP port of stream i
};

// A relay under test: its streams and where its CPU time is read.
struct Relay {
    const char* name;
    Streams streams;
    std::vector<std::string> schedstat;  // one per process (rtpd workers) or thread
    bool is_rtpd;
};

struct TrialResult {
    double offered_pps = 0;
    uint64_t sent = 0;
    uint64_t received = 0;
    double seconds = 0;
    double delivered_pps = 0;
    double loss = 0;
    double p50_us = 0;
    double p99_us = 0;
    double cpu_pct = 0;        // of one core, the relay under test
    double ns_per_pkt = 0;     // relay CPU per delivered datagram
    uint64_t relay_drops = 0;  // at the relay's sockets (full receive buffer)
    uint64_t gen_drops = 0;    // at the generator's sockets
    double drain_s = 0;        // the receiver's backlog after the sending
    bool behind = false;       // the sender did not reach the rate asked for
};

class Generator {
  public:
    Generator() {
        in_ = udp_bound(*Endpoint::parse("127.0.0.3", 0), 64 << 20);
        out_ = udp_bound(*Endpoint::parse("127.0.0.4", 0), 64 << 20);
        in_addr_ = local_of(in_.get());
        out_addr_ = local_of(out_.get());
        bufs_.resize(kBatch * 2048);
        for (size_t i = 0; i < kBatch; ++i) {
            tx_iov_[i] = {&tx_buf_[i], kPacket};
            tx_[i].msg_hdr.msg_iov = &tx_iov_[i];
            tx_[i].msg_hdr.msg_iovlen = 1;
            rx_iov_[i] = {bufs_.data() + i * 2048, 2048};
            rx_[i].msg_hdr.msg_iov = &rx_iov_[i];
            rx_[i].msg_hdr.msg_iovlen = 1;
            std::memset(&tx_buf_[i], 0, sizeof tx_buf_[i]);
            tx_buf_[i].p.rtp[0] = 0x80;
        }
    }
    [[nodiscard]] bool ok() const { return in_.valid() && out_.valid(); }
    [[nodiscard]] const Endpoint& inside_phone() const { return in_addr_; }
    [[nodiscard]] const Endpoint& outside_phone() const { return out_addr_; }

    // Offers `pps` (0 = as fast as the sender can) through `relay` for
    // `seconds`, then drains (see kQuietNs). The sender (this thread) and the receiver (a thread of
    // its own for the trial) run in parallel, so neither waits for the other.
    TrialResult run(const Relay& relay, double pps, double seconds) {
        ++trial_;
        hist_.assign(kHistBuckets, 0);
        received_ = 0;
        sent_final_.store(UINT64_MAX);
        TrialResult r;
        r.offered_pps = pps;
        const Drops drops0 = udp_drops();
        const uint64_t cpu0 = cpu_ns(relay.schedstat);
        const int64_t start = now_ns();
        const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
        std::thread rx([this, end] { receive_until(end); });
        r.sent = send_until(relay.streams, pps, start, end);
        const uint64_t cpu_sent = cpu_ns(relay.schedstat);
        const int64_t sent_at = now_ns();
        sent_final_.store(r.sent);
        rx.join();
        const uint64_t cpu1 = cpu_ns(relay.schedstat);
        const double elapsed = static_cast<double>(now_ns() - start) / 1e9;  // with the drain
        const Drops drops1 = udp_drops();
        r.relay_drops = relay.is_rtpd ? drops1.rtpd - drops0.rtpd : drops1.base - drops0.base;
        r.gen_drops = drops1.gen - drops0.gen;
        r.received = received_;
        r.seconds = seconds;
        r.delivered_pps = static_cast<double>(r.received) / seconds;
        r.loss =
            r.sent == 0 ? 1.0 : 1.0 - static_cast<double>(r.received) / static_cast<double>(r.sent);
        if (r.loss < 0) r.loss = 0;
        r.p50_us = percentile(0.50, r.received);
        r.p99_us = percentile(0.99, r.received);
        // Busy % over the sending; cost per packet over the whole trial.
        r.cpu_pct =
            100.0 * static_cast<double>(cpu_sent - cpu0) / static_cast<double>(sent_at - start);
        r.drain_s = elapsed - static_cast<double>(sent_at - start) / 1e9;
        r.ns_per_pkt =
            r.received > 0 ? static_cast<double>(cpu1 - cpu0) / static_cast<double>(r.received) : 0;
        // What the sender achieved: under load it may fall behind `pps`.
        r.offered_pps = static_cast<double>(r.sent) / seconds;
        r.behind = pps > 0 && r.offered_pps < 0.98 * pps;
        return r;
    }

  private:
    static constexpr size_t kHistBuckets = 200001;  // 1 us buckets up to 200 ms

    // Both directions in turn, round-robin over the streams; paced to
    // `pps` in batches of up to 64 (flat out: always a full batch).
    uint64_t send_until(const Streams& s, double pps, int64_t start, int64_t end) {
        const size_t n = s.to_inside.size();
        uint64_t sent = 0;
        size_t next = 0;
        bool inside_turn = true;
        uint64_t rounds = 0;
        for (int64_t now = start; now < end && rounds < 2000000000ull; ++rounds) {
            const uint64_t due =
                pps > 0 ? static_cast<uint64_t>(static_cast<double>(now - start) * pps / 1e9)
                        : sent + kBatch;
            if (due > sent) {
                const size_t k = static_cast<size_t>(std::min<uint64_t>(due - sent, kBatch));
                const int fd = inside_turn ? in_.get() : out_.get();
                const auto& dst = inside_turn ? s.to_inside : s.to_outside;
                for (size_t j = 0; j < k; ++j) {
                    const size_t st = (next + j) % n;
                    tx_buf_[j].p.stream = static_cast<uint32_t>(st);
                    tx_buf_[j].p.trial = trial_;
                    tx_buf_[j].p.sent_ns = now;
                    tx_[j].msg_hdr.msg_name = const_cast<sockaddr*>(dst[st].sa());
                    tx_[j].msg_hdr.msg_namelen = dst[st].len();
                }
                const int got = ::sendmmsg(fd, tx_.data(), static_cast<unsigned>(k), 0);
                if (got > 0) {
                    sent += static_cast<uint64_t>(got);
                    if (!inside_turn) next = (next + static_cast<size_t>(got)) % n;
                }
                inside_turn = !inside_turn;
            } else {
                const timespec ts{0, 50000};
                (void)::nanosleep(&ts, nullptr);
            }
            now = now_ns();
        }
        return sent;
    }

    void receive_until(int64_t end) {
        const int64_t drain_end = end + kDrainMaxNs;
        int64_t last_rx = end;
        uint64_t rounds = 0;
        for (int64_t now = now_ns(); now < drain_end && rounds < 2000000000ull; ++rounds) {
            if (now >= end && received_ >= sent_final_.load()) break;  // all arrived
            if (now >= end && sent_final_.load() != UINT64_MAX && now - last_rx > kQuietNs) break;
            bool idle = receive(in_.get());
            idle = receive(out_.get()) && idle;
            if (!idle) last_rx = now;
            if (idle) {
                pollfd p[2] = {{in_.get(), POLLIN, 0}, {out_.get(), POLLIN, 0}};
                (void)::poll(p, 2, 1);
            }
            now = now_ns();
        }
    }

    // True when nothing was waiting.
    bool receive(int fd) {
        bool idle = true;
        for (int round = 0; round < 8; ++round) {
            const int got = ::recvmmsg(fd, rx_.data(), kBatch, MSG_DONTWAIT, nullptr);
            if (got <= 0) break;
            idle = false;
            const int64_t now = now_ns();
            for (int i = 0; i < got; ++i) {
                Payload p;
                std::memcpy(&p, rx_iov_[static_cast<size_t>(i)].iov_base, sizeof p);
                if (p.trial != trial_) continue;
                ++received_;
                const int64_t us = (now - p.sent_ns) / 1000;
                ++hist_[static_cast<size_t>(std::clamp<int64_t>(us, 0, kHistBuckets - 1))];
            }
            if (static_cast<size_t>(got) < kBatch) break;
        }
        return idle;
    }

    double percentile(double q, uint64_t total) const {
        if (total == 0) return 0;
        const uint64_t want = static_cast<uint64_t>(q * static_cast<double>(total));
        uint64_t seen = 0;
        for (size_t i = 0; i < hist_.size(); ++i) {
            seen += hist_[i];
            if (seen > want) return static_cast<double>(i);
        }
        return static_cast<double>(hist_.size());
    }

    UniqueFd in_, out_;
    Endpoint in_addr_, out_addr_;
    union Slot {
        Payload p;
        uint8_t bytes[kPacket];
    };
    // Sender thread only.
    std::array<Slot, kBatch> tx_buf_{};
    std::array<iovec, kBatch> tx_iov_{};
    std::array<mmsghdr, kBatch> tx_{};
    // Receiver thread only while a trial runs.
    std::vector<uint8_t> bufs_;
    std::array<iovec, kBatch> rx_iov_{};
    std::array<mmsghdr, kBatch> rx_{};
    std::vector<uint64_t> hist_;
    uint64_t received_ = 0;
    // Set before the receiver starts, read by both.
    uint32_t trial_ = 0;
    std::atomic<uint64_t> sent_final_{UINT64_MAX};
};

// ---- the baseline forwarder -------------------------------------------------------

// One thread, epoll, recvmmsg/sendmmsg, a source check like rtpd's: the
// best a plain userspace relay does on the same streams.
class Baseline {
  public:
    bool start(const std::vector<std::pair<uint16_t, uint16_t>>& ports, const char* inside_ip,
               const char* outside_ip, const Endpoint& in_phone, const Endpoint& out_phone) {
        in_phone_ = in_phone;
        out_phone_ = out_phone;
        ep_.reset(::epoll_create1(EPOLL_CLOEXEC));
        for (size_t i = 0; i < ports.size(); ++i) {
            inside_.push_back(udp_bound(*Endpoint::parse(inside_ip, ports[i].first), 256 << 10));
            outside_.push_back(udp_bound(*Endpoint::parse(outside_ip, ports[i].second), 256 << 10));
            if (!inside_.back().valid() || !outside_.back().valid()) return false;
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.u64 = i * 2;
            ::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, inside_.back().get(), &e);
            e.data.u64 = i * 2 + 1;
            ::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, outside_.back().get(), &e);
        }
        bufs_.resize(32 * 2048);
        thread_ = std::thread([this] { loop(); });
        for (int i = 0; i < 1000 && tid_.load() == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return tid_.load() != 0;
    }
    ~Baseline() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }
    [[nodiscard]] std::string schedstat_path() const {
        return "/proc/self/task/" + std::to_string(tid_.load()) + "/schedstat";
    }

  private:
    void loop() {
        tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
        std::array<mmsghdr, 32> rx{}, tx{};
        std::array<iovec, 32> iov{}, tiov{};
        std::array<Endpoint, 32> names{};
        for (size_t i = 0; i < 32; ++i) {
            iov[i] = {bufs_.data() + i * 2048, 2048};
            rx[i].msg_hdr.msg_iov = &iov[i];
            rx[i].msg_hdr.msg_iovlen = 1;
            rx[i].msg_hdr.msg_name = &names[i].u;
            tx[i].msg_hdr.msg_iov = &tiov[i];
            tx[i].msg_hdr.msg_iovlen = 1;
        }
        std::array<epoll_event, 256> events{};
        while (!stop_.load(std::memory_order_relaxed)) {
            const int n = ::epoll_wait(ep_.get(), events.data(), 256, 50);
            for (int e = 0; e < n; ++e) {
                const uint64_t key = events[static_cast<size_t>(e)].data.u64;
                const size_t idx = key / 2;
                const bool from_inside = (key & 1) == 0;
                const int in_fd = from_inside ? inside_[idx].get() : outside_[idx].get();
                const int out_fd = from_inside ? outside_[idx].get() : inside_[idx].get();
                const Endpoint& expect = from_inside ? in_phone_ : out_phone_;
                const Endpoint& dest = from_inside ? out_phone_ : in_phone_;
                for (int round = 0; round < 4; ++round) {
                    for (auto& m : rx) m.msg_hdr.msg_namelen = sizeof(Endpoint::Storage);
                    const int got = ::recvmmsg(in_fd, rx.data(), 32, MSG_DONTWAIT, nullptr);
                    if (got <= 0) break;
                    unsigned k = 0;
                    for (int i = 0; i < got; ++i) {
                        if (!(names[static_cast<size_t>(i)] == expect)) continue;
                        tiov[k] = {iov[static_cast<size_t>(i)].iov_base,
                                   rx[static_cast<size_t>(i)].msg_len};
                        tx[k].msg_hdr.msg_name = const_cast<sockaddr*>(dest.sa());
                        tx[k].msg_hdr.msg_namelen = dest.len();
                        ++k;
                    }
                    unsigned sent = 0;
                    while (sent < k) {
                        const int r = ::sendmmsg(out_fd, tx.data() + sent, k - sent, MSG_DONTWAIT);
                        sent += r > 0 ? static_cast<unsigned>(r) : 1u;
                    }
                    if (got < 32) break;
                }
            }
        }
    }

    UniqueFd ep_;
    std::vector<UniqueFd> inside_, outside_;
    Endpoint in_phone_, out_phone_;
    std::vector<uint8_t> bufs_;
    std::thread thread_;
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> stop_{false};
};

// ---- the measurements -----------------------------------------------------------

void print(const char* who, const char* what, const TrialResult& r) {
    std::printf(
        "  %-8s %-14s offered %8.0f pps  delivered %8.0f pps  loss %7.4f%%  "
        "p50 %6.0f us  p99 %7.0f us  cpu %5.1f%%  %5.0f ns/pkt  dropped relay %" PRIu64
        " gen %" PRIu64 "  drain %.2f s%s\n",
        who, what, r.offered_pps, r.delivered_pps, 100.0 * r.loss, r.p50_us, r.p99_us, r.cpu_pct,
        r.ns_per_pkt, r.relay_drops, r.gen_drops, r.drain_s,
        r.behind ? "  (sender behind the rate)" : "");
    std::fflush(stdout);
}

// What limited a flat-out trial. Lost nothing yet had CPU to spare: the
// load generator. Lost mostly at the generator's own sockets: its
// receiver. Lost at the relay's sockets: the relay, which with less than
// 90% of a core was short of CPU on the shared machine rather than busy.
const char* verdict(const TrialResult& r) {
    if (r.loss < kLossTarget) return r.cpu_pct < kBusyCore ? "generator-bound" : "relay saturated";
    if (r.gen_drops == 0 && r.relay_drops == 0) return "generator-bound: receiver still behind";
    if (r.gen_drops >= r.relay_drops) return "generator-bound: its receiver dropped";
    return r.cpu_pct < kBusyCore ? "relay dropped, short of CPU" : "relay saturated, dropped";
}

// Trials of rtpd and the baseline alternately, in the order A B B A A B
// ..., so a trend of the machine's load weighs on both alike.
struct Paired {
    std::vector<TrialResult> rtpd, base;
};

Paired interleave(Generator& gen, const Relay& rtpd, const Relay& base, double pps, double trial_s,
                  int rounds, const char* what) {
    Paired p;
    for (int i = 0; i < rounds; ++i) {
        for (int k = 0; k < 2; ++k) {
            const bool rtpd_turn = (i % 2 == 0) == (k == 0);
            const Relay& r = rtpd_turn ? rtpd : base;
            TrialResult t = gen.run(r, pps, trial_s);
            print(r.name, what, t);
            if (pps <= 0) std::printf("           -> %s\n", verdict(t));
            (rtpd_turn ? p.rtpd : p.base).push_back(t);
        }
    }
    return p;
}

struct Summary {
    double rtpd = 0, base = 0, ratio = 0, ratio_min = 0, ratio_max = 0;
};

// Medians of a figure of each side and of its per-round ratio rtpd/baseline.
template <class F>
Summary summarize(const Paired& p, F figure) {
    std::vector<double> a, b, ratio;
    for (size_t i = 0; i < p.rtpd.size() && i < p.base.size(); ++i) {
        a.push_back(figure(p.rtpd[i]));
        b.push_back(figure(p.base[i]));
        if (b.back() > 0) ratio.push_back(a.back() / b.back());
    }
    Summary s{median(a), median(b), median(ratio), 0, 0};
    if (!ratio.empty()) {
        s.ratio_min = *std::min_element(ratio.begin(), ratio.end());
        s.ratio_max = *std::max_element(ratio.begin(), ratio.end());
    }
    return s;
}

// The highest offered rate with < 0.1% loss below a flat-out rate that
// lost more: down in steps of 15%, then one step halfway up. At most 10
// trials.
TrialResult search(Generator& gen, const Relay& relay, double flat_pps, double trial_s) {
    double rate = std::max(1000.0, flat_pps * 1.05);
    TrialResult best{};
    double failed_at = 0;
    for (int i = 0; i < 9; ++i) {
        TrialResult r = gen.run(relay, rate, trial_s);
        print(relay.name, "search", r);
        if (r.loss < kLossTarget) {
            best = r;
            break;
        }
        failed_at = rate;
        rate *= 0.85;
    }
    if (best.sent > 0 && failed_at > 0) {
        TrialResult r = gen.run(relay, (best.offered_pps + failed_at) / 2, trial_s);
        print(relay.name, "search", r);
        if (r.loss < kLossTarget) best = r;
    }
    return best;
}

// Forwards first+1..first+n on one rtpd worker (s and ports sized for all).
bool setup_forwards(SipdPeer& sipd, size_t first, size_t n, const Generator& gen, Streams& s,
                    std::vector<std::pair<uint16_t, uint16_t>>& ports) {
    size_t next = first, done = 0, outstanding = 0;
    n += first;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (first + done < n && std::chrono::steady_clock::now() < deadline) {
        while (next < n && outstanding < 256) {
            const auto sf = make_start("127.0.0.1", "127.0.0.2", gen.inside_phone(),
                                       gen.outside_phone(), "bench-" + std::to_string(next));
            if (sipd.start_fwd(static_cast<uint32_t>(next + 1), sf) == 0) break;
            ++next;
            ++outstanding;
        }
        auto m = sipd.wait_for(
            [](const Got& g) {
                return g.type() == proto::MsgType::FwdStarted ||
                       g.type() == proto::MsgType::FwdFailed;
            },
            5000);
        if (!m) return false;
        --outstanding;
        if (m->type() == proto::MsgType::FwdFailed) {
            std::fprintf(stderr, "forward %u failed: %s\n", m->header.peer_id,
                         std::string(proto::fixed_text(m->as<proto::FwdFailedMsg>().text)).c_str());
            return false;
        }
        const auto st = m->as<proto::FwdStartedMsg>();
        const size_t i = m->header.peer_id - 1;
        ports[i] = {st.inside_local.port, st.outside_local.port};
        s.to_inside[i] = *Endpoint::parse("127.0.0.1", st.inside_local.port);
        s.to_outside[i] = *Endpoint::parse("127.0.0.2", st.outside_local.port);
        ++done;
    }
    return first + done == n;
}

struct Options {
    uint32_t workers = 1;  // rtpd processes, each with its slice of the range
    double trial_s = 1.0;
    double hold_s = 5.0;
    int rounds = 5;  // flat-out and fixed-rate pairs per mode
};

bool run_mode(size_t calls, const ScratchDir& dir, const Options& o, bool largest,
              std::vector<std::string>& table) {
    std::printf(
        "\n== %zu calls (%zu forwards, %zu rtpd sockets, %zu baseline sockets), load average "
        "%s ==\n",
        calls, calls, calls * 4, calls * 2, loadavg().c_str());
    const std::string config = write_rtpd_config(
        dir, kPortLow, kPortHigh,
        "rtp_timeout = 600\nrtp_no_bidir_timeout = 600\nrtp_max_duration = 3600\n");
    Generator gen;
    if (!gen.ok()) return false;
    // The workers as the parent starts them: worker w owns slice w of the
    // range and the calls w*N/W .. (w+1)*N/W-1 (placement spreads calls
    // evenly in sipd, too).
    const auto slices = split_port_range(kPortLow, kPortHigh, o.workers);
    std::vector<std::unique_ptr<RtpdProcess>> procs;
    std::vector<std::unique_ptr<SipdPeer>> sipds;
    Relay rtpd{"rtpd", {}, {}, true};
    for (uint32_t w = 0; w < o.workers; ++w) {
        procs.push_back(std::make_unique<RtpdProcess>());
        std::string error;
        const WorkerSlot slot{w, o.workers, o.workers == 1 ? "" : slices[w].to_string()};
        sipds.push_back(procs.back()->start(config, error, "notice", 10000, slot));
        if (!sipds.back()) {
            std::fprintf(stderr, "rtpd worker %u: %s\n", w, error.c_str());
            return false;
        }
        rtpd.schedstat.push_back("/proc/" + std::to_string(procs.back()->pid()) + "/schedstat");
    }
    auto rss_all = [&procs] {
        long sum = 0;
        for (const auto& p : procs) sum += rss_kib(p->pid());
        return sum;
    };
    std::vector<std::pair<uint16_t, uint16_t>> ports(calls, {0, 0});
    rtpd.streams.to_inside.assign(calls, {});
    rtpd.streams.to_outside.assign(calls, {});
    const long rss0 = rss_all();
    const auto t0 = std::chrono::steady_clock::now();
    for (uint32_t w = 0; w < o.workers; ++w) {
        const size_t first = calls * w / o.workers, last = calls * (w + 1) / o.workers;
        if (!setup_forwards(*sipds[w], first, last - first, gen, rtpd.streams, ports)) {
            std::fprintf(stderr, "setting up %zu forwards on worker %u failed\n", last - first, w);
            return false;
        }
    }
    const double setup_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const long rss1 = rss_all();
    const double rss_per_forward =
        1024.0 * static_cast<double>(rss1 - rss0) / static_cast<double>(calls);
    std::printf(
        "  set up in %.2f s on %u worker%s; rtpd RSS %ld -> %ld KiB (%.0f bytes per "
        "forward)\n",
        setup_s, o.workers, o.workers == 1 ? "" : "s", rss0, rss1, rss_per_forward);
    char line[512];

    // The baseline lives in this process, two sockets a call: where this
    // process's descriptors cannot hold them, rtpd runs alone (flat out,
    // then held at its highest lossless rate).
    rlimit own{};
    (void)::getrlimit(RLIMIT_NOFILE, &own);
    if (calls * 2 + 256 > own.rlim_cur) {
        std::printf(
            "  NOTE: no baseline for %zu calls: it would need %zu descriptors in this "
            "process (limit %llu); rtpd alone\n",
            calls, calls * 2 + 256, static_cast<unsigned long long>(own.rlim_cur));
        std::vector<TrialResult> flat;
        for (int i = 0; i < o.rounds; ++i) {
            flat.push_back(gen.run(rtpd, 0, o.trial_s));
            print("rtpd", "flat out", flat.back());
        }
        std::sort(flat.begin(), flat.end(), [](const TrialResult& a, const TrialResult& b) {
            return a.delivered_pps < b.delivered_pps;
        });
        const TrialResult med = flat[flat.size() / 2];
        double rate = med.loss < kLossTarget ? med.delivered_pps : 0;
        if (rate == 0) rate = search(gen, rtpd, med.delivered_pps, o.trial_s).delivered_pps;
        std::snprintf(line, sizeof line,
                      "| %zu | flat out, %u worker%s (median of %d) | %.0f pps, loss %.2f%%, cpu "
                      "%.0f%% (%s) | | |",
                      calls, o.workers, o.workers == 1 ? "" : "s", o.rounds, med.delivered_pps,
                      100 * med.loss, med.cpu_pct, verdict(med));
        table.emplace_back(line);
        if (o.hold_s > 0 && rate > 0) {
            const TrialResult h = gen.run(rtpd, rate, o.hold_s);
            print("rtpd", "held", h);
            std::snprintf(line, sizeof line,
                          "| %zu | rtpd held %.0f s at %.0f pps, %u worker%s | %.0f pps, %" PRIu64
                          " sent, %" PRIu64 " received, loss %.4f%%, cpu %.0f%% | | |",
                          calls, o.hold_s, rate, o.workers, o.workers == 1 ? "" : "s",
                          h.delivered_pps, h.sent, h.received, 100 * h.loss, h.cpu_pct);
            table.emplace_back(line);
        }
        std::snprintf(line, sizeof line,
                      "| %zu | set-up, memory | %.2f s over the IPC, RSS %ld -> %ld KiB (%.0f "
                      "bytes per forward) | | |",
                      calls, setup_s, rss0, rss1, rss_per_forward);
        table.emplace_back(line);
        std::fflush(stdout);
        return true;
    }

    Baseline baseline;
    if (!baseline.start(ports, "127.0.0.5", "127.0.0.6", gen.inside_phone(), gen.outside_phone())) {
        std::fprintf(stderr, "baseline: cannot bind 127.0.0.5/127.0.0.6 on rtpd's port numbers\n");
        return false;
    }
    Relay base{"baseline", {}, {baseline.schedstat_path()}, false};
    for (size_t i = 0; i < calls; ++i) {
        base.streams.to_inside.push_back(*Endpoint::parse("127.0.0.5", ports[i].first));
        base.streams.to_outside.push_back(*Endpoint::parse("127.0.0.6", ports[i].second));
    }
    // 1. Latency at a realistic rate: 50 pps per stream each way.
    if (calls <= 1000) {
        const double pps = 2.0 * 50.0 * static_cast<double>(calls);
        const Paired p = interleave(gen, rtpd, base, pps, o.trial_s, 3, "50 pps/stream");
        const Summary p50 = summarize(p, [](const TrialResult& t) { return t.p50_us; });
        const Summary p99 = summarize(p, [](const TrialResult& t) { return t.p99_us; });
        const Summary loss = summarize(p, [](const TrialResult& t) { return t.loss; });
        const Summary cpu = summarize(p, [](const TrialResult& t) { return t.cpu_pct; });
        std::printf(
            "  => 50 pps/stream (%.0f pps), medians of 3: rtpd p50 %.0f us p99 %.0f us loss "
            "%.4f%% cpu %.1f%%; baseline p50 %.0f us p99 %.0f us loss %.4f%% cpu %.1f%%\n",
            pps, p50.rtpd, p99.rtpd, 100 * loss.rtpd, cpu.rtpd, p50.base, p99.base, 100 * loss.base,
            cpu.base);
        std::snprintf(line, sizeof line,
                      "| %zu | 50 pps/stream (%.0f pps) | p50 %.0f / p99 %.0f us, loss %.2f%%, "
                      "cpu %.0f%% | p50 %.0f / p99 %.0f us, loss %.2f%%, cpu %.0f%% | |",
                      calls, pps, p50.rtpd, p99.rtpd, 100 * loss.rtpd, cpu.rtpd, p50.base, p99.base,
                      100 * loss.base, cpu.base);
        table.emplace_back(line);
    }

    // 2. Flat out, interleaved.
    const Paired flat = interleave(gen, rtpd, base, 0, o.trial_s, o.rounds, "flat out");
    const Summary pps = summarize(flat, [](const TrialResult& t) { return t.delivered_pps; });
    const Summary cpu = summarize(flat, [](const TrialResult& t) { return t.cpu_pct; });
    const Summary loss = summarize(flat, [](const TrialResult& t) { return t.loss; });
    const Summary offered = summarize(flat, [](const TrialResult& t) { return t.offered_pps; });
    const Summary rdrops =
        summarize(flat, [](const TrialResult& t) { return static_cast<double>(t.relay_drops); });
    const Summary gdrops =
        summarize(flat, [](const TrialResult& t) { return static_cast<double>(t.gen_drops); });
    TrialResult rtpd_med{}, base_med{};
    rtpd_med.loss = loss.rtpd;
    rtpd_med.cpu_pct = cpu.rtpd;
    rtpd_med.relay_drops = static_cast<uint64_t>(rdrops.rtpd);
    rtpd_med.gen_drops = static_cast<uint64_t>(gdrops.rtpd);
    base_med.loss = loss.base;
    base_med.cpu_pct = cpu.base;
    base_med.relay_drops = static_cast<uint64_t>(rdrops.base);
    base_med.gen_drops = static_cast<uint64_t>(gdrops.base);
    std::printf(
        "  => flat out, medians of %d: offered %.0f / %.0f pps; rtpd %.0f pps (loss %.4f%%, cpu "
        "%.0f%%: %s), baseline %.0f pps (loss %.4f%%, cpu %.0f%%: %s); ratio %.2f "
        "(min %.2f, max %.2f)\n",
        o.rounds, offered.rtpd, offered.base, pps.rtpd, 100 * loss.rtpd, cpu.rtpd,
        verdict(rtpd_med), pps.base, 100 * loss.base, cpu.base, verdict(base_med), pps.ratio,
        pps.ratio_min, pps.ratio_max);
    std::snprintf(line, sizeof line,
                  "| %zu | flat out (median of %d) | %.0f pps, loss %.2f%%, cpu %.0f%% (%s) | "
                  "%.0f pps, loss %.2f%%, cpu %.0f%% (%s) | pps %.2f (%.2f..%.2f) |",
                  calls, o.rounds, pps.rtpd, 100 * loss.rtpd, cpu.rtpd, verdict(rtpd_med), pps.base,
                  100 * loss.base, cpu.base, verdict(base_med), pps.ratio, pps.ratio_min,
                  pps.ratio_max);
    table.emplace_back(line);

    // Flat out lost >= 0.1% (the sender out-ran a relay): the highest
    // rate at < 0.1% loss, for each relay on its own (bounded).
    double best_rtpd = loss.rtpd < kLossTarget ? pps.rtpd : 0;
    double best_base = loss.base < kLossTarget ? pps.base : 0;
    if (best_rtpd == 0) best_rtpd = search(gen, rtpd, pps.rtpd, o.trial_s).delivered_pps;
    if (best_base == 0) best_base = search(gen, base, pps.base, o.trial_s).delivered_pps;
    if (loss.rtpd >= kLossTarget || loss.base >= kLossTarget) {
        std::printf("  => at < 0.1%% loss: rtpd %.0f pps, baseline %.0f pps: ratio %.2f\n",
                    best_rtpd, best_base, best_base > 0 ? best_rtpd / best_base : 0);
        std::snprintf(line, sizeof line,
                      "| %zu | highest rate at < 0.1%% loss | %.0f pps | %.0f pps | pps %.2f |",
                      calls, best_rtpd, best_base, best_base > 0 ? best_rtpd / best_base : 0);
        table.emplace_back(line);
    }

    // 3. The same fixed rate offered to both, below what either delivers
    // flat out: the relay CPU per delivered packet compares efficiency
    // even when the generator cannot saturate a relay.
    double fixed = kFixedFraction * std::min(best_rtpd > 0 ? best_rtpd : pps.rtpd,
                                             best_base > 0 ? best_base : pps.base);
    // The cost per packet falls as a relay's batches fill, so a pair is
    // compared only when the sender reached the rate in both trials. If it
    // fell behind in most pairs (the machine got busier than during the
    // flat-out trials), once more at 60% of that rate with 3 pairs.
    Paired all, fx;
    int rounds = o.rounds;
    for (int attempt = 0; attempt < 2; ++attempt) {
        all = interleave(gen, rtpd, base, fixed, o.trial_s, rounds, "fixed rate");
        fx = Paired{};
        for (size_t i = 0; i < all.rtpd.size() && i < all.base.size(); ++i) {
            if (all.rtpd[i].behind || all.base[i].behind) continue;
            fx.rtpd.push_back(all.rtpd[i]);
            fx.base.push_back(all.base[i]);
        }
        if (2 * fx.rtpd.size() > all.rtpd.size() || attempt == 1) break;
        std::printf("  NOTE: the sender fell behind %.0f pps in %zu of %zu pairs; again at %.0f\n",
                    fixed, all.rtpd.size() - fx.rtpd.size(), all.rtpd.size(), 0.6 * fixed);
        fixed *= 0.6;
        rounds = std::min(rounds, 3);
    }
    const int pairs = static_cast<int>(fx.rtpd.size());
    if (pairs == 0) {
        std::printf("  NOTE: the sender fell behind the fixed rate in every pair; using all\n");
        fx = all;
    }
    const Summary cost = summarize(fx, [](const TrialResult& t) { return t.ns_per_pkt; });
    const Summary fcpu = summarize(fx, [](const TrialResult& t) { return t.cpu_pct; });
    const Summary floss = summarize(fx, [](const TrialResult& t) { return t.loss; });
    const Summary fp50 = summarize(fx, [](const TrialResult& t) { return t.p50_us; });
    const Summary fp99 = summarize(fx, [](const TrialResult& t) { return t.p99_us; });
    std::printf(
        "  => fixed %.0f pps (%.0f%% of the lower flat-out rate), medians of %d pairs at that "
        "rate: rtpd %.0f ns/pkt "
        "(cpu %.0f%%, loss %.4f%%, p50 %.0f us, p99 %.0f us), baseline %.0f ns/pkt (cpu %.0f%%, "
        "loss %.4f%%, p50 %.0f us, p99 %.0f us); CPU cost ratio %.2f (min %.2f, max %.2f)\n",
        fixed,
        100 * fixed /
            std::min(best_rtpd > 0 ? best_rtpd : pps.rtpd, best_base > 0 ? best_base : pps.base),
        pairs, cost.rtpd, fcpu.rtpd, 100 * floss.rtpd, fp50.rtpd, fp99.rtpd, cost.base, fcpu.base,
        100 * floss.base, fp50.base, fp99.base, cost.ratio, cost.ratio_min, cost.ratio_max);
    std::snprintf(
        line, sizeof line,
        "| %zu | fixed %.0f pps (median of %d of %d pairs) | %.0f ns/pkt, cpu %.0f%%, loss %.2f%%, "
        "p50 %.0f / p99 %.0f us | %.0f ns/pkt, cpu %.0f%%, loss %.2f%%, p50 %.0f / p99 "
        "%.0f us | cost %.2f (%.2f..%.2f) |",
        calls, fixed, pairs, static_cast<int>(all.rtpd.size()), cost.rtpd, fcpu.rtpd,
        100 * floss.rtpd, fp50.rtpd, fp99.rtpd, cost.base, fcpu.base, 100 * floss.base, fp50.base,
        fp99.base, cost.ratio, cost.ratio_min, cost.ratio_max);
    table.emplace_back(line);

    // 4. The largest mode: rtpd holds the highest lossless rate it reached.
    if (largest && o.hold_s > 0 && best_rtpd > 0) {
        const TrialResult h = gen.run(rtpd, best_rtpd, o.hold_s);
        print("rtpd", "held", h);
        std::snprintf(line, sizeof line,
                      "| %zu | rtpd held %.0f s at %.0f pps | %.0f pps, loss %.4f%%, cpu %.0f%% "
                      "| | |",
                      calls, o.hold_s, best_rtpd, h.delivered_pps, 100 * h.loss, h.cpu_pct);
        table.emplace_back(line);
    }
    std::snprintf(line, sizeof line,
                  "| %zu | set-up, memory | %.2f s over the IPC, RSS %ld -> %ld KiB (%.0f bytes "
                  "per forward) | | |",
                  calls, setup_s, rss0, rss1, rss_per_forward);
    table.emplace_back(line);
    std::fflush(stdout);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "rtpd_bench needs root (rtpd drops to nobody in a chroot)\n");
        return 2;
    }
    std::vector<size_t> modes;
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--calls" && i + 1 < argc) {
            modes.push_back(std::strtoul(argv[++i], nullptr, 10));
        } else if (a == "--trial" && i + 1 < argc) {
            o.trial_s = std::atof(argv[++i]);
        } else if (a == "--hold" && i + 1 < argc) {
            o.hold_s = std::atof(argv[++i]);
        } else if (a == "--rounds" && i + 1 < argc) {
            o.rounds = std::atoi(argv[++i]);
        } else if (a == "--workers" && i + 1 < argc) {
            o.workers = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
        } else {
            std::fprintf(stderr,
                         "usage: %s [--calls N]... [--trial SECONDS] [--hold SECONDS] "
                         "[--rounds N] [--workers N]\n"
                         "  default: --calls 100 --calls 1000 --calls 10000 --trial 1 --hold 5 "
                         "--rounds 5\n"
                         "  SIPMASQ_BUILD_ROOT names the build directory (default .)\n",
                         argv[0]);
            return 2;
        }
    }
    if (modes.empty()) modes = {100, 1000, 10000};
    for (size_t m : modes)
        if (m == 0 || m > 10500) {
            std::fprintf(stderr, "--calls must be 1..10500 (the port range has 11,000 pairs)\n");
            return 2;
        }
    o.trial_s = std::clamp(o.trial_s, 0.2, 10.0);
    o.hold_s = std::clamp(o.hold_s, 0.0, 60.0);
    o.rounds = std::clamp(o.rounds, 1, 20);
    o.workers = std::clamp<uint32_t>(o.workers, 1, kMaxRtpWorkers);
    // 4 sockets per forward in rtpd (2 in the baseline, in this process):
    // raise the ceiling before rtpd inherits it (the parent does the same
    // in production).
    rlimit lim{262144, 262144};
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        // Without CAP_SYS_RESOURCE (some containers) the hard limit stays.
        (void)::getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            std::perror("setrlimit(RLIMIT_NOFILE)");
            return 1;
        }
    }
    // rtpd keeps 64 descriptors aside and needs 4 per forward; each worker
    // has a limit of its own.
    const size_t max_calls = o.workers * (lim.rlim_cur > 200 ? (lim.rlim_cur - 64) / 4 - 16 : 1);
    for (size_t& m : modes)
        if (m > max_calls) {
            std::printf(
                "NOTE: RLIMIT_NOFILE is %llu here and cannot be raised (no "
                "CAP_SYS_RESOURCE): %zu calls need %zu descriptors, %zu per worker of %u; "
                "running %zu calls\n",
                static_cast<unsigned long long>(lim.rlim_cur), m, m * 4 + 64 * o.workers,
                (m * 4 + o.workers - 1) / o.workers + 64, o.workers, max_calls);
            m = max_calls;
        }
    std::printf(
        "rtpd_bench: %ld CPUs online; the generator (a sender and a receiver thread) and the "
        "relay share them; rtpd (%u worker%s) and the baseline alternate, %d rounds of %.1f s "
        "trials\n",
        sysconf(_SC_NPROCESSORS_ONLN), o.workers, o.workers == 1 ? "" : "s", o.rounds, o.trial_s);
    ScratchDir dir;
    std::vector<std::string> table;
    for (size_t i = 0; i < modes.size(); ++i)
        if (!run_mode(modes[i], dir, o, i + 1 == modes.size() && modes[i] > 1000, table)) return 1;
    std::printf("\nload average at the end: %s\n", loadavg().c_str());
    std::printf(
        "\n| calls | test | rtpd | baseline | ratio rtpd/baseline (min..max) |\n"
        "|---|---|---|---|---|\n");
    for (const auto& l : table) std::printf("%s\n", l.c_str());
    return 0;
}
