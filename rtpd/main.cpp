// sipmasq-rtpd: the RTP relay process. Started by sipmasq(8) only.
#include <cstdlib>
#include <memory>

#include "child_runtime.h"
#include "log.h"
#include "sandbox_policy.h"

using namespace sipmasq;

int main(int argc, char** argv) {
    ChildRuntime runtime(proto::Process::Rtpd, "rtpd", argc, argv);
    runtime.enter_sandbox(rtpd_syscall_rules());

    std::unique_ptr<proto::Channel> sipd;
    bool ready = false;
    runtime.set_message_handler([&](const proto::Message& msg, UniqueFd fd) {
        if (static_cast<proto::MsgType>(msg.header.type) != proto::MsgType::PeerChannel) return;
        sipd = std::make_unique<proto::Channel>(std::move(fd), proto::ChannelKind::SipdRtpd,
                                                proto::Process::Rtpd);
        log_debug("new channel to sipd");
        if (!ready) {
            ready = true;
            runtime.send_ready();
        }
    });
    return runtime.run();
}
