// Call records survive load: SIPp calls alice through the real daemon at a
// rate where call start and end lines (two a call) are more than the 500
// lines a second the parent passes on for any child, and every relayed
// call still has its start and its end in the log.
#include <regex>

#include "faq_fixture.h"

namespace sipmasq::test {
namespace {

class RecordsTest : public FaqTest {
  protected:
    RecordsTest() {
        // 400 calls a second for 4 s hold ports for a second each.
        rtp_ports_ = "rtp_port_low = 40000\nrtp_port_high = 49999\n";
        sipp_timeout_ = "60s";
    }
    std::string extra_config() override { return "rtp_quarantine = 1\n"; }

    static size_t sipp_stat(const std::string& csv, const std::string& column) {
        const size_t header_end = csv.find('\n');
        if (header_end == std::string::npos) return 0;
        size_t index = 0;
        bool found = false;
        for (size_t at = 0, n = 0; at < header_end; ++n) {
            const size_t semi = std::min(csv.find(';', at), header_end);
            if (csv.substr(at, semi - at) == column) {
                index = n;
                found = true;
                break;
            }
            at = semi + 1;
        }
        std::string last = csv.substr(header_end + 1);
        while (!last.empty() && last.back() == '\n') last.pop_back();
        last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
        if (!found) return 0;
        size_t at = 0;
        for (size_t n = 0; n < index && at != std::string::npos; ++n) {
            at = last.find(';', at);
            if (at != std::string::npos) ++at;
        }
        if (at == std::string::npos) return 0;
        return static_cast<size_t>(std::strtoul(last.c_str() + at, nullptr, 10));
    }

    size_t count(const std::string& pattern, size_t from) {
        const std::string log = daemon_.log().substr(from);
        const std::regex re(pattern);
        return static_cast<size_t>(std::distance(std::sregex_iterator(log.begin(), log.end(), re),
                                                 std::sregex_iterator()));
    }
};

TEST_F(RecordsTest, EveryCallHasItsStartAndEndAtFourHundredCallsASecond) {
    register_phone("alice", "192.0.2.10");
    constexpr int kCalls = 1600;
    const std::string calls = std::to_string(kCalls);
    const pid_t alice = sipp_background(in_, "uas_media.xml", "192.0.2.10",
                                        {"-p", "5060", "-key", "rtp_port", "40000", "-m", calls});
    const size_t mark = daemon_.log().size();
    std::string log;
    const bool caller_ok = sipp(out_, "call_uac_media.xml", "203.0.113.10", "203.0.113.1:5060",
                                {"-p",           "5062", "-s",
                                 "alice",        "-key", "target",
                                 "203.0.113.1",  "-key", "from_user",
                                 "bob",          "-key", "from_domain",
                                 "203.0.113.10", "-key", "rtp_port",
                                 "40002",        "-m",   calls,
                                 "-r",           "400",  "-l",
                                 "400",          "-d",   "0",
                                 "-trace_stat",  "-stf", dir_.file("caller.csv")},
                                &log);
    (void)background_ok(alice);
    std::this_thread::sleep_for(1s);  // the last records on their way
    const size_t starts = count("call start: From sip:bob@203.0.113.10", mark);
    const size_t ends = count("call end: From sip:bob@203.0.113.10 .*\\(BYE\\)", mark);
    // SIPp's own count of completed calls: its statistics file, a header
    // line of ';'-separated names and then one line per period.
    const size_t successful = sipp_stat(read_file(dir_.file("caller.csv")), "SuccessfulCall(C)");
    // On a loaded machine SIPp itself loses calls; enough must complete for
    // the records to outrun the 500 lines a second other lines get.
    EXPECT_TRUE(caller_ok || successful >= kCalls * 6 / 10) << log.substr(0, 1000);
    EXPECT_GE(successful, static_cast<size_t>(kCalls * 6 / 10)) << "a loaded machine?";
    // Every call SIPp completed was recorded, its start and its end; no
    // record was suppressed.
    EXPECT_GE(starts, successful);
    EXPECT_GE(ends, successful);
    EXPECT_EQ(count("call records suppressed|more than [0-9]+ call records", mark), 0u);
}

}  // namespace
}  // namespace sipmasq::test
