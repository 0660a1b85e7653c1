// Prints the seccomp table a child loads, as compiled: one rule a line,
// "name<TAB>why<TAB>errno" and then "<TAB>arg:mask:value:self" per check.
// man_seccomp_test.py compares it with what policy_source.py reads from the
// source, so the man pages follow the tables the processes really load.
#include <cstdio>
#include <cstring>

#include "rtpd/sandbox_policy.h"
#include "seccomp_filter.h"
#include "sipd/sandbox_policy.h"

int main(int argc, char** argv) {
    using sipmasq::SyscallRule;
    if (argc != 2 || (std::strcmp(argv[1], "sipd") != 0 && std::strcmp(argv[1], "rtpd") != 0)) {
        std::fprintf(stderr, "usage: seccomp_table_dump sipd|rtpd\n");
        return 2;
    }
    const bool sipd = std::strcmp(argv[1], "sipd") == 0;
    for (const SyscallRule& rule :
         sipd ? sipmasq::sipd_syscall_rules() : sipmasq::rtpd_syscall_rules()) {
        std::printf("%s\t%s\t%d", rule.name, rule.why, rule.fail_errno);
        for (std::size_t i = 0; i < rule.check_count; ++i) {
            const sipmasq::ArgCheck& check = rule.checks[i];
            std::printf("\t%u:%08x:%08x:%d", check.arg, check.mask, check.value,
                        check.self_pid ? 1 : 0);
        }
        std::printf("\n");
    }
    return 0;
}
