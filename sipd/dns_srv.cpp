#include "dns_srv.h"

#include <cerrno>
#include <optional>

#include "sip_types.h"

namespace sipmasq {
namespace {

constexpr uint16_t kTypeSrv = 33;
constexpr uint16_t kClassIn = 1;
constexpr size_t kHeader = 12;
constexpr size_t kMaxName = 253;     // text form, without the trailing dot
constexpr int kMaxPointerHops = 16;  // a name needs few; a loop needs many

uint16_t get16(std::span<const uint8_t> p, size_t at) {
    return static_cast<uint16_t>((p[at] << 8) | p[at + 1]);
}

uint32_t get32(std::span<const uint8_t> p, size_t at) {
    return (static_cast<uint32_t>(get16(p, at)) << 16) | get16(p, at + 2);
}

// A host-name-ish label: what can safely become a name to look up.
bool plain_label(std::string_view label) {
    for (const char c : label) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

// Reads the name at `at` into `out` (lower case, "" for the root) and sets
// `next` to the first byte after it in the packet; false when malformed.
bool read_name(std::span<const uint8_t> p, size_t at, std::string& out, size_t& next) {
    out.clear();
    bool jumped = false;
    int hops = 0;
    for (;;) {
        if (at >= p.size()) return false;
        const uint8_t len = p[at];
        if ((len & 0xc0) == 0xc0) {
            if (at + 1 >= p.size()) return false;
            const size_t target = static_cast<size_t>(get16(p, at) & 0x3fff);
            // Only backwards: a pointer to itself or ahead could loop.
            if (target >= at || ++hops > kMaxPointerHops) return false;
            if (!jumped) next = at + 2;
            jumped = true;
            at = target;
            continue;
        }
        if ((len & 0xc0) != 0) return false;  // 0x40, 0x80: no such label types
        if (len == 0) {
            if (!jumped) next = at + 1;
            return true;
        }
        if (at + 1 + len > p.size()) return false;
        const std::string_view label(reinterpret_cast<const char*>(p.data() + at + 1), len);
        if (!plain_label(label)) return false;
        if (out.size() + (out.empty() ? 0 : 1) + len > kMaxName) return false;
        if (!out.empty()) out += '.';
        out += ascii_lower(label);
        at += 1 + len;
    }
}

}  // namespace

std::vector<uint8_t> build_srv_query(uint16_t id, std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.empty() || name.size() > kMaxName) return {};
    std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8),
                              static_cast<uint8_t>(id),
                              0x01,
                              0x00,
                              0,
                              1,
                              0,
                              0,
                              0,
                              0,
                              0,
                              0};  // RD; QDCOUNT 1
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        const std::string_view label = name.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || !plain_label(label)) return {};
        q.push_back(static_cast<uint8_t>(label.size()));
        q.insert(q.end(), label.begin(), label.end());
        start = dot + 1;
    }
    q.push_back(0);
    q.insert(q.end(), {0, kTypeSrv, 0, kClassIn});
    return q;
}

int parse_srv_answer(std::span<const uint8_t> p, uint16_t id, std::string_view name,
                     SrvAnswer& out) {
    out = {};
    if (p.size() < kHeader) return -EBADMSG;
    if (get16(p, 0) != id) return -EBADMSG;
    const uint8_t flags = p[2];
    if ((flags & 0x80) == 0) return -EBADMSG;  // QR: not a response
    if ((flags & 0x78) != 0) return -EBADMSG;  // opcode other than QUERY
    if ((flags & 0x02) != 0) return -EBADMSG;  // TC: UDP only, a cut answer is no answer
    const uint8_t rcode = p[3] & 0x0f;
    if (rcode != 0 && rcode != 3) return -EBADMSG;
    if (get16(p, 4) != 1) return -EBADMSG;  // QDCOUNT
    const uint16_t ancount = get16(p, 6);

    std::string asked = ascii_lower(name);
    if (!asked.empty() && asked.back() == '.') asked.pop_back();
    std::string owner;
    size_t at = kHeader;
    if (!read_name(p, at, owner, at) || owner != asked) return -EBADMSG;
    if (at + 4 > p.size() || get16(p, at) != kTypeSrv || get16(p, at + 2) != kClassIn)
        return -EBADMSG;
    at += 4;
    if (rcode == 3) {
        out.nxdomain = true;
        return 0;
    }
    for (uint16_t i = 0; i < ancount; ++i) {
        if (!read_name(p, at, owner, at)) return -EBADMSG;
        if (at + 10 > p.size()) return -EBADMSG;
        const uint16_t type = get16(p, at);
        const uint16_t klass = get16(p, at + 2);
        const uint32_t ttl = get32(p, at + 4);
        const size_t rdlen = get16(p, at + 8);
        at += 10;
        if (at + rdlen > p.size()) return -EBADMSG;
        const size_t rdend = at + rdlen;
        // Anything else (a CNAME, another name's records) is not used.
        if (type == kTypeSrv && klass == kClassIn && owner == asked) {
            if (rdlen < 7) return -EBADMSG;
            SrvRecord r;
            r.priority = get16(p, at);
            r.weight = get16(p, at + 2);
            r.port = get16(p, at + 4);
            r.ttl = ttl > 0x7fffffffu ? 0 : ttl;  // RFC 2181 §8: top bit set means 0
            size_t after = 0;
            if (!read_name(p.first(rdend), at + 6, r.target, after) || after != rdend)
                return -EBADMSG;
            if (r.target.empty()) r.target.push_back('.');  // the root: "no service here"
            out.records.push_back(std::move(r));
        }
        at = rdend;
    }
    return 0;
}

const SrvRecord* pick_srv(const std::vector<SrvRecord>& records, uint32_t random) {
    auto usable = [](const SrvRecord& r) { return r.target != "." && r.port != 0; };
    std::optional<uint16_t> best;
    for (const SrvRecord& r : records)
        if (usable(r) && (!best || r.priority < *best)) best = r.priority;
    if (!best) return nullptr;
    // RFC 2782: weight-0 records first, a number in [0, sum of weights],
    // the first record whose running sum reaches it.
    std::vector<const SrvRecord*> set;
    for (const SrvRecord& r : records)
        if (usable(r) && r.priority == *best && r.weight == 0) set.push_back(&r);
    for (const SrvRecord& r : records)
        if (usable(r) && r.priority == *best && r.weight != 0) set.push_back(&r);
    uint64_t total = 0;
    for (const SrvRecord* r : set) total += r->weight;
    const uint64_t point = random % (total + 1);
    uint64_t sum = 0;
    for (const SrvRecord* r : set) {
        sum += r->weight;
        if (sum >= point) return r;
    }
    return set.back();
}

std::vector<SrvRecord> order_srv(std::vector<SrvRecord> records, uint32_t random) {
    std::vector<SrvRecord> order;
    while (const SrvRecord* next = pick_srv(records, random)) {
        order.push_back(*next);
        records.erase(records.begin() + (next - records.data()));
        random = random * 1664525u + 1013904223u;  // another pick, another number
    }
    return order;
}

}  // namespace sipmasq
