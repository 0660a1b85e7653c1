#include "registration_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

#include "log.h"
#include "unique_fd.h"

namespace sipmasq {

namespace {

constexpr std::string_view kHeader = "sipmasq-registrations 1";
constexpr size_t kMaxFileSize = 64u << 20;  // far above any real table
constexpr size_t kMaxLoggedBadLines = 10;

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

template <typename T>
bool parse_int(std::string_view text, T& out) noexcept {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start <= line.size()) {
        const size_t sp = line.find(' ', start);
        if (sp == std::string_view::npos) {
            out.push_back(line.substr(start));
            break;
        }
        out.push_back(line.substr(start, sp - start));
        start = sp + 1;
    }
    return out;
}

// One "C ..." line into a dialog contact; false on any anomaly.
bool parse_contact_line(std::string_view line, std::string& token, ContactMap::Entry& e) {
    const auto fields = split_fields(line);
    if (fields.size() != 5 || fields[0] != "C") return false;
    std::string source, last;
    if (!store_unescape(fields[1], token) || !store_unescape(fields[2], e.contact) ||
        !store_unescape(fields[3], source) || !store_unescape(fields[4], last))
        return false;
    if (token.empty() || e.contact.empty()) return false;
    if (!source.empty()) {
        auto addr = SockAddr::parse(source);
        if (!addr) return false;
        e.source = *addr;
    }
    return parse_int(last, e.last_used);
}

// One "B ..." line into a binding; false on any anomaly.
bool parse_binding(std::string_view line, Binding& b) {
    const auto fields = split_fields(line);
    if (fields.size() != 11 || fields[0] != "B") return false;
    std::string source, expires, mode, provisional, cseq;
    if (!store_unescape(fields[1], b.aor) || !store_unescape(fields[2], b.contact) ||
        !store_unescape(fields[3], source) || !store_unescape(fields[4], b.masq_contact) ||
        !store_unescape(fields[5], b.token) || !store_unescape(fields[6], expires) ||
        !store_unescape(fields[7], mode) || !store_unescape(fields[8], provisional) ||
        !store_unescape(fields[9], b.call_id) || !store_unescape(fields[10], cseq))
        return false;
    if (b.aor.empty() || b.aor.find('@') == std::string::npos || b.contact.empty() ||
        b.token.empty())
        return false;
    if (!source.empty()) {
        auto addr = SockAddr::parse(source);
        if (!addr) return false;
        b.source = *addr;
    }
    if (!parse_int(expires, b.expires_at) || !parse_int(cseq, b.cseq)) return false;
    if (mode == "registrar")
        b.mode = BindingMode::Registrar;
    else if (mode == "outbound-proxy")
        b.mode = BindingMode::OutboundProxy;
    else
        return false;
    if (provisional == "0")
        b.provisional = false;
    else if (provisional == "1")
        b.provisional = true;
    else
        return false;
    return true;
}

[[nodiscard]] int write_all(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return 0;
}

}  // namespace

std::string store_escape(std::string_view field) {
    if (field.empty()) return "-";
    if (field == "-") return "%2D";
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(field.size());
    for (char ch : field) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '%') {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += ch;
        }
    }
    return out;
}

bool store_unescape(std::string_view field, std::string& out) {
    out.clear();
    if (field == "-") return true;
    if (field.empty()) return false;
    for (size_t i = 0; i < field.size(); ++i) {
        const char c = field[i];
        if (c == '%') {
            if (i + 2 >= field.size()) return false;
            const int hi = hex_value(field[i + 1]);
            const int lo = hex_value(field[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return false;
        } else {
            out += c;
        }
    }
    return true;
}

std::string format_registrations(const RegistrationTable& table) {
    return format_state(table, nullptr);
}

std::string format_state(const RegistrationTable& table, const ContactMap* map) {
    std::string out(kHeader);
    out += '\n';
    for (const Binding* b : table.all()) {
        out += "B ";
        out += store_escape(b->aor) + ' ';
        out += store_escape(b->contact) + ' ';
        out += store_escape(b->source.valid() ? b->source.to_string() : std::string()) + ' ';
        out += store_escape(b->masq_contact) + ' ';
        out += store_escape(b->token) + ' ';
        out += std::to_string(b->expires_at) + ' ';
        out += binding_mode_name(b->mode);
        out += b->provisional ? " 1 " : " 0 ";
        out += store_escape(b->call_id) + ' ';
        out += std::to_string(b->cseq);
        out += '\n';
    }
    if (map != nullptr) {
        for (const auto& [token, e] : map->entries()) {
            out += "C " + store_escape(token) + ' ' + store_escape(e.contact) + ' ';
            out += store_escape(e.source.valid() ? e.source.to_string() : std::string()) + ' ';
            out += std::to_string(e.last_used) + '\n';
        }
    }
    return out;
}

StoreLoadResult parse_registrations(std::string_view text, RegistrationTable& table, int64_t now) {
    return parse_state(text, table, nullptr, now);
}

StoreLoadResult parse_state(std::string_view text, RegistrationTable& table, ContactMap* map,
                            int64_t now) {
    StoreLoadResult result;
    size_t line_no = 0;
    bool header_seen = false;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (line.empty()) continue;
        if (!header_seen && line_no == 1) {
            header_seen = true;
            if (line == kHeader) continue;
            log_warning("registrations: line 1: unknown header, reading on");
        }
        if (line.starts_with("C ")) {
            std::string token;
            ContactMap::Entry e;
            if (!parse_contact_line(line, token, e)) {
                if (result.skipped < kMaxLoggedBadLines)
                    log_warning("registrations: line %zu: corrupt, skipped", line_no);
                ++result.skipped;
            } else if (map != nullptr) {
                map->restore(std::move(token), std::move(e));
            }
            continue;
        }
        Binding b;
        if (!parse_binding(line, b)) {
            if (result.skipped < kMaxLoggedBadLines)
                log_warning("registrations: line %zu: corrupt, skipped", line_no);
            ++result.skipped;
            continue;
        }
        if (!b.live(now)) continue;
        table.upsert(std::move(b));
        ++result.loaded;
    }
    return result;
}

int save_registrations(int dir_fd, const std::string& name, const RegistrationTable& table) {
    return save_state(dir_fd, name, table, nullptr);
}

int save_state(int dir_fd, const std::string& name, const RegistrationTable& table,
               const ContactMap* map) {
    const std::string tmp = name + ".tmp";
    const std::string text = format_state(table, map);
    UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return -errno;
    if (const int rc = write_all(fd.get(), text); rc != 0) {
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        return rc;
    }
    if (::fsync(fd.get()) != 0) {
        const int rc = -errno;
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        return rc;
    }
    if (::close(fd.release()) != 0) {
        const int rc = -errno;
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        return rc;
    }
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
        const int rc = -errno;
        ::unlinkat(dir_fd, tmp.c_str(), 0);
        return rc;
    }
    // The rename itself must reach the disk, or a crash could undo it.
    if (::fsync(dir_fd) != 0) return -errno;
    return 0;
}

StoreLoadResult load_registrations(int dir_fd, const std::string& name, RegistrationTable& table,
                                   int64_t now) {
    return load_state(dir_fd, name, table, nullptr, now);
}

StoreLoadResult load_state(int dir_fd, const std::string& name, RegistrationTable& table,
                           ContactMap* map, int64_t now) {
    StoreLoadResult result;
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        result.error = -errno;
        return result;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        result.error = -errno;
        return result;
    }
    if (!S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > kMaxFileSize) {
        result.error = -EINVAL;
        return result;
    }
    std::string text;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            result.error = -errno;
            return result;
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > kMaxFileSize) {
            result.error = -EFBIG;
            return result;
        }
    }
    return parse_state(text, table, map, now);
}

}  // namespace sipmasq
