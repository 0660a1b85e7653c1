// sipmasq-rtpd: the RTP relay process. Started by sipmasq(8) only.
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>

#include "child_runtime.h"
#include "clock.h"
#include "codec.h"
#include "interfaces.h"
#include "log.h"
#include "peer_policy.h"
#include "relay.h"
#include "relay_report.h"
#include "rtp_workers.h"
#include "sandbox_policy.h"
#include "side_interfaces.h"
#include "sipd_link.h"

using namespace sipmasq;

namespace {

// Descriptors kept aside for the channels, stdio and libevent.
constexpr rlim_t kReservedFds = 64;

// The engine's settings from the configuration. The number of forwards is
// bounded by the port pairs of the range (one pair per relay address per
// forward) and by the descriptors (four per forward); past either bound
// START_FWD fails cleanly instead of the process running out.
RelayConfig relay_config(const Config& c, const RtpWorker& worker) {
    RelayConfig r;
    r.port_low = worker.ports.low;
    r.port_high = worker.ports.high;
    r.rtp_timeout_s = c.rtp_timeout;
    r.no_bidir_timeout_s = c.rtp_no_bidir_timeout;
    r.max_duration_s = c.rtp_max_duration;
    r.quarantine_s = c.rtp_quarantine;
    r.source_mode = c.rtp_source_mode;
    r.latch_window_ms = c.rtp_latch_window_ms;
    r.dscp = c.rtp_dscp;

    const uint32_t pairs = worker.ports.pairs();
    rlimit nofile{};
    rlim_t fds = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
        fds = nofile.rlim_cur;
    else if (nofile.rlim_cur == RLIM_INFINITY)
        fds = 1u << 20;
    const rlim_t by_fds = fds > kReservedFds ? (fds - kReservedFds) / 4 : 1;
    r.max_forwards = static_cast<uint32_t>(std::max<rlim_t>(1, std::min<rlim_t>(pairs, by_fds)));
    // Parked sockets (kept open for the next forward on their pair) share
    // the same descriptors; the reserve stays for the channels.
    r.max_sockets = static_cast<uint32_t>(
        std::clamp<rlim_t>(fds > kReservedFds ? fds - kReservedFds : 4, 4, UINT32_MAX));
    log_notice(
        "rtpd: worker %u of %u, ports %u-%u (%u pairs per address), descriptor limit %llu: at "
        "most %u forwards, %u relay sockets open",
        worker.index, worker.count, r.port_low, r.port_high, pairs,
        static_cast<unsigned long long>(fds), r.max_forwards, r.max_sockets);
    return r;
}

// Which worker this is and its slice of the range: "-w INDEX:LOW-HIGH" from
// the parent, or the whole range as the only worker (started by a test).
std::optional<RtpWorker> worker_of(const std::string& arg, const Config& c) {
    if (arg.empty())
        return RtpWorker{
            0,
            1,
            {c.rtp_port_low,
             static_cast<uint16_t>(c.rtp_port_low +
                                   2 * port_pairs(c.rtp_port_low, c.rtp_port_high) - 1)}};
    const size_t colon = arg.find(':');
    if (colon == std::string::npos) return std::nullopt;
    uint32_t index = 0;
    const std::string_view number(arg.data(), colon);
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), index);
    const auto slice = PortSlice::parse(std::string_view(arg).substr(colon + 1));
    if (ec != std::errc() || end != number.data() + number.size() || number.empty() || !slice ||
        index >= kMaxRtpWorkers || slice->pairs() < kMinPairsPerWorker)
        return std::nullopt;
    return RtpWorker{index, 0, *slice};
}

// Where the relay sockets are bound and which peers they may serve. Both
// need getifaddrs (netlink), which the sandbox takes away.
void add_sides(const Config& c, RelayConfig& r) {
    const SideInterfaces sides = side_interfaces(c.if_inbound, c.if_outbound);
    if (sides.distinct()) {
        r.inside_device = sides.inside.name;
        r.outside_device = sides.outside.name;
        log_info("rtpd: inside relay sockets bound to %s, outside ones to %s",
                 r.inside_device.c_str(), r.outside_device.c_str());
    } else {
        log_notice(
            "rtpd: relay sockets not bound to an interface (inside %s, outside %s are not two "
            "interfaces)",
            sides.inside.index != 0 ? sides.inside.name.c_str() : "on no interface",
            sides.outside.index != 0 ? sides.outside.name.c_str() : "on no interface");
    }
    std::vector<SockAddr> advertised;
    if (auto a = SockAddr::parse(c.host_outbound)) advertised.push_back(*a);
    r.peers = make_peer_policy(networks_of(c.inbound_addrs), c.inbound_addrs, c.outbound_addrs,
                               advertised);
}

}  // namespace

int main(int argc, char** argv) {
    ChildRuntime runtime(proto::Process::Rtpd, "rtpd", argc, argv);
    std::optional<RtpWorker> worker = worker_of(runtime.worker_arg(), runtime.config());
    if (!worker) {
        log_error("rtpd: bad worker argument '%s' (INDEX:LOW-HIGH expected)",
                  runtime.worker_arg().c_str());
        return EXIT_FAILURE;
    }
    // The count comes with PEER_CHANNEL; until then what the file says.
    if (worker->count == 0) worker->count = rtp_worker_count(runtime.config());
    // Read before the sandbox: getrlimit is not on the allow-list.
    RelayConfig cfg = relay_config(runtime.config(), *worker);
    add_sides(runtime.config(), cfg);
    // The relay opens its sockets later, which the sandbox allows.
    runtime.enter_sandbox(rtpd_syscall_rules());

    Relay relay(runtime.base(), cfg);
    SipdLink sipd(runtime.base(), relay);
    relay.set_timeout_handler(
        [&sipd](uint32_t id, TimeoutReason reason) { sipd.on_timeout(id, reason); });

    bool ready = false;
    runtime.set_message_handler([&](const proto::Message& msg, UniqueFd fd) {
        if (msg.type() == proto::MsgType::LocalAddress) {
            const auto m = proto::payload_as<proto::LocalAddressMsg>(msg);
            if (const auto addr = proto::from_wire(m.local)) {
                relay.set_own_address(*addr, m.change == proto::kAddressCame);
                log_info(
                    "rtpd: %s address %s %s", m.side == proto::kSideOutside ? "outside" : "inside",
                    addr->host_string().c_str(), m.change == proto::kAddressCame ? "came" : "went");
            }
            return;
        }
        if (msg.type() != proto::MsgType::PeerChannel) return;
        const auto peer = proto::payload_as<proto::PeerChannelMsg>(msg);
        if (peer.worker != worker->index) {
            log_error("rtpd: worker %u was handed worker %u's channel; ignored", worker->index,
                      peer.worker);
            return;
        }
        worker->count = peer.workers;
        // sipd (re)started: talk to the new one, keep every forward.
        sipd.attach(std::move(fd));
        if (!ready) {
            ready = true;
            runtime.send_ready();
        }
    });
    runtime.set_ctl_handler([&](CtlCommand command, bool json) -> std::string {
        switch (command) {
            case CtlCommand::Streams:
                return format_streams(
                    relay.list(),
                    [&sipd](uint32_t id) -> const std::string& { return sipd.tag_of(id); },
                    monotonic_ms(), worker->index, json);
            case CtlCommand::Stats:
                return format_stats(relay.stats(), *worker, json);
            default:
                return json ? "{\"error\":\"not an rtpd command\"}\n" : "not an rtpd command\n";
        }
    });
    runtime.set_stop_handler(
        [&relay] { log_notice("rtpd: stopping with %zu forwards", relay.size()); });
    return runtime.run();
}
