// Persists the registration table to `registration_file`, relative to a
// directory descriptor (sipd keeps the state directory open across chroot).
// Written atomically: temp file, fsync, renameat, fsync of the directory.
//
// Format, one record per line, fields separated by one space, each field
// percent-escaped (bytes <= 0x20, >= 0x7f and '%'; an empty field is "-"):
//   sipmasq-registrations 1
//   B aor contact source masq_contact token expires_at mode provisional call_id cseq
//   C token contact source last_used        (dialog contacts, ContactMap)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "contact_masq.h"
#include "registration_table.h"

namespace sipmasq {

struct StoreLoadResult {
    int error = 0;  // -errno when the file could not be read; -ENOENT: none yet
    size_t loaded = 0;
    size_t skipped = 0;  // corrupt lines, each logged
};

// 0 or -errno. `name` is a plain file name inside `dir_fd`.
[[nodiscard]] int save_registrations(int dir_fd, const std::string& name,
                                     const RegistrationTable& table);
// Adds what the file holds to `table`; bindings already expired at `now`
// are dropped (not counted as skipped).
[[nodiscard]] StoreLoadResult load_registrations(int dir_fd, const std::string& name,
                                                 RegistrationTable& table, int64_t now);

// The same file with the dialog contacts too, so in-dialog requests still
// route after a sipd restart. `map` may be nullptr (its lines are skipped).
[[nodiscard]] int save_state(int dir_fd, const std::string& name, const RegistrationTable& table,
                             const ContactMap* map);
[[nodiscard]] StoreLoadResult load_state(int dir_fd, const std::string& name,
                                         RegistrationTable& table, ContactMap* map, int64_t now);
[[nodiscard]] std::string format_state(const RegistrationTable& table, const ContactMap* map);
StoreLoadResult parse_state(std::string_view text, RegistrationTable& table, ContactMap* map,
                            int64_t now);

// The text form on its own (tests, and the fuzz target).
[[nodiscard]] std::string format_registrations(const RegistrationTable& table);
StoreLoadResult parse_registrations(std::string_view text, RegistrationTable& table, int64_t now);

// The field escaping used by the format.
[[nodiscard]] std::string store_escape(std::string_view field);
[[nodiscard]] bool store_unescape(std::string_view field, std::string& out);

}  // namespace sipmasq
