// The sipmasqctl reports of SipProxy: registrations, calls, statistics.
#include "json_escape.h"
#include "message_fields.h"
#include "sip_proxy.h"

namespace sipmasq {

std::string SipProxy::registrations_text(bool json, int64_t now) const {
    std::string out;
    auto all = table_.all();
    if (json) {
        out = "[";
        bool first = true;
        for (const Binding* b : all) {
            if (!first) out += ",";
            first = false;
            out += "{\"aor\":\"" + json_escape(b->aor) + "\",\"contact\":\"" +
                   json_escape(b->contact) + "\",\"source\":\"" +
                   json_escape(addr_text(b->source)) + "\",\"masq_contact\":\"" +
                   json_escape(b->masq_contact) + "\",\"mode\":\"" + binding_mode_name(b->mode) +
                   "\",\"provisional\":" + (b->provisional ? "true" : "false") +
                   ",\"expires_in\":" + std::to_string(b->expires_at - now) + "}";
        }
        return out + "]\n";
    }
    out = "AOR CONTACT SOURCE MODE EXPIRES\n";
    for (const Binding* b : all)
        out += b->aor + " " + b->contact + " " + addr_text(b->source) + " " +
               binding_mode_name(b->mode) + (b->provisional ? "(pending)" : "") + " " +
               std::to_string(b->expires_at - now) + "s\n";
    return out;
}

std::string SipProxy::calls_text(bool json) const {
    std::string out;
    if (json) {
        out = "[";
        bool first = true;
        for (const auto& [id, c] : calls_) {
            if (!first) out += ",";
            first = false;
            out += "{\"call_id\":\"" + json_escape(id) + "\",\"from\":\"" + json_escape(c.from) +
                   "\",\"to\":\"" + json_escape(c.to) + "\",\"inside\":\"" +
                   json_escape(addr_text(c.inside_addr)) +
                   "\",\"established\":" + (c.established ? "true" : "false") + ",\"streams\":[";
            bool f2 = true;
            for (const CallStream& s : c.streams) {
                if (!f2) out += ",";
                f2 = false;
                out += "{\"id\":" + std::to_string(s.id) +
                       ",\"inside_port\":" + std::to_string(s.inside_port) +
                       ",\"outside_port\":" + std::to_string(s.outside_port) +
                       ",\"inside_peer\":\"" + addr_text(s.inside_peer) + "\",\"outside_peer\":\"" +
                       addr_text(s.outside_peer) + "\",\"hold\":" + (s.hold ? "true" : "false") +
                       "}";
            }
            out += "]}";
        }
        return out + "]\n";
    }
    out = "CALL-ID FROM TO INSIDE RELAY-PORTS\n";
    for (const auto& [id, c] : calls_) {
        out += id + " " + c.from + " " + c.to + " " + addr_text(c.inside_addr);
        for (const CallStream& s : c.streams)
            out += " " + std::to_string(s.inside_port) + "/" + std::to_string(s.outside_port);
        out += "\n";
    }
    return out;
}

std::string SipProxy::stats_text(bool json) const {
    auto section = [json](const std::map<std::string, uint64_t>& m) {
        std::string s;
        for (const auto& [k, v] : m) {
            if (json)
                s += (s.empty() ? "\"" : ",\"") + json_escape(k) + "\":" + std::to_string(v);
            else
                s += "  " + k + " " + std::to_string(v) + "\n";
        }
        return s;
    };
    if (json)
        return "{\"requests\":{" + section(requests_by_method_) + "},\"responses\":{" +
               section(responses_by_class_) + "},\"refusals\":{" + section(refusals_by_reason_) +
               "},\"unparseable\":" + std::to_string(unparseable_) +
               ",\"registrations\":" + std::to_string(table_.size()) +
               ",\"calls\":" + std::to_string(calls_.size()) +
               ",\"transactions\":" + std::to_string(transactions_.servers()) + "}";
    return "requests:\n" + section(requests_by_method_) + "responses:\n" +
           section(responses_by_class_) + "refusals:\n" + section(refusals_by_reason_) +
           "unparseable " + std::to_string(unparseable_) + "\nregistrations " +
           std::to_string(table_.size()) + "\ncalls " + std::to_string(calls_.size()) +
           "\ntransactions " + std::to_string(transactions_.servers()) + "\n";
}

}  // namespace sipmasq
