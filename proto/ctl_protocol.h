// The control protocol between sipmasqctl and the parent, and the request
// codes the parent passes on to the children (CTL_REQUEST.what).
//
// On the control socket (SOCK_STREAM, mode 0600, root only) the client
// sends one line "<command>[ json]\n" of at most kCtlMaxRequest bytes; the
// parent answers "OK\n" or "ERR <reason>\n", then the text, then closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sipmasq {

enum class CtlCommand : uint32_t {
    Status = 1,         // the parent answers
    Reload = 2,         // the parent answers
    Registrations = 3,  // sipd
    Calls = 4,          // sipd
    Streams = 5,        // rtpd
    Stats = 6,          // parent, sipd and rtpd
};

// Or'ed into CTL_REQUEST.what: answer in JSON instead of a table.
inline constexpr uint32_t kCtlJsonFlag = 0x100;
inline constexpr uint32_t kCtlCommandMask = 0xff;
inline constexpr size_t kCtlMaxRequest = 128;

struct CtlRequest {
    CtlCommand command;
    bool json = false;
};

[[nodiscard]] constexpr std::optional<CtlCommand> ctl_command_from_name(
    std::string_view name) noexcept {
    constexpr struct {
        std::string_view name;
        CtlCommand command;
    } kNames[] = {{"status", CtlCommand::Status},
                  {"reload", CtlCommand::Reload},
                  {"registrations", CtlCommand::Registrations},
                  {"calls", CtlCommand::Calls},
                  {"streams", CtlCommand::Streams},
                  {"stats", CtlCommand::Stats}};
    for (const auto& entry : kNames)
        if (entry.name == name) return entry.command;
    return std::nullopt;
}

// Parses "<command>[ json]" (without the newline). nullopt: not a request.
[[nodiscard]] constexpr std::optional<CtlRequest> parse_ctl_request(
    std::string_view line) noexcept {
    bool json = false;
    constexpr std::string_view kJson = " json";
    if (line.size() > kJson.size() && line.substr(line.size() - kJson.size()) == kJson) {
        json = true;
        line.remove_suffix(kJson.size());
    }
    const auto command = ctl_command_from_name(line);
    if (!command) return std::nullopt;
    return CtlRequest{*command, json};
}

}  // namespace sipmasq
