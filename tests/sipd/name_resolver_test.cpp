// Next hops that are names: SipProxy holds the request until the resolver
// answers, then forwards it there; a failed lookup is answered 504. The
// SRV message encoder/decoder (dns_srv.h) on crafted packets.
#include "name_resolver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include "event_ptr.h"
#include "osip_ptr.h"
#include "sip_proxy.h"
#include "sip_samples.h"

namespace sipmasq {
namespace {

TEST(Hosts, ParsesTheFirstAddressOfTheFamily) {
    const auto h = parse_hosts(
        "127.0.0.1 localhost\n::1 localhost ip6-localhost\n# c\n198.51.100.7 Sip.Example.test "
        "alias # x\n198.51.100.8 sip.example.test\n",
        AF_INET);
    EXPECT_EQ(h.at("localhost").host_string(), "127.0.0.1");
    EXPECT_EQ(h.at("sip.example.test").host_string(), "198.51.100.7");
    EXPECT_EQ(h.at("alias").host_string(), "198.51.100.7");
    EXPECT_EQ(h.count("ip6-localhost"), 0u);
}

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

// The query for _sip._udp.provider.example.test turned into an answer
// header: id, QR|RD, RA|rcode, QDCOUNT 1, ANCOUNT `an`.
Bytes answer_head(uint16_t id, uint8_t rcode, uint16_t an) {
    Bytes b = build_srv_query(id, "_sip._udp.provider.example.test");
    b[2] = 0x81;
    b[3] = static_cast<uint8_t>(0x80 | rcode);
    b[6] = static_cast<uint8_t>(an >> 8);
    b[7] = static_cast<uint8_t>(an);
    return b;
}

// An SRV RR whose owner is the question's name (a pointer to offset 12).
void srv_rr(Bytes& b, uint16_t prio, uint16_t weight, uint16_t port, uint32_t ttl,
            const Bytes& target) {
    b.insert(b.end(), {0xc0, 12});
    put16(b, 33);
    put16(b, 1);
    put16(b, static_cast<uint16_t>(ttl >> 16));
    put16(b, static_cast<uint16_t>(ttl));
    put16(b, static_cast<uint16_t>(6 + target.size()));
    put16(b, prio);
    put16(b, weight);
    put16(b, port);
    b.insert(b.end(), target.begin(), target.end());
}

// "bob" then a pointer to "example.test" inside the question (offset 31:
// 12 + len("_sip")+1 + len("_udp")+1 + len("provider")+1).
const Bytes kBobCompressed = {3, 'b', 'o', 'b', 0xc0, 31};
const Bytes kAliceFull = {5,   'a', 'l', 'i', 'c', 'e', 7,   'e', 'x', 'a',
                          'm', 'p', 'l', 'e', 4,   't', 'e', 's', 't', 0};
const std::string kAsked = "_sip._udp.provider.example.test";

// RFC 3263 4.2: SRV only for a next hop without an explicit port (5060 is
// all HostPort can tell of that); with another port, the address alone.
class RecordingResolver final : public NameResolver {
  public:
    std::vector<std::string> calls;
    void resolve(const std::string& name, Transport transport, Done done) override {
        calls.push_back(std::string("srv+a ") + transport_name(transport) + " " + name);
        done(std::nullopt, "test");
    }
    void resolve_address(const std::string& name, Done done) override {
        calls.push_back("a " + name);
        done(std::nullopt, "test");
    }
};

TEST(ResolveHop, SrvOnlyWithoutAnExplicitPort) {
    RecordingResolver r;
    auto ignore = [](std::optional<SockAddr>, const char*) {};
    r.resolve_hop(HostPort{"provider.example.test", 5060}, Transport::Udp, ignore);
    r.resolve_hop(HostPort{"proxy.example.test", 5070}, Transport::Udp, ignore);
    r.resolve_hop(HostPort{"provider.example.test", 5060}, Transport::Tcp, ignore);
    ASSERT_EQ(r.calls.size(), 3u);
    EXPECT_EQ(r.calls[0], "srv+a UDP provider.example.test");
    EXPECT_EQ(r.calls[1], "a proxy.example.test");
    EXPECT_EQ(r.calls[2], "srv+a TCP provider.example.test");
}

TEST(DnsSrv, QueryHasIdRdAndTypeSrv) {
    const Bytes q = build_srv_query(0xbeef, "_sip._udp.A.test");
    const Bytes want = {0xbe, 0xef, 0x01, 0,   0,   1, 0,   0,   0,   0,   0, 0,
                        4,    '_',  's',  'i', 'p', 4, '_', 'u', 'd', 'p', 1, 'A',
                        4,    't',  'e',  's', 't', 0, 0,   33,  0,   1};
    EXPECT_EQ(q, want);
    EXPECT_TRUE(build_srv_query(1, "a..test").empty());
    EXPECT_TRUE(build_srv_query(1, std::string(64, 'a') + ".test").empty());
    EXPECT_TRUE(build_srv_query(1, "a b.test").empty());
}

TEST(DnsSrv, TwoRecordsWithCompressionAndPriorityThenWeight) {
    Bytes b = answer_head(0x1234, 0, 3);
    srv_rr(b, 20, 0, 5080, 300, kAliceFull);
    srv_rr(b, 10, 60, 5070, 120, kBobCompressed);
    srv_rr(b, 10, 40, 5072, 100, kAliceFull);
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 0x1234, "_SIP._udp.Provider.example.test", a), 0);
    EXPECT_FALSE(a.nxdomain);
    ASSERT_EQ(a.records.size(), 3u);
    EXPECT_EQ(a.records[0].target, "alice.example.test");
    EXPECT_EQ(a.records[0].priority, 20);
    EXPECT_EQ(a.records[0].port, 5080);
    EXPECT_EQ(a.records[0].ttl, 300u);
    EXPECT_EQ(a.records[1].target, "bob.example.test");
    EXPECT_EQ(a.records[1].weight, 60);
    EXPECT_EQ(a.records[1].port, 5070);
    // Priority 10 wins over 20; within it, weights 60/40 split [0, 100].
    int bob = 0, alice = 0;
    for (uint32_t r = 0; r < 101; ++r) {
        const SrvRecord* p = pick_srv(a.records, r);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->priority, 10);
        (p->port == 5070 ? bob : alice)++;
    }
    EXPECT_EQ(bob, 61);  // 0..60
    EXPECT_EQ(alice, 40);
    EXPECT_EQ(pick_srv({}, 7), nullptr);
}

TEST(DnsSrv, OtherRecordsAndNamesAreSkipped) {
    Bytes b = answer_head(7, 0, 2);
    // A CNAME-typed RR for the name, then an SRV for another owner.
    b.insert(b.end(), {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60});
    put16(b, static_cast<uint16_t>(kAliceFull.size()));
    b.insert(b.end(), kAliceFull.begin(), kAliceFull.end());
    const size_t other = b.size();
    b.insert(b.end(), kAliceFull.begin(), kAliceFull.end());
    b.insert(b.end(), {0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 1, 0x13, 0xc4});
    b.insert(b.end(), {0xc0, static_cast<uint8_t>(other)});
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 7, kAsked, a), 0);
    EXPECT_TRUE(a.records.empty());
}

TEST(DnsSrv, PointerLoopFails) {
    Bytes b = answer_head(9, 0, 1);
    const size_t at = b.size();
    // The owner is a pointer to itself.
    b.insert(b.end(), {0xc0, static_cast<uint8_t>(at)});
    b.insert(b.end(), {0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 1, 0x13, 0xc4, 0xc0, 12});
    SrvAnswer a;
    EXPECT_EQ(parse_srv_answer(b, 9, kAsked, a), -EBADMSG);
    // Two labels pointing at each other, forwards then backwards.
    Bytes c = answer_head(9, 0, 1);
    const size_t x = c.size();
    c.insert(c.end(),
             {1, 'x', 0xc0, static_cast<uint8_t>(x + 4), 1, 'y', 0xc0, static_cast<uint8_t>(x)});
    c.insert(c.end(), {0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 1, 0x13, 0xc4, 0xc0, 12});
    EXPECT_EQ(parse_srv_answer(c, 9, kAsked, a), -EBADMSG);
}

TEST(DnsSrv, TruncatedPacketsFailAtEveryLength) {
    Bytes b = answer_head(0x55aa, 0, 2);
    srv_rr(b, 10, 60, 5070, 120, kBobCompressed);
    srv_rr(b, 10, 40, 5072, 100, kAliceFull);
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 0x55aa, kAsked, a), 0);
    for (size_t n = 0; n < b.size(); ++n)
        EXPECT_EQ(parse_srv_answer(std::span<const uint8_t>(b.data(), n), 0x55aa, kAsked, a),
                  -EBADMSG)
            << n;
    // An RDLENGTH past the end; one that cuts the target short.
    Bytes c = answer_head(1, 0, 1);
    srv_rr(c, 1, 1, 5060, 60, kAliceFull);
    c[c.size() - kAliceFull.size() - 7] = 0xff;
    EXPECT_EQ(parse_srv_answer(c, 1, kAsked, a), -EBADMSG);
    Bytes d = answer_head(1, 0, 1);
    srv_rr(d, 1, 1, 5060, 60, kAliceFull);
    d[d.size() - kAliceFull.size() - 7] = 10;
    EXPECT_EQ(parse_srv_answer(d, 1, kAsked, a), -EBADMSG);
    // The TC bit: no answer over UDP.
    Bytes t = b;
    t[2] |= 0x02;
    EXPECT_EQ(parse_srv_answer(t, 0x55aa, kAsked, a), -EBADMSG);
}

TEST(DnsSrv, WrongIdQueryOrQuestionFails) {
    Bytes b = answer_head(0x1111, 0, 1);
    srv_rr(b, 10, 60, 5070, 120, kBobCompressed);
    SrvAnswer a;
    EXPECT_EQ(parse_srv_answer(b, 0x1112, kAsked, a), -EBADMSG);
    EXPECT_EQ(parse_srv_answer(b, 0x1111, "_sip._udp.other.example.test", a), -EBADMSG);
    Bytes q = b;
    q[2] &= 0x7f;  // a query, not a response
    EXPECT_EQ(parse_srv_answer(q, 0x1111, kAsked, a), -EBADMSG);
    Bytes two = b;
    two[5] = 2;  // QDCOUNT 2
    EXPECT_EQ(parse_srv_answer(two, 0x1111, kAsked, a), -EBADMSG);
    Bytes servfail = b;
    servfail[3] = 0x82;
    EXPECT_EQ(parse_srv_answer(servfail, 0x1111, kAsked, a), -EBADMSG);
}

TEST(DnsSrv, NxdomainMeansFallBack) {
    const Bytes b = answer_head(42, 3, 0);
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 42, kAsked, a), 0);
    EXPECT_TRUE(a.nxdomain);
    EXPECT_TRUE(a.records.empty());
}

TEST(DnsSrv, DotTargetMeansNoService) {
    Bytes b = answer_head(3, 0, 1);
    srv_rr(b, 0, 0, 0, 60, Bytes{0});
    SrvAnswer a;
    ASSERT_EQ(parse_srv_answer(b, 3, kAsked, a), 0);
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(a.records[0].target, ".");
    EXPECT_EQ(pick_srv(a.records, 0), nullptr);
}

// Every usable record, priorities in order, each priority's records all
// there once ("." and port 0 left out).
TEST(DnsSrv, OrderTriesEveryRecordByPriority) {
    std::vector<SrvRecord> records = {{20, 0, 5080, 60, "c.test"},
                                      {10, 60, 5070, 60, "a.test"},
                                      {10, 40, 5072, 60, "b.test"},
                                      {5, 0, 0, 60, "none.test"},
                                      {1, 0, 5060, 60, "."}};
    for (uint32_t random : {0u, 41u, 99u, 0xffffffffu}) {
        const std::vector<SrvRecord> order = order_srv(records, random);
        ASSERT_EQ(order.size(), 3u);
        EXPECT_EQ(order[0].priority, 10);
        EXPECT_EQ(order[1].priority, 10);
        EXPECT_NE(order[0].target, order[1].target);
        EXPECT_EQ(order[2].target, "c.test");
        EXPECT_EQ(order[0].target, pick_srv(records, random)->target);
    }
    EXPECT_TRUE(order_srv({}, 1).empty());
}

// A DNS server on loopback for EvdnsResolver: A and SRV answers from its
// tables, NXDOMAIN for anything else; it records the names asked (lower
// case, with the type).
class LoopbackDns {
  public:
    struct Srv {
        uint16_t priority, weight, port;
        std::string target;
    };
    std::map<std::string, std::string> a;         // name -> IPv4 address
    std::map<std::string, std::string> aaaa;      // name -> IPv6 address
    std::map<std::string, std::vector<Srv>> srv;  // service name -> records

    bool start() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sin;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&sin), len) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) != 0)
            return false;
        port_ = ntohs(sin.sin_port);
        timeval tv{0, 100000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        thread_ = std::thread([this] { serve(); });
        return true;
    }
    ~LoopbackDns() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] std::vector<std::string> asked() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return asked_;
    }

  private:
    static void put16(std::string& out, unsigned v) {
        out += static_cast<char>((v >> 8) & 0xff);
        out += static_cast<char>(v & 0xff);
    }
    static std::string encode_name(const std::string& name) {
        std::string out;
        size_t start = 0;
        while (start < name.size()) {
            size_t dot = name.find('.', start);
            if (dot == std::string::npos) dot = name.size();
            out += static_cast<char>(dot - start);
            out += name.substr(start, dot - start);
            start = dot + 1;
        }
        return out + '\0';
    }
    void serve() {
        for (int i = 0; i < 600 && !stop_; ++i) {  // a minute at most
            unsigned char q[512];
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n =
                ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 17) continue;
            size_t at = 12;
            std::string name;
            while (at < static_cast<size_t>(n) && q[at] != 0 && q[at] < 64) {
                if (!name.empty()) name += '.';
                name.append(reinterpret_cast<const char*>(q + at + 1), q[at]);
                at += q[at] + 1u;
            }
            const size_t qend = at + 5;
            if (qend > static_cast<size_t>(n)) continue;
            const unsigned type = (q[at + 1] << 8) | q[at + 2];
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            {
                const std::lock_guard<std::mutex> lock(mutex_);
                asked_.push_back((type == 33   ? "SRV "
                                  : type == 1  ? "A "
                                  : type == 28 ? "AAAA "
                                               : "other ") +
                                 name);
            }
            std::string answers;
            unsigned count = 0;
            if (type == 1 && a.count(name) != 0) {
                in_addr addr{};
                ::inet_pton(AF_INET, a.at(name).c_str(), &addr);
                answers += "\xc0\x0c";
                put16(answers, 1);
                put16(answers, 1);
                answers += std::string("\0\0\0\x3c", 4);
                put16(answers, 4);
                answers.append(reinterpret_cast<const char*>(&addr), 4);
                count = 1;
            } else if (type == 28 && aaaa.count(name) != 0) {
                in6_addr addr{};
                ::inet_pton(AF_INET6, aaaa.at(name).c_str(), &addr);
                answers += "\xc0\x0c";
                put16(answers, 28);
                put16(answers, 1);
                answers += std::string("\0\0\0\x3c", 4);
                put16(answers, 16);
                answers.append(reinterpret_cast<const char*>(&addr), 16);
                count = 1;
            } else if (type == 33 && srv.count(name) != 0) {
                for (const Srv& r : srv.at(name)) {
                    const std::string target = encode_name(r.target);
                    answers += "\xc0\x0c";
                    put16(answers, 33);
                    put16(answers, 1);
                    answers += std::string("\0\0\0\x3c", 4);
                    put16(answers, static_cast<unsigned>(6 + target.size()));
                    put16(answers, r.priority);
                    put16(answers, r.weight);
                    put16(answers, r.port);
                    answers += target;
                    ++count;
                }
            }
            std::string r(reinterpret_cast<const char*>(q), qend);
            r[2] = static_cast<char>(0x81);
            // A name known with other records: no data (NOERROR), else NXDOMAIN.
            const bool exists = a.count(name) + aaaa.count(name) + srv.count(name) != 0;
            r[3] = static_cast<char>(exists ? 0x80 : 0x83);
            r[6] = 0;
            r[7] = static_cast<char>(count);
            r[8] = r[9] = r[10] = r[11] = 0;
            r += answers;
            (void)::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<std::string> asked_;
    std::thread thread_;
};

// Runs the loop until the lookup answers (or 10 s pass).
std::optional<SockAddr> resolve_now(event_base* base, EvdnsResolver& r, const std::string& name,
                                    Transport transport, std::string* error) {
    bool done = false;
    std::optional<SockAddr> out;
    r.resolve(name, transport, [&](std::optional<SockAddr> addr, const char* why) {
        done = true;
        out = addr;
        *error = why;
    });
    for (int i = 0; i < 100 && !done; ++i) {
        const timeval tenth{0, 100000};
        event_base_loopexit(base, &tenth);
        event_base_dispatch(base);
    }
    return out;
}

// RFC 3263 §4.2 over TCP asks _sip._tcp, and over UDP _sip._udp; a
// target that does not resolve makes way for the next record (§4.3).
TEST(EvdnsResolver, AsksTheTransportsServiceAndFallsBackThroughTheTargets) {
    LoopbackDns dns;
    dns.a["bob.example.test"] = "198.51.100.20";
    dns.srv["_sip._tcp.provider.example.test"] = {{10, 0, 5071, "dead.example.test"},
                                                  {20, 0, 5072, "bob.example.test"}};
    dns.srv["_sip._udp.provider.example.test"] = {{10, 0, 5070, "bob.example.test"}};
    dns.srv["_sip._tcp.gone.example.test"] = {{10, 0, 5071, "dead.example.test"}};
    ASSERT_TRUE(dns.start());  // the tables are read from its thread from now on
    const EventBasePtr base(event_base_new());
    ASSERT_NE(base, nullptr);
    auto r = EvdnsResolver::create(base.get(), dns.server(), AF_INET);
    ASSERT_NE(r, nullptr);
    ASSERT_TRUE(r->srv_server().valid());

    std::string error;
    auto tcp = resolve_now(base.get(), *r, "provider.example.test", Transport::Tcp, &error);
    ASSERT_TRUE(tcp.has_value()) << error;
    EXPECT_EQ(*tcp, *SockAddr::parse("198.51.100.20:5072"));
    auto udp = resolve_now(base.get(), *r, "provider.example.test", Transport::Udp, &error);
    ASSERT_TRUE(udp.has_value()) << error;
    EXPECT_EQ(*udp, *SockAddr::parse("198.51.100.20:5070"));
    const std::vector<std::string> asked = dns.asked();
    const auto has = [&asked](const std::string& q) {
        return std::find(asked.begin(), asked.end(), q) != asked.end();
    };
    EXPECT_TRUE(has("SRV _sip._tcp.provider.example.test"));
    EXPECT_TRUE(has("A dead.example.test"));
    EXPECT_TRUE(has("SRV _sip._udp.provider.example.test"));
    EXPECT_TRUE(has("A bob.example.test"));

    // Each service is remembered on its own: no new SRV question.
    const size_t before = dns.asked().size();
    auto again = resolve_now(base.get(), *r, "provider.example.test", Transport::Tcp, &error);
    ASSERT_TRUE(again.has_value()) << error;
    EXPECT_EQ(again->port(), 5072);
    for (size_t i = before; i < dns.asked().size(); ++i)
        EXPECT_NE(dns.asked()[i].rfind("SRV ", 0), 0u) << dns.asked()[i];

    // No target resolves: the lookup fails (the proxy answers 504).
    EXPECT_FALSE(resolve_now(base.get(), *r, "gone.example.test", Transport::Tcp, &error));
}

// Runs the loop until an address lookup answers (or 10 s pass).
std::optional<SockAddr> address_now(event_base* base, EvdnsResolver& r, const std::string& name,
                                    std::string* error) {
    bool done = false;
    std::optional<SockAddr> out;
    r.resolve_address(name, [&](std::optional<SockAddr> addr, const char* why) {
        done = true;
        out = addr;
        *error = why;
    });
    for (int i = 0; i < 100 && !done; ++i) {
        const timeval tenth{0, 100000};
        event_base_loopexit(base, &tenth);
        event_base_dispatch(base);
    }
    return out;
}

// A dual-stack outside: a name without an A record is asked for AAAA; a
// name with one, or that does not exist, is not asked again.
TEST(EvdnsResolver, ANameWithoutAnAddressOfTheFirstFamilyGetsTheOther) {
    LoopbackDns dns;
    dns.a["v4.example.test"] = "198.51.100.20";
    dns.aaaa["v6.example.test"] = "2001:db8:2::10";
    ASSERT_TRUE(dns.start());
    const EventBasePtr base(event_base_new());
    ASSERT_NE(base, nullptr);
    auto r = EvdnsResolver::create(base.get(), dns.server(), AF_INET, AF_INET6);
    ASSERT_NE(r, nullptr);
    std::string error;
    auto v6 = address_now(base.get(), *r, "v6.example.test", &error);
    ASSERT_TRUE(v6.has_value()) << error;
    EXPECT_TRUE(v6->same_host(*SockAddr::parse("2001:db8:2::10")));
    auto v4 = address_now(base.get(), *r, "v4.example.test", &error);
    ASSERT_TRUE(v4.has_value()) << error;
    EXPECT_TRUE(v4->is_v4());
    EXPECT_FALSE(address_now(base.get(), *r, "nowhere.example.test", &error).has_value());
    const std::vector<std::string> asked = dns.asked();
    EXPECT_NE(std::find(asked.begin(), asked.end(), "AAAA v6.example.test"), asked.end());
    EXPECT_EQ(std::find(asked.begin(), asked.end(), "AAAA v4.example.test"), asked.end());
    EXPECT_EQ(std::find(asked.begin(), asked.end(), "AAAA nowhere.example.test"), asked.end());

    // One family only (the outside has no other): no second question.
    auto one = EvdnsResolver::create(base.get(), dns.server(), AF_INET);
    ASSERT_NE(one, nullptr);
    EXPECT_FALSE(address_now(base.get(), *one, "v6.example.test", &error).has_value());
}

class FakeResolver : public NameResolver {
  public:
    std::vector<std::pair<std::string, Done>> asked;
    std::vector<Transport> transports;
    void resolve(const std::string& name, Transport transport, Done done) override {
        asked.emplace_back(name, std::move(done));
        transports.push_back(transport);
    }
};

class NoMedia : public MediaLink {
  public:
    [[nodiscard]] bool available() const override { return false; }
    void start(const MediaStart&, Done) override {}
    void stop(uint32_t) override {}
};

struct Sent {
    Side side;
    SockAddr dest;
    std::string data;
};

class DnsProxyTest : public ::testing::Test {
  protected:
    DnsProxyTest()
        : proxy_(make_settings(&resolver_), media_,
                 [this](Side s, const SockAddr& d, std::string_view t) {
                     sent_.push_back({s, d, std::string(t)});
                 }) {}
    static SipProxySettings make_settings(NameResolver* r) {
        sip_parser_init();
        SipProxySettings s;
        s.policy.us.inside = {"192.0.2.1", 5060};
        s.policy.us.outside = {"203.0.113.1", 5060};
        s.policy.public_host = "203.0.113.1";
        s.policy.inside_networks = {*Cidr::parse("192.0.2.0/24")};
        s.inside_local = *SockAddr::parse("192.0.2.1:5060");
        s.outside_local = *SockAddr::parse("203.0.113.1:5060");
        s.outside_advertised = *SockAddr::parse("203.0.113.1");
        s.resolver = r;
        return s;
    }
    // alice's OPTIONS (no SDP) to a name.
    static std::string options_to(const std::string& host) {
        return samples::with_body("OPTIONS sip:bob@" + host + R"( SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKopt1;rport
Max-Forwards: 70
To: <sip:bob@)" + host + R"(>
From: <sip:alice@203.0.113.1>;tag=77
Call-ID: opt1@192.0.2.10
CSeq: 1 OPTIONS
)",
                                  "");
    }

    FakeResolver resolver_;
    NoMedia media_;
    std::vector<Sent> sent_;
    SipProxy proxy_;
    const SockAddr alice_ = *SockAddr::parse("192.0.2.10:5060");
};

TEST_F(DnsProxyTest, HeldUntilResolvedThenForwarded) {
    proxy_.handle_datagram(options_to("bob.example.test:5070"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    EXPECT_EQ(resolver_.asked[0].first, "bob.example.test");
    EXPECT_TRUE(sent_.empty());
    resolver_.asked[0].second(SockAddr::parse("198.51.100.20"), "");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Outside);
    EXPECT_EQ(sent_[0].dest, *SockAddr::parse("198.51.100.20:5070"));
    EXPECT_NE(sent_[0].data.find("Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bK"),
              std::string::npos)
        << sent_[0].data;
}

TEST_F(DnsProxyTest, AnSrvPortFromTheResolverIsKept) {
    proxy_.handle_datagram(options_to("provider.example.test"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    resolver_.asked[0].second(SockAddr::parse("203.0.113.10:5070"), "");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].dest, *SockAddr::parse("203.0.113.10:5070"));
}

TEST_F(DnsProxyTest, FailedLookupIs504ToThePhone) {
    proxy_.handle_datagram(options_to("nowhere.example.test"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    resolver_.asked[0].second(std::nullopt, "timeout");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].side, Side::Inside);
    EXPECT_EQ(sent_[0].dest, alice_);
    auto resp = parse_sip_message(sent_[0].data);
    ASSERT_NE(resp, nullptr);
    EXPECT_EQ(resp->status_code, 504);
}

// RFC 3263: the SRV service follows the transport the request leaves by.
TEST_F(DnsProxyTest, ANameOnTcpIsLookedUpForTcp) {
    proxy_.handle_datagram(options_to("provider.example.test;transport=tcp"), Side::Inside, alice_,
                           1000);
    std::string udp = options_to("other.example.test");
    udp.replace(udp.find("z9hG4bKopt1"), 11, "z9hG4bKopt2");  // a transaction of its own
    proxy_.handle_datagram(udp, Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.transports.size(), 2u);
    EXPECT_EQ(resolver_.asked[0].first, "provider.example.test");
    EXPECT_EQ(resolver_.transports[0], Transport::Tcp);
    EXPECT_EQ(resolver_.transports[1], Transport::Udp);
}

TEST_F(DnsProxyTest, NumericHostsSkipDns) {
    proxy_.handle_datagram(options_to("198.51.100.9"), Side::Inside, alice_, 1000);
    EXPECT_TRUE(resolver_.asked.empty());
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(sent_[0].dest, *SockAddr::parse("198.51.100.9:5060"));
}

TEST_F(DnsProxyTest, ANameThatIsUsIsALoop) {
    proxy_.handle_datagram(options_to("loop.example.test"), Side::Inside, alice_, 1000);
    ASSERT_EQ(resolver_.asked.size(), 1u);
    resolver_.asked[0].second(SockAddr::parse("203.0.113.1"), "");
    ASSERT_EQ(sent_.size(), 1u);
    EXPECT_EQ(parse_sip_message(sent_[0].data)->status_code, 482);
}

}  // namespace
}  // namespace sipmasq
