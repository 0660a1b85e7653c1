// libFuzzer target for sipd's SRV answer decoder (DNS answers are network
// input): the packet's own id is used as the one asked for, so the fuzzer
// gets past the id check and into the names and records.
#include <cstddef>
#include <cstdint>
#include <span>

#include "dns_srv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sipmasq;
    const std::span<const uint8_t> packet(data, size);
    const uint16_t id = size >= 2 ? static_cast<uint16_t>(data[0] << 8 | data[1]) : 0;
    for (const char* name : {"_sip._udp.example.test", "_sip._udp.provider.example.test"}) {
        SrvAnswer answer;
        if (parse_srv_answer(packet, id, name, answer) != 0) continue;
        for (uint32_t random : {0u, 1u, 0xffffffffu}) {
            const SrvRecord* pick = pick_srv(answer.records, random);
            if (pick != nullptr && pick->target.empty()) __builtin_trap();
        }
    }
    // The query builder on the input as a name.
    (void)build_srv_query(id, std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
