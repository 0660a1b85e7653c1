#include "socket_park.h"

#include <cerrno>

namespace sipmasq {

namespace {

// A parked socket gets as many batches per wake-up as a live one.
constexpr unsigned kDrainBatchesPerWakeup = 4;
// Reuse empties the queue: more datagrams than a receive buffer holds
// (SO_RCVBUF 256 KiB, doubled by the kernel, at least 256 bytes accounted
// per datagram), so it is empty unless datagrams keep coming meanwhile.
constexpr unsigned kDiscardBatches = 128;

}  // namespace

PairError SocketPark::error_of(int code) noexcept {
    if (code == 0) return PairError::None;
    if (code == kUnwatched) return PairError::EventLoop;
    if (code == -EADDRINUSE) return PairError::InUse;
    if (code == -EMFILE || code == -ENFILE) return PairError::NoDescriptors;
    return PairError::Socket;
}

SocketPark::SocketPark(event_base* base, event_callback_fn on_event, uint32_t budget) noexcept
    : base_(base), on_event_(on_event) {
    stats_.budget = budget;
}

void SocketPark::unlink(PortSocket& s) noexcept {
    if (!s.parked) return;
    (s.older != nullptr ? s.older->newer : oldest_) = s.newer;
    (s.newer != nullptr ? s.newer->older : newest_) = s.older;
    s.older = nullptr;
    s.newer = nullptr;
    s.parked = false;
    --stats_.parked;
}

void SocketPark::park(PortSocket& s) noexcept {
    s.user = nullptr;
    if (!s.fd.valid() || s.parked) return;
    s.parked = true;
    s.older = newest_;
    s.newer = nullptr;
    (newest_ != nullptr ? newest_->newer : oldest_) = &s;
    newest_ = &s;
    ++stats_.parked;
}

void SocketPark::close(PortSocket& s) noexcept {
    s.user = nullptr;
    if (!s.fd.valid()) return;
    unlink(s);
    s.ev.reset();  // off the loop before the descriptor closes
    s.fd.reset();
    --stats_.open;
}

bool SocketPark::close_oldest() noexcept {
    if (oldest_ == nullptr) return false;
    close(*oldest_);
    ++stats_.closed_for_room_total;
    return true;
}

int SocketPark::open(PortSocket& s, const Endpoint& local, const UdpSocketOptions& opt) {
    if (base_ == nullptr) return kUnwatched;
    if (stats_.budget != 0) {
        while (stats_.open >= stats_.budget && close_oldest()) {
        }
        // Only live sockets left: the descriptors kept aside for the
        // channels are not the relay's to take.
        if (stats_.open >= stats_.budget) return -EMFILE;
    }
    UdpSocketResult r = open_udp_socket(local, opt);
    // Short of descriptors below the budget (the limit is the system's, or
    // lower than the budget assumed): parked sockets go first.
    while ((r.error == -EMFILE || r.error == -ENFILE) && close_oldest())
        r = open_udp_socket(local, opt);
    if (r.error != 0) return r.error;
    s.ev.reset(event_new(base_, r.fd.get(), EV_READ | EV_PERSIST, on_event_, &s));
    if (!s.ev || event_add(s.ev.get(), nullptr) != 0) {
        s.ev.reset();
        return kUnwatched;  // r.fd closes here
    }
    s.fd = std::move(r.fd);
    s.park = this;
    s.options = opt;
    s.user = nullptr;
    ++stats_.open;
    ++stats_.opened_total;
    return 0;
}

void SocketPark::discard(PortSocket& s, unsigned batches) noexcept {
    for (unsigned round = 0; round < batches; ++round) {
        const int n = ::recvmmsg(s.fd.get(), discard_.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) return;  // EAGAIN: empty
        stats_.late_dropped_total += static_cast<unsigned>(n);
        if (static_cast<unsigned>(n) < kBatch) return;
    }
}

void SocketPark::drain(PortSocket& s) noexcept {
    discard(s, kDrainBatchesPerWakeup);
}

int SocketPark::take(PortSocket& s, const Endpoint& local, const UdpSocketOptions& opt) {
    if (s.fd.valid()) {
        // The pool hands a pair to one forward at a time.
        if (s.user != nullptr) return -EBUSY;
        if (s.options == opt) {
            unlink(s);
            // What arrived while it was parked belongs to no call.
            discard(s, kDiscardBatches);
            ++stats_.reused_total;
            return 0;
        }
        close(s);  // opened for another interface: not the socket asked for
    }
    return open(s, local, opt);
}

int SocketPark::take_both(PortPool& pool, PairTable& table, const Endpoint& local, uint16_t port,
                          const UdpSocketOptions& opt, bool with_rtcp, TakenPair& out) {
    if (table.size() < pool.pair_count()) table.resize(pool.pair_count());
    std::unique_ptr<PairSockets>& slot = table[static_cast<size_t>(port - pool.low()) / 2];
    if (!slot) slot = std::make_unique<PairSockets>();
    PairSockets& pair = *slot;
    int err = take(pair.rtp, local.with_port(port), opt);
    if (err != 0) return err;
    if (with_rtcp) {
        err = take(pair.rtcp, local.with_port(static_cast<uint16_t>(port + 1)), opt);
        if (err != 0) {
            park(pair.rtp);
            return err;
        }
    } else {
        close(pair.rtcp);
    }
    out.rtp_port = port;
    out.sockets = &pair;
    return 0;
}

SocketPark::TakenPair SocketPark::take_pair(PortPool& pool, PairTable& table, const Endpoint& local,
                                            uint16_t requested_port, uint32_t attempts,
                                            const UdpSocketOptions& opt, int64_t now_ms,
                                            bool with_rtcp) {
    TakenPair out;
    const auto fail = [&out](int err) {
        out.error = error_of(err);
        out.sys_errno = err < 0 ? -err : 0;
    };
    if (requested_port != 0) {
        if (!pool.try_reserve(requested_port, now_ms)) {
            out.error = PairError::Unavailable;
            return out;
        }
        const int err = take_both(pool, table, local, requested_port, opt, with_rtcp, out);
        if (err == -EADDRINUSE) {
            pool.set_aside(requested_port, now_ms);
        } else if (err != 0) {
            pool.give_back(requested_port);
        }
        fail(err);
        return out;
    }
    for (uint32_t i = 0; i < attempts; ++i) {
        const auto port = pool.acquire(now_ms);
        if (!port) break;
        const int err = take_both(pool, table, local, *port, opt, with_rtcp, out);
        if (err == 0) return out;
        if (err == -EADDRINUSE) {
            pool.set_aside(*port, now_ms);  // held elsewhere: never handed out
            continue;
        }
        pool.give_back(*port);
        fail(err);
        return out;
    }
    out.error = PairError::Exhausted;
    return out;
}

}  // namespace sipmasq
