// sipmasq-sipd: the SIP signalling process. Started by sipmasq(8) only.
#include <cstdlib>
#include <memory>
#include <vector>

#include "child_runtime.h"
#include "log.h"
#include "sandbox_policy.h"

using namespace sipmasq;

int main(int argc, char** argv) {
    ChildRuntime runtime(proto::Process::Sipd, "sipd", argc, argv);
    runtime.enter_sandbox(sipd_syscall_rules());

    std::unique_ptr<proto::Channel> rtpd;
    std::vector<UniqueFd> sip_sockets;
    UniqueFd state_dir;
    bool ready = false;
    runtime.set_message_handler([&](const proto::Message& msg, UniqueFd fd) {
        switch (static_cast<proto::MsgType>(msg.header.type)) {
            case proto::MsgType::PeerChannel:
                rtpd = std::make_unique<proto::Channel>(std::move(fd), proto::ChannelKind::SipdRtpd,
                                                        proto::Process::Sipd);
                log_debug("new channel to rtpd");
                break;
            case proto::MsgType::SipSocket:
                sip_sockets.push_back(std::move(fd));
                break;
            case proto::MsgType::StateDir:
                state_dir = std::move(fd);
                break;
            default:
                return;
        }
        if (!ready && rtpd && !sip_sockets.empty() && state_dir) {
            ready = true;
            runtime.send_ready();
        }
    });
    return runtime.run();
}
