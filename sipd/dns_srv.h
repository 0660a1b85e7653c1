// RFC 3263 §4.2 needs SRV records, which libevent 2.1's evdns cannot ask
// for: a small DNS message encoder and a strict decoder for SRV answers
// (RFC 1035 §4, RFC 2782). The decoder reads hostile network input: every
// length is checked against the packet, compression pointers only point
// backwards and are followed a bounded number of times.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipmasq {

struct SrvRecord {
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    uint32_t ttl = 0;
    std::string target;  // lower case, no trailing dot; "." = no service
};

struct SrvAnswer {
    bool nxdomain = false;           // RCODE 3
    std::vector<SrvRecord> records;  // for the asked name only; may be empty
};

// `_sip._udp.example.test` -> the query (RD set, QTYPE SRV, QCLASS IN);
// empty when the name cannot be encoded (empty label, label > 63, > 253).
[[nodiscard]] std::vector<uint8_t> build_srv_query(uint16_t id, std::string_view name);

// 0 and `out` filled, or -EBADMSG (malformed, wrong id, not an answer to
// `name`, truncated, RCODE other than 0 and 3).
[[nodiscard]] int parse_srv_answer(std::span<const uint8_t> packet, uint16_t id,
                                   std::string_view name, SrvAnswer& out);

// RFC 2782 selection of the record to try first: the lowest priority, then
// by weight with `random` (any 32-bit value). nullptr when there is none
// usable ("." targets are skipped).
[[nodiscard]] const SrvRecord* pick_srv(const std::vector<SrvRecord>& records, uint32_t random);

// Every usable record in the order RFC 2782 says to try them: priorities
// lowest first, within one priority picked by weight (pick_srv) one after
// another, `random` seeding the picks.
[[nodiscard]] std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, uint32_t random);

}  // namespace sipmasq
