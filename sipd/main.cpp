// sipmasq-sipd: the SIP signalling process. Started by sipmasq(8) only.
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include "child_runtime.h"
#include "clock.h"
#include "codec.h"
#include "digest_auth.h"
#include "end_of_pass.h"
#include "interfaces.h"
#include "log.h"
#include "name_resolver.h"
#include "osip_ptr.h"
#include "peer_policy.h"
#include "rate_limit.h"
#include "registration_store.h"
#include "rtp_workers.h"
#include "rtpd_workers.h"
#include "sandbox_policy.h"
#include "sip_outbox.h"
#include "sip_proxy.h"
#include "sip_socket.h"
#include "tcp_transport.h"

using namespace sipmasq;

namespace {

int64_t wall_now() {
    return static_cast<int64_t>(std::time(nullptr));
}

// host_outbound: a number, or a name looked up now (before the sandbox,
// which has no access to files such as /etc/hosts); sipd looks a name up
// again when its TTL runs out (SipdProcess::relookup), and a reload too.
std::optional<SockAddr> advertised_outside(const Config& config) {
    if (config.host_outbound.empty()) return std::nullopt;
    if (auto a = SockAddr::parse(config.host_outbound)) return a;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(config.host_outbound.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
        log_error("host_outbound %s: cannot resolve it; advertising the outside address",
                  config.host_outbound.c_str());
        return std::nullopt;
    }
    SockAddr a(res->ai_addr, res->ai_addrlen);
    ::freeaddrinfo(res);
    log_notice("host_outbound %s is %s (looked up again when its TTL runs out)",
               config.host_outbound.c_str(), a.host_string().c_str());
    return a;
}

// proxy_auth_realm: the password file is a path on the host, so it is
// read before the chroot. Unreadable or empty with a realm set is fatal:
// sipmasq never falls back to accepting every REGISTER.
std::shared_ptr<const DigestAuth> digest_auth(const Config& config) {
    if (config.proxy_auth_realm.empty()) return nullptr;
    if (config.proxy_auth_pwfile.empty() && !config.proxy_auth_passwd.empty()) {
        std::string secret(32, '\0');
        std::ifstream random("/dev/urandom", std::ios::binary);
        if (!random.read(secret.data(), static_cast<std::streamsize>(secret.size()))) {
            log_error("cannot read /dev/urandom for the digest nonce key");
            std::exit(1);
        }
        // siproxd's proxy_auth_passwd: one password, whatever the user.
        log_notice(
            "REGISTER needs digest authentication in realm %s (one password for every "
            "user)",
            config.proxy_auth_realm.c_str());
        return std::make_shared<DigestAuth>(config.proxy_auth_realm,
                                            std::unordered_map<std::string, std::string>{},
                                            std::move(secret), config.proxy_auth_passwd);
    }
    std::ifstream in(config.proxy_auth_pwfile);
    std::ostringstream text;
    if (config.proxy_auth_pwfile.empty() || !in || !(text << in.rdbuf())) {
        log_error("proxy_auth_realm is set but proxy_auth_pwfile %s cannot be read",
                  config.proxy_auth_pwfile.empty() ? "(unset)" : config.proxy_auth_pwfile.c_str());
        std::exit(1);
    }
    size_t bad = 0;
    auto passwords = parse_password_file(text.str(), &bad);
    if (bad > 0)
        log_warning("%s: %zu lines without a password ignored", config.proxy_auth_pwfile.c_str(),
                    bad);
    if (passwords.empty()) {
        log_error("proxy_auth_pwfile %s holds no user", config.proxy_auth_pwfile.c_str());
        std::exit(1);
    }
    std::string secret(32, '\0');
    std::ifstream random("/dev/urandom", std::ios::binary);
    if (!random.read(secret.data(), static_cast<std::streamsize>(secret.size()))) {
        log_error("cannot read /dev/urandom for the digest nonce key");
        std::exit(1);
    }
    log_notice("REGISTER needs digest authentication in realm %s (%zu users)",
               config.proxy_auth_realm.c_str(), passwords.size());
    return std::make_shared<DigestAuth>(config.proxy_auth_realm, std::move(passwords),
                                        std::move(secret));
}

// The caps of sipmasq.conf(5); the setup share of the relay range is in
// streams, each of which holds a port pair on both sides.
ProxyLimits proxy_limits(const Config& cfg) {
    ProxyLimits l;
    const size_t streams = relay_streams(cfg);
    l.max_calls = cfg.max_calls != 0 ? cfg.max_calls : streams;
    l.max_setup_calls_per_source = cfg.max_setup_calls_per_source;
    l.max_setup_streams = std::max<size_t>(1, streams * cfg.rtp_setup_share / 100);
    l.max_media_streams = cfg.max_media_streams;
    l.transactions.max_total = cfg.sip_max_transactions;
    l.transactions.max_per_source = cfg.sip_max_transactions_per_source;
    return l;
}

// The TCP transport's limits and timers (sipmasq.conf(5)).
TcpSettings tcp_settings(const Config& cfg) {
    TcpSettings t;
    t.limits.max_total = cfg.sip_tcp_max_connections;
    t.limits.max_per_source = cfg.sip_tcp_max_connections_per_source;
    t.max_message = cfg.sip_tcp_max_message;
    t.idle_ms = static_cast<int64_t>(cfg.tcp_timeout) * 1000;
    t.connect_timeout_ms = cfg.tcp_connect_timeout;
    t.keepalive_ms = static_cast<int64_t>(cfg.tcp_keepalive) * 1000;
    return t;
}

std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

class SipdProcess;

struct SipSocketEntry {
    SipdProcess* owner = nullptr;
    SipSideSocket sock;
    EventPtr event;
};

class SipdProcess {
  public:
    SipdProcess(ChildRuntime& runtime, std::vector<Cidr> networks, std::optional<SockAddr> adv,
                std::shared_ptr<const DigestAuth> auth, NameResolver* resolver,
                SideInterfaces interfaces)
        : runtime_(runtime),
          interfaces_(std::move(interfaces)),
          resolver_(resolver),
          auth_(std::move(auth)),
          networks_(std::move(networks)),
          advertised_(adv),
          link_(runtime.base()),
          tcp_(runtime.base(), tcp_settings(runtime.config()),
               [this](std::string_view message, Side side, const SockAddr& peer) {
                   receive_stream(message, side, peer);
               }) {
        tcp_.on_connect_failed([this](Side side, const SockAddr& peer) {
            if (!proxy_) return;
            proxy_->transport_failed(side, peer);
            arm_transaction_timer();
        });
        link_.on_timeout([this](uint32_t id, const char* reason) {
            if (proxy_) proxy_->on_media_timeout(id, reason);
        });
        link_.on_entry([this](uint32_t id, const MediaStart& e) { adopted_.emplace_back(id, e); });
        link_.on_list_end([this](uint32_t worker, uint32_t count) {
            log_info("rtpd worker %u holds %u forwards", worker, count);
            adopt_listed();
        });
        outbox_.on_error([this](const SockAddr& dest, int error) {
            uint64_t suppressed = 0;
            if (send_log_.allow(monotonic_ms(), suppressed))
                log_warning("sendto %s: %s (%llu similar suppressed)", dest.to_string().c_str(),
                            std::strerror(error), static_cast<unsigned long long>(suppressed));
        });
    }

    void on_message(const proto::Message& msg, UniqueFd fd) {
        switch (msg.type()) {
            case proto::MsgType::PeerChannel: {
                const auto peer = proto::payload_as<proto::PeerChannelMsg>(msg);
                if (!link_.set_channel(peer.worker, peer.workers, std::move(fd))) return;
                peers_seen_.resize(peer.workers, false);
                if (!peers_seen_[peer.worker]) {
                    peers_seen_[peer.worker] = true;
                    // sipd (re)started: the worker may hold forwards of calls we had.
                    if (!link_.request_list(peer.worker))
                        log_warning("LIST_FWD to rtpd worker %u not sent", peer.worker);
                } else if (proxy_) {
                    // The worker restarted: its forwards again, on the ports
                    // the phones know.
                    link_.restart_forwards(peer.worker, proxy_->active_forwards());
                }
                break;
            }
            case proto::MsgType::SipSocket: {
                const auto p = proto::payload_as<proto::SipSocketMsg>(msg);
                auto local = proto::from_wire(p.local);
                if (!local || !fd) return;
                const int flags = ::fcntl(fd.get(), F_GETFL);
                if (flags >= 0) (void)::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
                const Side side = p.side == proto::kSideOutside ? Side::Outside : Side::Inside;
                if (p.transport == proto::kSipTcpListener) {
                    if (!tcp_.add_listener(std::move(fd), side, *local))
                        log_error("cannot watch the TCP listener %s", local->to_string().c_str());
                    else
                        log_debug("SIP TCP listener %s on the %s", local->to_string().c_str(),
                                  side_name(side));
                    break;
                }
                auto entry = std::make_unique<SipSocketEntry>(SipSocketEntry{
                    this, SipSideSocket(std::move(fd), side, *local, interfaces_), {}});
                entry->event.reset(event_new(runtime_.base(), entry->sock.fd(),
                                             EV_READ | EV_PERSIST, &on_sip_readable, entry.get()));
                // One that came while running (a new address) is read at once.
                if (proxy_ && event_add(entry->event.get(), nullptr) != 0)
                    log_error("cannot watch the SIP socket %s", local->to_string().c_str());
                sockets_.push_back(std::move(entry));
                log_debug("SIP socket %s on the %s", local->to_string().c_str(), side_name(side));
                break;
            }
            case proto::MsgType::StateDir:
                state_dir_ = std::move(fd);
                break;
            case proto::MsgType::LocalAddress:
                local_address(proto::payload_as<proto::LocalAddressMsg>(msg));
                return;
            default:
                return;
        }
        maybe_start();
    }

    std::string ctl(CtlCommand command, bool json) {
        if (!proxy_) return json ? "null" : "sipd is not ready\n";
        switch (command) {
            case CtlCommand::Registrations:
                return proxy_->registrations_text(json, wall_now());
            case CtlCommand::Calls:
                return proxy_->calls_text(json);
            case CtlCommand::Stats:
                return proxy_->stats_text(json);
            default:
                return json ? "null" : "not a sipd command\n";
        }
    }

    void save_now() {
        if (!proxy_ || !state_dir_ || !proxy_->state_dirty()) return;
        proxy_->clear_dirty();
        last_save_ms_ = monotonic_ms();
        const std::string name = base_name(runtime_.config().registration_file);
        if (const int rc = save_state(state_dir_.get(), name, proxy_->table(), &proxy_->contacts());
            rc != 0)
            log_error("cannot save the registrations: %s", std::strerror(-rc));
    }

    // What the loop pass queued for sending goes now (at the pass's end,
    // before a socket closes, at stop).
    void flush_sends() {
        pass_end_.disarm();
        (void)outbox_.flush();
    }

  private:
    static void on_pass_end(void* arg) noexcept { static_cast<SipdProcess*>(arg)->flush_sends(); }
    static void on_sip_readable(evutil_socket_t, short, void* arg) noexcept {
        auto* entry = static_cast<SipSocketEntry*>(arg);
        entry->owner->receive(*entry);
    }
    static void on_tick(evutil_socket_t, short, void* arg) noexcept {
        auto* self = static_cast<SipdProcess*>(arg);
        if (!self->proxy_) return;
        self->proxy_->expire(wall_now());
        self->save_now();  // at most once per tick: saves are coalesced
    }
    static void on_transaction_timer(evutil_socket_t, short, void* arg) noexcept {
        auto* self = static_cast<SipdProcess*>(arg);
        self->armed_at_ms_ = 0;
        if (!self->proxy_) return;
        self->proxy_->run_timers();
        self->arm_transaction_timer();
    }

    // One event timer for every transaction: set for the earliest deadline.
    void arm_transaction_timer() {
        if (!proxy_ || !txn_timer_) return;
        const int64_t next = proxy_->next_timer_ms();
        if (next == 0 || (armed_at_ms_ != 0 && armed_at_ms_ <= next)) return;
        const int64_t delay = std::max<int64_t>(0, next - monotonic_ms());
        const timeval tv{static_cast<time_t>(delay / 1000),
                         static_cast<suseconds_t>((delay % 1000) * 1000)};
        if (event_add(txn_timer_.get(), &tv) == 0) armed_at_ms_ = next;
    }

    void receive(SipSocketEntry& entry) {
        static char buf[65536];
        // A bounded number per wake-up so one socket cannot starve the rest.
        for (int i = 0; i < 64; ++i) {
            SipDatagram d;
            const SipReceive r = entry.sock.receive(buf, d);
            if (r == SipReceive::Dropped) continue;
            if (r != SipReceive::Datagram) {
                if (r == SipReceive::Error)
                    log_warning("recvmsg on %s: %s", entry.sock.local().to_string().c_str(),
                                std::strerror(entry.sock.error()));
                break;
            }
            if (!proxy_) continue;
            log_debug("%zu bytes from %s on the %s", d.size, d.from.to_string().c_str(),
                      side_name(d.side));
            proxy_->handle_datagram(std::string_view(buf, d.size), d.side, d.from, wall_now());
        }
        // Saved at once unless a save happened within the last second; the
        // timer writes what that left over, so a burst costs one write.
        if (monotonic_ms() - last_save_ms_ >= 1000) save_now();
    }

    // One framed message from a TCP connection.
    void receive_stream(std::string_view message, Side side, const SockAddr& peer) {
        if (!proxy_) return;
        log_debug("%zu bytes over TCP from %s on the %s", message.size(), peer.to_string().c_str(),
                  side_name(side));
        proxy_->handle_message(message, side, Transport::Tcp, peer, wall_now());
        if (monotonic_ms() - last_save_ms_ >= 1000) save_now();
    }

    // Queued for the end of this loop pass (SipOutbox): the datagrams of a
    // pass leave together, in order.
    void send(Side side, const SockAddr& dest, std::string_view data) {
        for (const auto& s : sockets_) {
            if (s->sock.side() != side || s->sock.local().family() != dest.family()) continue;
            outbox_.queue(s->sock.fd(), dest, data);
            if (pass_end_.valid())
                pass_end_.arm();
            else
                flush_sends();
            return;
        }
        log_warning("no %s socket for %s", side_name(side), dest.to_string().c_str());
    }

    // The UDP socket whose address `side` advertises: IPv4 before IPv6;
    // nullptr when that side has no address now.
    const SipSideSocket* socket_of(Side side) const {
        const SipSideSocket* found = nullptr;
        for (const auto& s : sockets_) {
            if (s->sock.side() != side) continue;
            if (s->sock.local().is_v4()) return &s->sock;
            if (found == nullptr) found = &s->sock;
        }
        return found;
    }

    // What the addresses of the sockets held now (and host_outbound) make
    // of the settings: the part change_addresses() replaces. Dual stack: a
    // side's address of the other family too (never a link-local one).
    void fill_addresses(SipProxySettings& s) const {
        const Config& cfg = runtime_.config();
        const SipSideSocket* in = socket_of(Side::Inside);
        const SipSideSocket* out = socket_of(Side::Outside);
        s.inside_local = in != nullptr ? in->local() : SockAddr();
        s.outside_local = out != nullptr ? out->local() : SockAddr();
        s.outside_advertised = advertised_ ? *advertised_ : s.outside_local;
        const auto host_of = [](const SockAddr& a) { return a.valid() ? a.host_string() : ""; };
        s.policy.us.inside = {host_of(s.inside_local), cfg.sip_listen_port};
        s.policy.us.outside = {host_of(s.outside_advertised), cfg.sip_listen_port};
        s.policy.us.inside_other_family = {};
        s.policy.us.outside_other_family = {};
        s.inside_local_other_family = SockAddr();
        s.outside_local_other_family = SockAddr();
        if (in != nullptr)
            if (const SipSideSocket* in2 =
                    other_family_socket(Side::Inside, in->local().family())) {
                s.policy.us.inside_other_family = {in2->local().host_string(), cfg.sip_listen_port};
                s.inside_local_other_family = in2->local();
            }
        if (s.outside_advertised.valid()) {
            if (const SipSideSocket* out2 =
                    other_family_socket(Side::Outside, s.outside_advertised.family())) {
                s.policy.us.outside_other_family = {out2->local().host_string(),
                                                    cfg.sip_listen_port};
                s.outside_local_other_family = out2->local();
            }
            // The relay address behind host_outbound is the one of its family.
            for (const auto& sock : sockets_)
                if (sock->sock.side() == Side::Outside &&
                    sock->sock.local().family() == s.outside_advertised.family()) {
                    s.outside_local = sock->sock.local();
                    break;
                }
        }
        s.policy.us.aliases.clear();
        for (const auto& sock : sockets_)
            s.policy.us.aliases.push_back(sock->sock.local().host_string());
        if (!cfg.host_outbound.empty()) s.policy.us.aliases.push_back(cfg.host_outbound);
        s.policy.public_host = cfg.host_outbound.empty()
                                   ? host_of(out != nullptr ? out->local() : SockAddr())
                                   : cfg.host_outbound;
        std::vector<SockAddr> ins, outs, adv;
        for (const auto& sock : sockets_)
            (sock->sock.side() == Side::Inside ? ins : outs).push_back(sock->sock.local());
        if (advertised_) adv.push_back(*advertised_);
        s.peers = make_peer_policy(s.policy.inside_networks, ins, outs, adv);
        if (s.policy.us.inside_other_family.empty() && s.policy.us.outside_other_family.empty())
            log_info("SIP: one address family per side");
        else
            log_info("SIP: dual stack: inside %s%s%s, outside %s%s%s",
                     s.policy.us.inside.host.c_str(),
                     s.policy.us.inside_other_family.empty() ? "" : " and ",
                     s.policy.us.inside_other_family.host.c_str(), s.policy.us.outside.host.c_str(),
                     s.policy.us.outside_other_family.empty() ? "" : " and ",
                     s.policy.us.outside_other_family.host.c_str());
    }

    // LOCAL_ADDRESS: an address came (its sockets are here already) or
    // went (its sockets close); what sipd advertises follows.
    void local_address(const proto::LocalAddressMsg& m) {
        const auto addr = proto::from_wire(m.local);
        if (!addr) return;
        const Side side = m.side == proto::kSideOutside ? Side::Outside : Side::Inside;
        InterfaceRef& ref = side == Side::Inside ? interfaces_.inside : interfaces_.outside;
        if (m.change == proto::kAddressCame && m.ifindex != 0 && ref.index != 0 &&
            m.ifindex != ref.index) {
            // Trust by interface follows it (a PPPoE link is a new interface each time).
            log_notice("%s interface %s is now index %u (was %u)", side_name(side),
                       ref.name.c_str(), m.ifindex, ref.index);
            ref.index = m.ifindex;
            for (auto& e : sockets_) e->sock.set_interfaces(interfaces_);
        }
        if (m.change == proto::kAddressGone) {
            flush_sends();  // nothing queued may outlive its socket
            const size_t udp = std::erase_if(sockets_, [&](const auto& e) {
                return e->sock.side() == side && e->sock.local().same_host(*addr);
            });
            const size_t tcp = tcp_.remove_listeners(side, *addr);
            log_info("%s address %s went: %zu UDP sockets and %zu TCP listeners closed",
                     side_name(side), addr->host_string().c_str(), udp, tcp);
        }
        addresses_changed();
    }

    void addresses_changed() {
        if (!proxy_) return maybe_start();
        SipProxySettings next;
        next.policy.inside_networks = networks_;
        fill_addresses(next);
        proxy_->change_addresses(next);
        if (!next.outside_local.valid())
            log_notice(
                "no outside address now: requests that must go out are answered 503 until one "
                "comes");
    }

    // Dual stack: the side's first socket of another family than `family`
    // whose address may be advertised (never an IPv6 link-local one).
    const SipSideSocket* other_family_socket(Side side, int family) const {
        for (const auto& s : sockets_) {
            const SockAddr& a = s->sock.local();
            if (s->sock.side() != side || a.family() == family) continue;
            if (a.is_link_local()) continue;
            return &s->sock;
        }
        return nullptr;
    }

    void maybe_start() {
        // Every worker's channel comes in the parent's first burst.
        if (proxy_ || !state_dir_ || peers_seen_.empty() ||
            std::find(peers_seen_.begin(), peers_seen_.end(), false) != peers_seen_.end())
            return;
        // The phones' side is needed; the outside may come later (down,
        // waiting for DHCP or PPPoE).
        const SipSideSocket* in = socket_of(Side::Inside);
        if (in == nullptr) {
            log_notice("waiting for an inside address before serving the phones");
            return;
        }
        const Config& cfg = runtime_.config();
        SipProxySettings s;
        s.policy.local_domains = cfg.local_domains;
        s.policy.hosts_allow_reg = cfg.hosts_allow_reg;
        s.policy.hosts_allow_sip = cfg.hosts_allow_sip;
        s.policy.hosts_deny_sip = cfg.hosts_deny_sip;
        if (!cfg.outbound_proxy_host.empty())
            s.policy.outbound_proxy = {cfg.outbound_proxy_host, cfg.outbound_proxy_port};
        s.policy.outbound_proxy_transport =
            cfg.outbound_proxy_tcp ? Transport::Tcp : Transport::Udp;
        for (const OutboundDomain& od : cfg.outbound_domains)
            s.policy.outbound_domains.push_back(
                {od.names, {od.host, od.port}, od.tcp ? Transport::Tcp : Transport::Udp});
        s.policy.inside_networks = networks_;
        s.policy.provider_targets = provider_targets(cfg);
        s.fixes = provider_fixes(cfg);
        if (s.policy.inside_networks.empty())
            if (auto c = Cidr::parse(in->local().host_string()))
                s.policy.inside_networks.push_back(*c);
        networks_ = s.policy.inside_networks;  // for the settings of later addresses
        s.registrar.default_expires = cfg.default_expires;
        s.registrar.max_expires = cfg.max_expires;
        s.auth = auth_;
        s.resolver = resolver_;
        s.limits = proxy_limits(cfg);
        if (!cfg.outbound_proxy_host.empty()) s.provider_hosts.push_back(cfg.outbound_proxy_host);
        for (const OutboundDomain& od : cfg.outbound_domains) s.provider_hosts.push_back(od.host);
        fill_addresses(s);
        if (!s.outside_local.valid())
            log_notice(
                "no outside address yet: serving the phones; requests that must go out are "
                "answered 503 until one comes");
        {
            if (s.peers.loopback_only)
                log_notice(
                    "inside and outside are both on loopback: a test or development "
                    "set-up, peers are not told apart by network");
        }
        s.timers_changed = [this] { arm_transaction_timer(); };
        s.tcp_sender = [this](Side side, const SockAddr& dest, std::string_view data) {
            return tcp_.send(side, dest, data);
        };
        s.tcp_connected = [this](Side side, const SockAddr& peer) {
            return tcp_.connected_to(side, peer);
        };
        proxy_ = std::make_unique<SipProxy>(
            std::move(s), link_, [this](Side side, const SockAddr& dest, std::string_view data) {
                send(side, dest, data);
            });

        const std::string name = base_name(cfg.registration_file);
        const auto r =
            load_state(state_dir_.get(), name, proxy_->table(), &proxy_->contacts(), wall_now());
        if (r.error != 0 && r.error != -ENOENT)
            log_error("cannot read the registrations: %s", std::strerror(-r.error));
        else
            log_notice("loaded %zu registrations and %zu dialog contacts (%zu corrupt lines)",
                       r.loaded, proxy_->contacts().size(), r.skipped);
        adopt_listed();
        for (auto& sock : sockets_)
            if (event_add(sock->event.get(), nullptr) != 0) log_error("cannot watch a SIP socket");
        tcp_.start();
        txn_timer_.reset(event_new(runtime_.base(), -1, 0, &on_transaction_timer, this));
        if (!cfg.host_outbound.empty() && !SockAddr::parse(cfg.host_outbound) &&
            resolver_ != nullptr) {
            relookup_.reset(event_new(runtime_.base(), -1, 0, &on_relookup, this));
            schedule_relookup(0);  // at once, to learn the name's TTL
        }
        tick_.reset(event_new(runtime_.base(), -1, EV_PERSIST, &on_tick, this));
        const timeval one_second{1, 0};
        if (!tick_ || event_add(tick_.get(), &one_second) != 0) log_error("cannot start the timer");
        runtime_.send_ready();
    }

    // host_outbound as a name (dyndns): looked up again when its TTL runs
    // out, never sooner than kRelookupMinS apart nor later than kRelookupMaxS.
    static constexpr int64_t kRelookupMinS = 60;
    static constexpr int64_t kRelookupMaxS = 3600;

    static void on_relookup(evutil_socket_t, short, void* arg) noexcept {
        static_cast<SipdProcess*>(arg)->relookup();
    }

    void schedule_relookup(int64_t seconds) {
        const timeval tv{static_cast<time_t>(seconds), 0};
        if (relookup_ && event_add(relookup_.get(), &tv) != 0)
            log_error("cannot schedule the next lookup of host_outbound");
    }

    void relookup() {
        const std::string name = runtime_.config().host_outbound;
        resolver_->resolve_address(
            name, [this, name](std::optional<SockAddr> addr, const char* error) {
                const int64_t ttl = resolver_->seconds_left(name).value_or(kRelookupMaxS);
                schedule_relookup(addr ? std::clamp(ttl + 1, kRelookupMinS, kRelookupMaxS)
                                       : kRelookupMinS);
                if (!addr) {
                    log_warning(
                        "host_outbound %s: lookup failed (%s); still advertising %s", name.c_str(),
                        error,
                        advertised_ ? advertised_->host_string().c_str() : "the outside address");
                    return;
                }
                SockAddr found = *addr;
                found.set_port(0);
                if (advertised_ && advertised_->same_host(found)) return;
                log_notice("host_outbound %s is now %s (was %s); advertising it", name.c_str(),
                           found.host_string().c_str(),
                           advertised_ ? advertised_->host_string().c_str() : "unresolved");
                advertised_ = found;
                addresses_changed();
            });
    }

    void adopt_listed() {
        if (!proxy_) return;
        for (auto& [id, e] : adopted_) {
            proxy_->adopt_forward(id, e);
            log_notice("call %s: forward %u adopted from rtpd (ports %u/%u)", e.tag.c_str(), id,
                       e.inside_port, e.outside_port);
        }
        adopted_.clear();
    }

    ChildRuntime& runtime_;
    SideInterfaces interfaces_;
    NameResolver* resolver_;
    std::shared_ptr<const DigestAuth> auth_;
    std::vector<Cidr> networks_;
    std::optional<SockAddr> advertised_;
    RtpdWorkers link_;
    TcpTransport tcp_;
    std::unique_ptr<SipProxy> proxy_;
    std::vector<std::unique_ptr<SipSocketEntry>> sockets_;
    UniqueFd state_dir_;
    EventPtr tick_;
    EventPtr txn_timer_;
    EventPtr relookup_;             // host_outbound's next lookup
    int64_t armed_at_ms_ = 0;       // the deadline txn_timer_ is set for, 0 = not set
    std::vector<bool> peers_seen_;  // per rtpd worker: its first channel came
    std::vector<std::pair<uint32_t, MediaStart>> adopted_;
    RateLimit send_log_{5, 10000};
    SipOutbox outbox_;
    EndOfPass pass_end_{runtime_.base(), &on_pass_end, this};
    int64_t last_save_ms_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    ChildRuntime runtime(proto::Process::Sipd, "sipd", argc, argv);
    sip_parser_init();
    // Both need what the sandbox takes away (netlink, resolver files).
    std::vector<Cidr> networks = networks_of(runtime.config().inbound_addrs);
    std::optional<SockAddr> advertised = advertised_outside(runtime.config());
    std::shared_ptr<const DigestAuth> auth = digest_auth(runtime.config());
    // resolv.conf (or dns_server) and /etc/hosts are outside the jail.
    // Names resolve in the outside's first family, then in its other one
    // (a global IPv6 address; a link-local one reaches no next hop by name).
    const auto& outs = runtime.config().outbound_addrs;
    const int first_family = !outs.empty() && outs.front().is_v6() ? AF_INET6 : AF_INET;
    int other_family = AF_UNSPEC;
    for (const SockAddr& a : outs) {
        if (a.family() == first_family) continue;
        const auto* b =
            a.is_v6() ? reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr.s6_addr : nullptr;
        if (b == nullptr || !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80)) other_family = a.family();
    }
    std::unique_ptr<EvdnsResolver> resolver = EvdnsResolver::create(
        runtime.base(), runtime.config().dns_server, first_family, other_family);
    // Trust by interface: the interfaces' indexes come from getifaddrs.
    SideInterfaces interfaces =
        side_interfaces(runtime.config().if_inbound, runtime.config().if_outbound);
    runtime.enter_sandbox(sipd_syscall_rules());
    for (const Cidr& c : networks) log_info("inside network %s", c.to_string().c_str());
    if (interfaces.distinct())
        log_info("trust by interface: inside %s (index %u), outside %s (index %u)",
                 interfaces.inside.name.c_str(), interfaces.inside.index,
                 interfaces.outside.name.c_str(), interfaces.outside.index);
    else
        log_notice(
            "trust by interface is not possible on this set-up (inside %s, outside %s are not "
            "two interfaces): the side of a datagram is the socket it arrives on",
            interfaces.inside.index != 0 ? interfaces.inside.name.c_str() : "on no interface",
            interfaces.outside.index != 0 ? interfaces.outside.name.c_str() : "on no interface");

    SipdProcess process(runtime, std::move(networks), advertised, std::move(auth), resolver.get(),
                        std::move(interfaces));
    runtime.set_message_handler(
        [&](const proto::Message& msg, UniqueFd fd) { process.on_message(msg, std::move(fd)); });
    runtime.set_ctl_handler([&](CtlCommand c, bool json) { return process.ctl(c, json); });
    runtime.set_stop_handler([&] {
        process.flush_sends();
        process.save_now();
    });
    return runtime.run();
}
