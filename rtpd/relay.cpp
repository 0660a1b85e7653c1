#include "relay.h"

#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "address.h"
#include "clock.h"
#include "log.h"

namespace sipmasq {

namespace {

constexpr size_t kBatchSize = 32;
// Any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6) fits.
constexpr size_t kMaxDatagram = 65536;
constexpr size_t kMaxPools = 64;

constexpr size_t side_of(Leg l) noexcept {
    return is_inside(l) ? 0 : 1;
}

void add_stats(DirectionStats& to, const DirectionStats& from) {
    to.packets += from.packets;
    to.bytes += from.bytes;
    for (size_t i = 0; i < kDropReasons; ++i) to.drops[i] += from.drops[i];
    if (from.last_ms > to.last_ms) to.last_ms = from.last_ms;
}

StartError from_pair_error(PairError e) noexcept {
    switch (e) {
        case PairError::None:
            return StartError::None;
        case PairError::Exhausted:
            return StartError::PoolExhausted;
        case PairError::Unavailable:
            return StartError::PortsUnavailable;
        case PairError::InUse:
            return StartError::PortsInUse;
        case PairError::NoDescriptors:
            return StartError::NoDescriptors;
        case PairError::Socket:
            return StartError::Socket;
        case PairError::EventLoop:
            return StartError::EventLoop;
    }
    return StartError::Socket;
}

// RTCP peer: the a=rtcp port if given, else RTP + 1.
Endpoint rtcp_peer(const Endpoint& rtp, uint16_t rtcp_port) {
    if (!rtp.known()) return Endpoint{};
    return rtp.with_port(rtcp_port != 0 ? rtcp_port : static_cast<uint16_t>(rtp.port() + 1));
}

}  // namespace

// One receive batch and one send batch, allocated once: the loop is
// single-threaded, so every socket shares them.
struct Relay::Batch {
    std::unique_ptr<uint8_t[]> buffers =
        std::make_unique_for_overwrite<uint8_t[]>(kBatchSize * kMaxDatagram);
    std::array<mmsghdr, kBatchSize> rx{};
    std::array<iovec, kBatchSize> rx_iov{};
    std::array<Endpoint, kBatchSize> names{};
    std::array<mmsghdr, kBatchSize> tx{};
    std::array<iovec, kBatchSize> tx_iov{};

    Batch() {
        for (size_t i = 0; i < kBatchSize; ++i) {
            rx_iov[i].iov_base = buffers.get() + i * kMaxDatagram;
            rx_iov[i].iov_len = kMaxDatagram;
            rx[i].msg_hdr.msg_iov = &rx_iov[i];
            rx[i].msg_hdr.msg_iovlen = 1;
            rx[i].msg_hdr.msg_name = &names[i].u;
            tx[i].msg_hdr.msg_iov = &tx_iov[i];
            tx[i].msg_hdr.msg_iovlen = 1;
        }
    }
};

const char* start_error_name(StartError e) noexcept {
    switch (e) {
        case StartError::None:
            return "none";
        case StartError::BadParams:
            return "bad parameters";
        case StartError::TooManyForwards:
            return "too many forwards";
        case StartError::PoolExhausted:
            return "port pool exhausted";
        case StartError::PortsUnavailable:
            return "requested ports unavailable";
        case StartError::PortsInUse:
            return "requested ports held by another process";
        case StartError::PortsMismatch:
            return "forward exists on other ports or addresses";
        case StartError::NoDescriptors:
            return "out of file descriptors";
        case StartError::Socket:
            return "socket error";
        case StartError::EventLoop:
            return "event loop error";
        case StartError::PeerRefused:
            return "peer refused";
    }
    return "unknown";
}

const char* timeout_reason_name(TimeoutReason r) noexcept {
    switch (r) {
        case TimeoutReason::Idle:
            return "idle";
        case TimeoutReason::NoBidirectional:
            return "never bidirectional";
        case TimeoutReason::MaxDuration:
            return "maximum duration";
        case TimeoutReason::Count:
            break;
    }
    return "unknown";
}

Relay::Relay(event_base* base, const RelayConfig& cfg, Clock clock)
    : base_(base),
      cfg_(cfg),
      clock_(clock ? std::move(clock) : Clock([] { return monotonic_ms(); })),
      table_(cfg.max_forwards),
      socket_options_{make_socket_options(Side::Inside), make_socket_options(Side::Outside)},
      park_(base, &Relay::on_readable_cb, cfg.max_sockets),
      batch_(std::make_unique<Batch>()),
      seed_(cfg.seed) {
    pools_.reserve(kMaxPools);
    if (seed_ == 0 && getrandom(&seed_, sizeof seed_, 0) != static_cast<ssize_t>(sizeof seed_))
        seed_ = static_cast<uint64_t>(monotonic_ms()) ^ 0x9e3779b97f4a7c15ULL;
    expired_.reserve(cfg.max_forwards);
    if (base_ != nullptr && cfg_.sweep_interval_ms > 0) {
        timer_.reset(event_new(base_, -1, EV_PERSIST, &Relay::on_timer_cb, this));
        if (!timer_) {
            log_error("rtpd: cannot create the timeout timer");
        } else {
            timeval tv{static_cast<time_t>(cfg_.sweep_interval_ms / 1000),
                       static_cast<suseconds_t>((cfg_.sweep_interval_ms % 1000) * 1000)};
            if (event_add(timer_.get(), &tv) != 0) log_error("rtpd: cannot arm the timeout timer");
        }
    }
}

Relay::~Relay() = default;

Relay::PoolEntry* Relay::pool_for(const Endpoint& local) {
    Endpoint key = local.with_port(0);
    for (auto& e : pools_)
        if (e.local == key) return &e;
    if (pools_.size() >= kMaxPools) return nullptr;
    uint64_t seed = seed_ + 0x9e3779b97f4a7c15ULL * (pools_.size() + 1);
    PoolEntry& entry = pools_.emplace_back();
    entry.local = key;
    entry.pool = std::make_unique<PortPool>(cfg_.port_low, cfg_.port_high, cfg_.quarantine_s, seed,
                                            cfg_.source_mode == SourceMode::Strict);
    return &entry;
}

StartResult Relay::fail(StartError e, int sys_errno) {
    // Counted here, logged by the caller, which knows the call (sipd_link).
    ++failed_total_;
    StartResult r;
    r.error = e;
    r.sys_errno = sys_errno;
    return r;
}

UdpSocketOptions Relay::make_socket_options(Side side) const noexcept {
    UdpSocketOptions opt{cfg_.dscp, cfg_.rcvbuf_bytes, {}};
    const std::string& device = side == Side::Inside ? cfg_.inside_device : cfg_.outside_device;
    // An over-long name cannot be an interface: bind_pair then fails.
    std::memcpy(opt.device.data(), device.data(), std::min(device.size(), opt.device.size()));
    return opt;
}

// A hairpin: a provider that does not anchor media routed a call of an
// inside phone back through sipmasq to another one, so this forward's
// outside peer is the outside RTP port of another live forward here (with
// its RTCP port, or that port again for rtcp-mux). The media then passes
// both forwards, each with its own peers and timeouts. No other address:port
// of our own is ever a peer (the SIP port, a free or quarantined pair).
bool Relay::is_hairpin(uint32_t id, const StartParams& p) const noexcept {
    const Endpoint& peer = p.outside_peer;
    if (!peer.same_host(p.outside_local)) return false;
    const uint16_t rtcp =
        p.outside_rtcp_port != 0 ? p.outside_rtcp_port : static_cast<uint16_t>(peer.port() + 1);
    if (rtcp != peer.port() && rtcp != peer.port() + 1) return false;
    bool live = false;
    table_.for_each([&](const Forward& f) {
        live = live || (f.id != id && f.outside_local.same_host(peer) &&
                        f.outside_local.port() == peer.port());
    });
    return live;
}

// An unspecified peer (hold, c=0.0.0.0) or one not known yet is allowed:
// nothing is ever sent to it.
std::optional<StartResult> Relay::check_peers(uint32_t id, const StartParams& p) {
    if (!cfg_.peers) return std::nullopt;
    for (const Side side : {Side::Inside, Side::Outside}) {
        const Endpoint& peer = side == Side::Inside ? p.inside_peer : p.outside_peer;
        if (!peer.known()) continue;
        const SockAddr addr(peer.sa(), peer.len());
        if (addr.is_unspecified()) continue;
        if (side == Side::Outside && is_hairpin(id, p)) continue;
        if (const char* why = cfg_.peers->refuse(side, addr)) {
            StartResult r = fail(StartError::PeerRefused, 0);
            r.refused_side = side;
            r.refused_why = why;
            return r;
        }
    }
    return std::nullopt;
}

namespace {
bool peer_ok(const Endpoint& peer, const Endpoint& local, uint16_t rtcp_port) {
    if (!peer.known()) return true;  // not known yet is allowed
    if (peer.family() != local.family() || peer.port() == 0) return false;
    return rtcp_port != 0 || peer.port() != 65535;
}
}  // namespace

void Relay::set_peers(Forward& f, const StartParams& p, int64_t now, bool force) {
    const bool in_changed =
        force || !(f.inside_peer == p.inside_peer) || f.inside_rtcp_port != p.inside_rtcp_port;
    const bool out_changed =
        force || !(f.outside_peer == p.outside_peer) || f.outside_rtcp_port != p.outside_rtcp_port;
    const int64_t window_end = f.latch ? now + cfg_.latch_window_ms : 0;
    if (in_changed) {
        f.inside_peer = p.inside_peer;
        f.inside_rtcp_port = p.inside_rtcp_port;
        f.socket(Leg::InsideRtp).peer = p.inside_peer;
        f.socket(Leg::InsideRtp).latched = false;
        f.latch_until_ms[0] = window_end;
    }
    if (out_changed) {
        f.outside_peer = p.outside_peer;
        f.outside_rtcp_port = p.outside_rtcp_port;
        f.socket(Leg::OutsideRtp).peer = p.outside_peer;
        f.socket(Leg::OutsideRtp).latched = false;
        f.latch_until_ms[1] = window_end;
    }
    // A mux side has no RTCP socket: nothing is sent to an RTCP port that
    // side never announced.
    RelaySocket& in_rtcp = f.socket(Leg::InsideRtcp);
    if (in_changed || in_rtcp.port == nullptr) {
        in_rtcp.peer =
            in_rtcp.port != nullptr ? rtcp_peer(f.inside_peer, f.inside_rtcp_port) : Endpoint{};
        in_rtcp.latched = false;
    }
    RelaySocket& out_rtcp = f.socket(Leg::OutsideRtcp);
    if (out_changed || out_rtcp.port == nullptr) {
        out_rtcp.peer =
            out_rtcp.port != nullptr ? rtcp_peer(f.outside_peer, f.outside_rtcp_port) : Endpoint{};
        out_rtcp.latched = false;
    }
}

void Relay::attach(RelaySocket& s, PortSocket* port) noexcept {
    s.port = port;
    s.fd = port != nullptr ? port->fd.get() : -1;
    if (port != nullptr) port->user = &s;
}

void Relay::detach(RelaySocket& s) noexcept {
    if (s.port == nullptr) return;
    park_.park(*s.port);
    s.port = nullptr;
    s.fd = -1;
}

// rtcp-mux switched on closes the side's RTCP socket (a mux side binds no
// RTCP port); off binds it again on the RTP port + 1, which the pool keeps
// reserved with the pair.
StartError Relay::set_mux(Forward& f, Side side, bool mux) {
    const size_t i = side == Side::Inside ? 0 : 1;
    RelaySocket& s = f.socket(side == Side::Inside ? Leg::InsideRtcp : Leg::OutsideRtcp);
    if (mux) {
        f.mux[i] = true;
        if (s.port != nullptr) park_.close(*s.port);
        attach(s, nullptr);
        s.peer = Endpoint{};
        s.latched = false;
        return StartError::None;
    }
    if (s.port != nullptr) {
        f.mux[i] = false;
        return StartError::None;
    }
    const Endpoint& rtp = side == Side::Inside ? f.inside_local : f.outside_local;
    PortSocket& rtcp = f.pairs[i]->rtcp;
    const int err = park_.take(rtcp, rtp.with_port(static_cast<uint16_t>(rtp.port() + 1)),
                               socket_options(side));
    if (err != 0) {
        switch (SocketPark::error_of(err)) {
            case PairError::NoDescriptors:
                return StartError::NoDescriptors;
            case PairError::InUse:
                return StartError::PortsInUse;
            case PairError::EventLoop:
                return StartError::EventLoop;
            default:
                return StartError::Socket;
        }
    }
    attach(s, &rtcp);
    f.mux[i] = false;
    return StartError::None;
}

StartResult Relay::update(Forward& f, const StartParams& p, int64_t now) {
    if ((p.inside_port != 0 && p.inside_port != f.inside_local.port()) ||
        (p.outside_port != 0 && p.outside_port != f.outside_local.port()) ||
        !f.inside_local.same_host(p.inside_local) || !f.outside_local.same_host(p.outside_local))
        return fail(StartError::PortsMismatch, 0);
    const bool mux_changed = f.mux[0] != p.inside_mux || f.mux[1] != p.outside_mux;
    for (const Side side : {Side::Inside, Side::Outside})
        if (const StartError e =
                set_mux(f, side, side == Side::Inside ? p.inside_mux : p.outside_mux);
            e != StartError::None)
            return fail(e, 0);
    set_peers(f, p, now, mux_changed);
    f.on_hold = p.on_hold;
    f.control_ms = now;
    StartResult r;
    r.inside_port = f.inside_local.port();
    r.outside_port = f.outside_local.port();
    return r;
}

StartResult Relay::start(uint32_t id, const StartParams& p) {
    if (!p.inside_local.known() || !p.outside_local.known() ||
        !peer_ok(p.inside_peer, p.inside_local, p.inside_rtcp_port) ||
        !peer_ok(p.outside_peer, p.outside_local, p.outside_rtcp_port))
        return fail(StartError::BadParams, 0);
    if (auto refused = check_peers(id, p)) return *refused;
    int64_t now = clock_();
    if (Forward* existing = table_.find(id)) return update(*existing, p, now);
    if (table_.full()) return fail(StartError::TooManyForwards, 0);

    PoolEntry* in_pool = pool_for(p.inside_local);
    PoolEntry* out_pool = pool_for(p.outside_local);
    if (in_pool == nullptr || out_pool == nullptr) return fail(StartError::BadParams, 0);

    // The pairs' sockets: parked ones of an earlier forward reused, the
    // others bound now.
    const SocketPark::TakenPair in =
        park_.take_pair(*in_pool->pool, in_pool->sockets, p.inside_local, p.inside_port,
                        cfg_.bind_attempts, socket_options(Side::Inside), now, !p.inside_mux);
    if (in.error != PairError::None) return fail(from_pair_error(in.error), in.sys_errno);
    const SocketPark::TakenPair out =
        park_.take_pair(*out_pool->pool, out_pool->sockets, p.outside_local, p.outside_port,
                        cfg_.bind_attempts, socket_options(Side::Outside), now, !p.outside_mux);
    // Pairs never exposed: their sockets parked again, the pairs free at once.
    const auto put_back = [this](const SocketPark::TakenPair& t, PortPool& pool) {
        park_.park(t.sockets->rtp);
        park_.park(t.sockets->rtcp);
        pool.give_back(t.rtp_port);
    };
    if (out.error != PairError::None) {
        put_back(in, *in_pool->pool);
        return fail(from_pair_error(out.error), out.sys_errno);
    }

    auto created = std::make_unique<Forward>();
    created->id = id;
    Forward* f = table_.insert(std::move(created));
    if (f == nullptr) {  // checked above
        put_back(out, *out_pool->pool);
        put_back(in, *in_pool->pool);
        return fail(StartError::TooManyForwards, 0);
    }
    f->owner = this;
    f->serial = ++next_serial_;
    f->inside_local = p.inside_local.with_port(in.rtp_port);
    f->outside_local = p.outside_local.with_port(out.rtp_port);
    f->inside_pool = in_pool->pool.get();
    f->outside_pool = out_pool->pool.get();
    f->pairs = {in.sockets, out.sockets};
    f->created_ms = now;
    f->control_ms = now;
    f->on_hold = p.on_hold;
    f->latch = p.latch || cfg_.source_mode == SourceMode::Latch;
    f->mux = {p.inside_mux, p.outside_mux};
    for (size_t i = 0; i < kLegs; ++i) {
        f->sockets[i].forward = f;
        f->sockets[i].leg = static_cast<Leg>(i);
    }
    // No RTCP socket on a mux side (take_pair closed a parked one).
    attach(f->socket(Leg::InsideRtp), &in.sockets->rtp);
    attach(f->socket(Leg::InsideRtcp), p.inside_mux ? nullptr : &in.sockets->rtcp);
    attach(f->socket(Leg::OutsideRtp), &out.sockets->rtp);
    attach(f->socket(Leg::OutsideRtcp), p.outside_mux ? nullptr : &out.sockets->rtcp);
    set_peers(*f, p, now, true);
    ++started_total_;
    StartResult r;
    r.created = true;
    r.inside_port = f->inside_local.port();
    r.outside_port = f->outside_local.port();
    return r;
}

void Relay::destroy(std::unique_ptr<Forward> f, int64_t now) {
    if (!f) return;
    for (size_t d = 0; d < kDirections; ++d) add_stats(past_totals_[d], f->stats[d]);
    uint16_t in_port = f->inside_local.port();
    uint16_t out_port = f->outside_local.port();
    PortPool* in_pool = f->inside_pool;
    PortPool* out_pool = f->outside_pool;
    // Still bound and on the loop: what comes late is read and dropped, and
    // the next forward on the pair reuses them.
    for (RelaySocket& s : f->sockets) detach(s);
    f.reset();
    if (in_pool) in_pool->release(in_port, now);
    if (out_pool) out_pool->release(out_port, now);
}

void Relay::set_own_address(const SockAddr& addr, bool ours) {
    if (!cfg_.peers) return;
    auto& own = cfg_.peers->own;
    std::erase_if(own, [&addr](const SockAddr& a) { return a.same_host(addr); });
    if (ours) own.push_back(addr);
}

bool Relay::stop(uint32_t id) {
    auto f = table_.remove(id);
    if (!f) return false;
    ++stopped_total_;
    destroy(std::move(f), clock_());
    return true;
}

void Relay::stop_all() {
    std::vector<uint32_t> ids;
    ids.reserve(table_.size());
    table_.for_each([&](const Forward& f) { ids.push_back(f.id); });
    for (uint32_t id : ids) stop(id);
}

bool Relay::set_hold(uint32_t id, bool on_hold) {
    Forward* f = table_.find(id);
    if (f == nullptr) return false;
    f->on_hold = on_hold;
    f->control_ms = clock_();
    return true;
}

ForwardInfo Relay::make_info(const Forward& f) const {
    ForwardInfo i;
    i.id = f.id;
    i.inside_local = f.inside_local;
    i.outside_local = f.outside_local;
    i.inside_peer = f.inside_peer;
    i.outside_peer = f.outside_peer;
    i.inside_rtcp_port = f.inside_rtcp_port;
    i.outside_rtcp_port = f.outside_rtcp_port;
    i.inside_mux = f.mux[0];
    i.outside_mux = f.mux[1];
    for (size_t l = 0; l < kLegs; ++l) i.sources[l] = f.sockets[l].peer;
    i.on_hold = f.on_hold;
    i.latch = f.latch;
    i.created_ms = f.created_ms;
    i.stats = f.stats;
    return i;
}

std::vector<ForwardInfo> Relay::list() const {
    std::vector<ForwardInfo> out;
    out.reserve(table_.size());
    table_.for_each([&](const Forward& f) { out.push_back(make_info(f)); });
    return out;
}

std::optional<ForwardInfo> Relay::info(uint32_t id) const {
    const Forward* f = table_.find(id);
    if (f == nullptr) return std::nullopt;
    return make_info(*f);
}

RelayStats Relay::stats() {
    RelayStats s;
    int64_t now = clock_();
    s.forwards = static_cast<uint32_t>(table_.size());
    s.started_total = started_total_;
    s.stopped_total = stopped_total_;
    s.failed_total = failed_total_;
    s.timeouts = timeouts_;
    s.totals = past_totals_;
    table_.for_each([&](const Forward& f) {
        for (size_t d = 0; d < kDirections; ++d) add_stats(s.totals[d], f.stats[d]);
    });
    for (auto& e : pools_) s.pools.push_back(PoolInfo{e.local, e.pool->stats(now)});
    s.sockets = park_.stats();
    return s;
}

int Relay::socket_fd(uint32_t id, Leg leg) const noexcept {
    const Forward* f = table_.find(id);
    return f == nullptr ? -1 : f->socket(leg).fd;
}

// --- timeouts -------------------------------------------------------------

void Relay::on_timer_cb(evutil_socket_t, short, void* arg) noexcept {
    auto* self = static_cast<Relay*>(arg);
    self->sweep(self->clock_());
}

void Relay::sweep(int64_t now) {
    expired_.clear();  // capacity reserved for max_forwards: no allocation
    const int64_t idle_ms = int64_t{cfg_.rtp_timeout_s} * 1000;
    const int64_t bidir_ms = int64_t{cfg_.no_bidir_timeout_s} * 1000;
    const int64_t max_ms = int64_t{cfg_.max_duration_s} * 1000;
    table_.for_each([&](const Forward& f) {
        if (max_ms > 0 && now - f.created_ms >= max_ms) {
            expired_.push_back(Expired{f.id, f.serial, TimeoutReason::MaxDuration});
            return;
        }
        if (f.on_hold) return;  // silence is expected on hold
        const int64_t in_last = f.stats[0].last_ms;
        const int64_t out_last = f.stats[1].last_ms;
        const bool bidir = in_last > 0 && out_last > 0;
        if (bidir_ms > 0 && !bidir && now - f.control_ms >= bidir_ms) {
            expired_.push_back(Expired{f.id, f.serial, TimeoutReason::NoBidirectional});
            return;
        }
        int64_t last = std::max({f.control_ms, in_last, out_last});
        if (idle_ms > 0 && now - last >= idle_ms)
            expired_.push_back(Expired{f.id, f.serial, TimeoutReason::Idle});
    });
    for (const Expired& e : expired_) {
        // The handler of an earlier expiry may have stopped this one, or
        // stopped it and started a new forward under the same id.
        const Forward* f = table_.find(e.id);
        if (f == nullptr || f->serial != e.serial) continue;
        ++timeouts_[static_cast<size_t>(e.reason)];
        destroy(table_.remove(e.id), now);
        if (on_timeout_) on_timeout_(e.id, e.reason);
    }
}

// --- the hot path ---------------------------------------------------------

void Relay::on_readable_cb(evutil_socket_t, short, void* arg) noexcept {
    auto* port = static_cast<PortSocket*>(arg);
    if (RelaySocket* s = port->user; s != nullptr) [[likely]]
        s->forward->owner->on_readable(*s);
    else
        port->park->drain(*port);  // parked: read and dropped
}

bool Relay::accept_source(Forward& f, RelaySocket& s, const Endpoint& src, int64_t now,
                          DirectionStats& st) noexcept {
    if (f.latch && !s.latched && now < f.latch_until_ms[side_of(s.leg)]) {
        // The first packet inside the window decides the source, then it locks.
        s.peer = src;
        s.latched = true;
        return true;
    }
    if (!s.peer.known()) {
        ++st.drops[static_cast<size_t>(DropReason::NoPeer)];
        return false;
    }
    if (!(s.peer == src)) {
        ++st.drops[static_cast<size_t>(DropReason::WrongSource)];
        return false;
    }
    return true;
}

void Relay::on_readable(RelaySocket& s) noexcept {
    Forward& f = *s.forward;
    RelaySocket& out = f.socket(twin(s.leg));
    DirectionStats& st = f.stats[is_inside(s.leg) ? 0 : 1];
    Batch& b = *batch_;
    const int64_t now = clock_();

    for (uint32_t round = 0; round < cfg_.max_batches_per_wakeup; ++round) {
        for (auto& m : b.rx) {
            m.msg_hdr.msg_namelen = sizeof(Endpoint::Storage);
            m.msg_hdr.msg_flags = 0;
        }
        int n = ::recvmmsg(s.fd, b.rx.data(), kBatchSize, MSG_DONTWAIT, nullptr);
        if (n <= 0) return;  // EAGAIN: drained (other errors: try again next wake-up)

        unsigned k = 0;
        for (int i = 0; i < n; ++i) {
            const mmsghdr& m = b.rx[static_cast<size_t>(i)];
            if (m.msg_hdr.msg_flags & MSG_TRUNC) {
                ++st.drops[static_cast<size_t>(DropReason::Truncated)];
                continue;
            }
            const Endpoint& src = b.names[static_cast<size_t>(i)];
            if (!accept_source(f, s, src, now, st)) continue;
            st.last_ms = now;
            if (!out.peer.known()) {
                ++st.drops[static_cast<size_t>(DropReason::NoPeer)];
                continue;
            }
            b.tx_iov[k].iov_base = m.msg_hdr.msg_iov->iov_base;
            b.tx_iov[k].iov_len = m.msg_len;
            b.tx[k].msg_hdr.msg_name = &out.peer.u;
            b.tx[k].msg_hdr.msg_namelen = out.peer.len();
            ++k;
        }

        unsigned sent = 0;
        while (sent < k) {
            int r = ::sendmmsg(out.fd, b.tx.data() + sent, k - sent, MSG_DONTWAIT);
            if (r <= 0) {
                // This datagram cannot go (EAGAIN, ENOBUFS, EMSGSIZE...): drop
                // it and try the rest.
                ++st.drops[static_cast<size_t>(DropReason::SendError)];
                ++sent;
                continue;
            }
            for (unsigned j = sent; j < sent + static_cast<unsigned>(r); ++j)
                st.bytes += b.tx_iov[j].iov_len;
            st.packets += static_cast<unsigned>(r);
            sent += static_cast<unsigned>(r);
        }
        if (static_cast<size_t>(n) < kBatchSize) return;  // nothing more waiting
    }
    // Bounded drain: what is left waits for the next turn of the loop, so a
    // flood on one socket cannot starve the control channel.
}

}  // namespace sipmasq
