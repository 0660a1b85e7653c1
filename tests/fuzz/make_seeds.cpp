// Writes the seed corpus of fuzz_proto: a valid frame of every message type
// and the edge cases around it (empty, header only, one byte short and long,
// length UINT32_MAX, unknown type, bad version, oversized). Run once:
//   fuzz_proto_seeds DIR
#include <cstdio>
#include <string>
#include <vector>

#include "samples.h"

using namespace sipmasq::proto;
using namespace sipmasq::proto::testing;

namespace {

bool write_seed(const std::string& dir, const std::string& name,
                const std::vector<uint8_t>& bytes) {
    const std::string path = dir + "/seed-" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    bool ok = true;
    for (MsgType t : all_types()) {
        const Sample s = valid_sample(t);
        const MsgSpec& spec = spec_of(t);
        const std::string name = msg_type_name(t);
        ok = write_seed(dir, name, frame_of(s)) && ok;
        if (spec.max_size != spec.min_size) {
            Sample big = s;
            big.payload = payload_for(t, s.sender, spec.max_size);
            ok = write_seed(dir, name + "-max", frame_of(big)) && ok;
        }
        Sample longer = s;
        longer.payload.push_back(0);
        ok = write_seed(dir, name + "-long", frame_of(longer)) && ok;
        if (!s.payload.empty()) {
            Sample shorter = s;
            shorter.payload.pop_back();
            ok = write_seed(dir, name + "-short", frame_of(shorter)) && ok;
            auto header_only = frame_of(s);
            header_only.resize(kHeaderSize);
            ok = write_seed(dir, name + "-header-only", header_only) && ok;
        }
        auto huge_len = frame_of(s);
        set_header_length(huge_len, UINT32_MAX);
        ok = write_seed(dir, name + "-len-max", huge_len) && ok;
    }
    ok = write_seed(dir, "empty", {}) && ok;
    auto unknown = frame_of(valid_sample(MsgType::Ready));
    unknown[2] = 0xff;
    unknown[3] = 0xff;
    ok = write_seed(dir, "unknown-type", unknown) && ok;
    auto version = frame_of(valid_sample(MsgType::Ping));
    version[0] = 2;
    ok = write_seed(dir, "bad-version", version) && ok;
    Sample oversized = valid_sample(MsgType::Log);
    oversized.payload.assign(kMaxFrameParent, 'a');
    ok = write_seed(dir, "oversized", frame_of(oversized)) && ok;
    if (!ok) std::perror("writing seeds");
    return ok ? 0 : 1;
}
