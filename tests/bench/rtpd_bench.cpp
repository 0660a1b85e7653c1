// rtpd_bench: the relay's throughput, loss, latency and CPU against a
// minimal baseline forwarder on the same streams, ports and addresses.
// A tool, not a test (see README.md). Needs root (rtpd drops to nobody in a
// chroot). Loopback only; every loop is bounded in count and time.
//
// Layout: N forwards. Inside relay 127.0.0.1:P_i, outside relay
// 127.0.0.2:Q_i. The load generator is one thread with two sockets, the
// inside phone 127.0.0.3 and the outside phone 127.0.0.4, shared by every
// stream (each forward names them as its peers), so the generator costs
// one sendmmsg/recvmmsg per batch and leaves the CPU to the relay. Each
// datagram (172 bytes: RTP header + 20 ms of G.711) carries its stream, a
// trial number and its CLOCK_MONOTONIC send time.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "codec.h"
#include "endpoint.h"
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

// utime + stime in clock ticks of a process or a thread.
uint64_t cpu_ticks(const std::string& stat_path) {
    char buf[1024] = "";
    UniqueFd fd(::open(stat_path.c_str(), O_RDONLY | O_CLOEXEC));
    const ssize_t got = fd.valid() ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
    if (got <= 0) return 0;
    const std::string s(buf, static_cast<size_t>(got));
    const size_t close = s.rfind(')');
    if (close == std::string::npos) return 0;
    // Fields after the command: state is field 3; utime 14, stime 15.
    const char* p = s.c_str() + close + 2;
    uint64_t utime = 0, stime = 0;
    for (int field = 3; field <= 15 && *p != '\0'; ++field) {
        if (field == 14) utime = std::strtoull(p, nullptr, 10);
        if (field == 15) stime = std::strtoull(p, nullptr, 10);
        p = std::strchr(p, ' ');
        if (p == nullptr) break;
        ++p;
    }
    return utime + stime;
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

// ---- the load generator -------------------------------------------------------

struct Streams {
    std::vector<Endpoint> to_inside;   // relay inside RTP port of stream i
    std::vector<Endpoint> to_outside;  // relay outside RTP port of stream i
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
    double cpu_pct = 0;  // of one core, the relay under test
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

    // Offers `pps` (0 = as fast as it can) for `seconds`, then drains for
    // 300 ms. `cpu_stat`: /proc path of the relay whose CPU is measured.
    TrialResult run(const Streams& s, double pps, double seconds, const std::string& cpu_stat) {
        ++trial_;
        hist_.assign(kHistBuckets, 0);
        TrialResult r;
        r.offered_pps = pps;
        const size_t n = s.to_inside.size();
        const uint64_t cpu0 = cpu_ticks(cpu_stat);
        const int64_t start = now_ns();
        const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
        const int64_t drain_end = end + 300000000;
        size_t next = 0;
        bool inside_turn = true;
        uint64_t rounds = 0;
        for (int64_t now = start; now < drain_end && rounds < 2000000000ull; ++rounds) {
            bool idle = true;
            if (now < end) {
                const uint64_t due =
                    pps > 0 ? static_cast<uint64_t>(static_cast<double>(now - start) * pps / 1e9)
                            : r.sent + kBatch;
                if (due > r.sent) {
                    const size_t k = static_cast<size_t>(std::min<uint64_t>(due - r.sent, kBatch));
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
                    const int sent = ::sendmmsg(fd, tx_.data(), static_cast<unsigned>(k), 0);
                    if (sent > 0) {
                        r.sent += static_cast<uint64_t>(sent);
                        if (!inside_turn) next = (next + static_cast<size_t>(sent)) % n;
                    }
                    inside_turn = !inside_turn;
                    idle = false;
                }
            }
            idle = receive(in_.get(), r) && idle;
            idle = receive(out_.get(), r) && idle;
            if (idle) {
                pollfd p[2] = {{in_.get(), POLLIN, 0}, {out_.get(), POLLIN, 0}};
                timespec ts{0, 50000};
                if (now < end && pps > 0)
                    (void)::ppoll(p, 2, &ts, nullptr);
                else if (now >= end)
                    (void)::poll(p, 2, 1);
            }
            now = now_ns();
        }
        const uint64_t cpu1 = cpu_ticks(cpu_stat);
        r.seconds = seconds;
        r.delivered_pps = static_cast<double>(r.received) / seconds;
        r.loss =
            r.sent == 0 ? 1.0 : 1.0 - static_cast<double>(r.received) / static_cast<double>(r.sent);
        if (r.loss < 0) r.loss = 0;
        r.p50_us = percentile(0.50, r.received);
        r.p99_us = percentile(0.99, r.received);
        const double elapsed = static_cast<double>(now_ns() - start) / 1e9;
        r.cpu_pct = 100.0 * static_cast<double>(cpu1 - cpu0) /
                    static_cast<double>(sysconf(_SC_CLK_TCK)) / elapsed;
        if (pps <= 0) r.offered_pps = static_cast<double>(r.sent) / seconds;
        return r;
    }

  private:
    static constexpr size_t kHistBuckets = 200001;  // 1 us buckets up to 200 ms

    // True when nothing was waiting.
    bool receive(int fd, TrialResult& r) {
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
                ++r.received;
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
    std::array<Slot, kBatch> tx_buf_{};
    std::array<iovec, kBatch> tx_iov_{};
    std::array<mmsghdr, kBatch> tx_{};
    std::vector<uint8_t> bufs_;
    std::array<iovec, kBatch> rx_iov_{};
    std::array<mmsghdr, kBatch> rx_{};
    std::vector<uint64_t> hist_;
    uint32_t trial_ = 0;
};

// ---- the baseline forwarder -------------------------------------------------------

// One thread, epoll, recvmmsg/sendmmsg, a source check like rtpd's: the
// best a plain userspace relay does on the same ports.
class Baseline {
  public:
    bool start(const std::vector<std::pair<uint16_t, uint16_t>>& ports, const Endpoint& in_phone,
               const Endpoint& out_phone) {
        in_phone_ = in_phone;
        out_phone_ = out_phone;
        ep_.reset(::epoll_create1(EPOLL_CLOEXEC));
        for (size_t i = 0; i < ports.size(); ++i) {
            inside_.push_back(udp_bound(*Endpoint::parse("127.0.0.1", ports[i].first), 256 << 10));
            outside_.push_back(
                udp_bound(*Endpoint::parse("127.0.0.2", ports[i].second), 256 << 10));
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
    [[nodiscard]] std::string stat_path() const {
        return "/proc/self/task/" + std::to_string(tid_.load()) + "/stat";
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

// ---- the search ----------------------------------------------------------------

void print(const char* who, const char* what, const TrialResult& r) {
    std::printf(
        "  %-8s %-22s offered %9.0f pps  delivered %9.0f pps  loss %7.4f%%  "
        "p50 %6.0f us  p99 %7.0f us  cpu %5.1f%%\n",
        who, what, r.offered_pps, r.delivered_pps, 100.0 * r.loss, r.p50_us, r.p99_us, r.cpu_pct);
    std::fflush(stdout);
}

// The highest offered rate with < 0.1% loss: flat out if that loses less,
// else down from flat out in steps of 15%, then one step halfway up. At
// most 11 trials.
TrialResult search(Generator& gen, const Streams& s, const std::string& cpu, const char* who,
                   double trial_s) {
    TrialResult flat = gen.run(s, 0, trial_s, cpu);
    print(who, "flat out", flat);
    // No loss flat out: the relay keeps up with all the generator can offer.
    if (flat.loss < kLossTarget) return flat;
    double rate = std::max(1000.0, flat.delivered_pps * 1.05);
    TrialResult best{};
    double failed_at = 0;
    for (int i = 0; i < 9; ++i) {
        TrialResult r = gen.run(s, rate, trial_s, cpu);
        print(who, "search", r);
        if (r.loss < kLossTarget) {
            best = r;
            break;
        }
        failed_at = rate;
        rate *= 0.85;
    }
    if (best.sent > 0 && failed_at > 0) {
        TrialResult r = gen.run(s, (best.offered_pps + failed_at) / 2, trial_s, cpu);
        print(who, "search", r);
        if (r.loss < kLossTarget) best = r;
    }
    return best;
}

struct ModeResult {
    TrialResult rtpd_best, base_best, rtpd_50, base_50, rtpd_hold;
    double rss_per_forward_bytes = 0;
};

bool setup_forwards(SipdPeer& sipd, size_t n, const Generator& gen, Streams& s,
                    std::vector<std::pair<uint16_t, uint16_t>>& ports) {
    s.to_inside.assign(n, {});
    s.to_outside.assign(n, {});
    ports.assign(n, {0, 0});
    size_t next = 0, done = 0, outstanding = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (done < n && std::chrono::steady_clock::now() < deadline) {
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
    return done == n;
}

bool run_mode(size_t calls, const ScratchDir& dir, double trial_s, double hold_s, ModeResult& out) {
    std::printf("\n== %zu calls (%zu forwards, %zu relay sockets) ==\n", calls, calls, calls * 4);
    const std::string config = write_rtpd_config(
        dir, kPortLow, kPortHigh,
        "rtp_timeout = 600\nrtp_no_bidir_timeout = 600\nrtp_max_duration = 3600\n");
    Generator gen;
    if (!gen.ok()) return false;
    Streams s;
    std::vector<std::pair<uint16_t, uint16_t>> ports;
    {
        RtpdProcess rtpd;
        std::string error;
        auto sipd = rtpd.start(config, error, "notice");
        if (!sipd) {
            std::fprintf(stderr, "rtpd: %s\n", error.c_str());
            return false;
        }
        const long rss0 = rss_kib(rtpd.pid());
        const auto t0 = std::chrono::steady_clock::now();
        if (!setup_forwards(*sipd, calls, gen, s, ports)) {
            std::fprintf(stderr, "setting up %zu forwards failed\n", calls);
            return false;
        }
        const double setup_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const long rss1 = rss_kib(rtpd.pid());
        out.rss_per_forward_bytes =
            1024.0 * static_cast<double>(rss1 - rss0) / static_cast<double>(calls);
        std::printf("  set up in %.2f s; rtpd RSS %ld -> %ld KiB (%.0f bytes per forward)\n",
                    setup_s, rss0, rss1, out.rss_per_forward_bytes);
        const std::string cpu = "/proc/" + std::to_string(rtpd.pid()) + "/stat";
        if (calls <= 1000) {
            out.rtpd_50 = gen.run(s, 2.0 * 50.0 * static_cast<double>(calls), trial_s, cpu);
            print("rtpd", "50 pps/stream each way", out.rtpd_50);
        }
        out.rtpd_best = search(gen, s, cpu, "rtpd", trial_s);
        if (hold_s > 0 && out.rtpd_best.sent > 0) {
            out.rtpd_hold = gen.run(s, out.rtpd_best.offered_pps, hold_s, cpu);
            print("rtpd", "held", out.rtpd_hold);
        }
        rtpd.kill9();
    }
    Baseline base;
    if (!base.start(ports, gen.inside_phone(), gen.outside_phone())) {
        std::fprintf(stderr, "baseline: cannot bind the same ports\n");
        return false;
    }
    if (calls <= 1000) {
        out.base_50 =
            gen.run(s, 2.0 * 50.0 * static_cast<double>(calls), trial_s, base.stat_path());
        print("baseline", "50 pps/stream each way", out.base_50);
    }
    out.base_best = search(gen, s, base.stat_path(), "baseline", trial_s);
    const double ratio = out.base_best.offered_pps > 0
                             ? out.rtpd_best.delivered_pps / out.base_best.delivered_pps
                             : 0;
    std::printf(
        "  => at < 0.1%% loss: rtpd %.0f pps (p50 %.0f us, p99 %.0f us, cpu %.0f%%), "
        "baseline %.0f pps (p50 %.0f us, p99 %.0f us, cpu %.0f%%): ratio %.2f\n",
        out.rtpd_best.delivered_pps, out.rtpd_best.p50_us, out.rtpd_best.p99_us,
        out.rtpd_best.cpu_pct, out.base_best.delivered_pps, out.base_best.p50_us,
        out.base_best.p99_us, out.base_best.cpu_pct, ratio);
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
    double trial_s = 1.0;
    double hold_s = 5.0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--calls" && i + 1 < argc) {
            modes.push_back(std::strtoul(argv[++i], nullptr, 10));
        } else if (a == "--trial" && i + 1 < argc) {
            trial_s = std::atof(argv[++i]);
        } else if (a == "--hold" && i + 1 < argc) {
            hold_s = std::atof(argv[++i]);
        } else {
            std::fprintf(stderr,
                         "usage: %s [--calls N]... [--trial SECONDS] [--hold SECONDS]\n"
                         "  default: --calls 100 --calls 1000 --calls 10000 --trial 1 --hold 5\n"
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
    trial_s = std::clamp(trial_s, 0.2, 10.0);
    hold_s = std::clamp(hold_s, 0.0, 60.0);
    // 4 sockets per forward in rtpd, 2 in the baseline: raise the ceiling
    // before rtpd inherits it (the parent does the same in production).
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
    // rtpd keeps 64 descriptors aside and needs 4 per forward.
    const size_t max_calls = lim.rlim_cur > 200 ? (lim.rlim_cur - 64) / 4 - 16 : 1;
    for (size_t& m : modes)
        if (m > max_calls) {
            std::printf(
                "NOTE: RLIMIT_NOFILE is %llu here and cannot be raised (no "
                "CAP_SYS_RESOURCE): %zu calls need %zu descriptors; running %zu calls\n",
                static_cast<unsigned long long>(lim.rlim_cur), m, m * 4 + 64, max_calls);
            m = max_calls;
        }
    std::printf("rtpd_bench: %ld CPUs online; load generator (1 thread) and relay share them\n",
                sysconf(_SC_NPROCESSORS_ONLN));
    ScratchDir dir;
    for (size_t calls : modes) {
        ModeResult r;
        if (!run_mode(calls, dir, trial_s, calls > 1000 ? hold_s : 0, r)) return 1;
    }
    return 0;
}
