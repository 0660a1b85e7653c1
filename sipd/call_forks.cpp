// Forking downstream (RFC 3261 §13.2.2.4, §16.7): each to-tag of an answer
// to a call's INVITE is an early dialog with its own media peer. Early
// media comes from the fork whose SDP came last; the first 2xx picks the
// winner, whose peers the relay then uses whatever came between, and the
// others' state is freed. A later 2xx of another fork goes to the caller,
// who ACKs and ends it; it never moves the media.
#include <algorithm>

#include "log.h"
#include "message_fields.h"
#include "sip_proxy.h"

namespace sipmasq {

namespace {

CallFork* find_fork(Call& call, std::string_view tag) {
    auto it = std::find_if(call.forks.begin(), call.forks.end(),
                           [tag](const CallFork& f) { return f.tag == tag; });
    return it == call.forks.end() ? nullptr : &*it;
}

}  // namespace

void note_fork(Call& call, const std::string& tag) {
    if (tag.empty() || find_fork(call, tag) != nullptr) return;
    if (call.forks.size() >= kMaxCallForks || tag.size() > kMaxForkTagLength) {
        log_debug("call %s: fork ignored (%zu forks already, tag of %zu bytes)",
                  call.call_id.c_str(), call.forks.size(), tag.size());
        return;
    }
    call.forks.push_back({tag, {}});
}

bool is_fork_tag(const Call& call, std::string_view tag) noexcept {
    if (tag.empty()) return false;
    return std::any_of(call.forks.begin(), call.forks.end(),
                       [tag](const CallFork& f) { return f.tag == tag; });
}

void remember_fork_peer(Call& call, std::string_view tag, size_t index, const ForkPeer& peer) {
    CallFork* fork = find_fork(call, tag);
    if (fork == nullptr) return;
    if (fork->peers.size() <= index) fork->peers.resize(index + 1);
    fork->peers[index] = peer;
}

bool bye_ends_call(Call& call, const osip_message_t* bye) {
    const std::string from = tag_of(bye->from);
    const std::string remote = from == call.from_tag ? tag_of(bye->to) : from;
    if (call.to_tag.empty() || remote == call.to_tag) return true;
    if (!is_fork_tag(call, remote)) return true;
    log_info("call %s: BYE ends the dialog of fork %s only", call.call_id.c_str(), remote.c_str());
    call.forks.erase(std::remove_if(call.forks.begin(), call.forks.end(),
                                    [&remote](const CallFork& f) { return f.tag == remote; }),
                     call.forks.end());
    return false;
}

void SipProxy::choose_fork(Call& call, const std::string& tag, const SockAddr& source) {
    call.to_tag = tag;
    // A phone that answered among several rung is the call's inside peer now.
    if (call.caller_side != call.callee_side)
        (call.callee_side == Side::Inside ? call.inside_addr : call.outside_hop) = source;
    CallFork* winner = find_fork(call, tag);
    if (winner != nullptr)
        for (size_t i = 0; i < winner->peers.size() && i < call.streams.size(); ++i) {
            CallStream& s = call.streams[i];
            const bool inside = call.callee_side == Side::Inside;
            SockAddr& current = inside ? s.inside_peer : s.outside_peer;
            uint16_t& current_rtcp = inside ? s.inside_rtcp : s.outside_rtcp;
            const ForkPeer& peer = winner->peers[i];
            if (!peer.addr.valid() || s.id == 0 ||
                (current == peer.addr && current_rtcp == peer.rtcp_port))
                continue;
            log_info("call %s: media of stream %zu back to the answering fork %s",
                     call.call_id.c_str(), i, tag.c_str());
            current = peer.addr;
            current_rtcp = peer.rtcp_port;
            media_.start(media_start(s, call.call_id), [id = s.id](const MediaResult& r) {
                if (!r.ok) log_warning("forward %u: fork switch failed: %s", id, r.error.c_str());
            });
        }
    call.forks.erase(std::remove_if(call.forks.begin(), call.forks.end(),
                                    [&tag](const CallFork& f) { return f.tag != tag; }),
                     call.forks.end());
    if (call.forks.empty() && !tag.empty()) call.forks.push_back({tag, {}});
}

}  // namespace sipmasq
