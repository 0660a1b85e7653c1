#!/usr/bin/env python3
"""sipmasq-sipd(8) and sipmasq-rtpd(8) state the seccomp policy exactly.

The tables between the SYSCALL TABLE markers of each page must be what
tests/ops/policy_source.py writes from the process's sandbox_policy.cpp:
the children's base (common/seccomp_base.h), then the process's own rules,
every system call, every argument restriction, every errno rule, in
order. And what policy_source.py reads must be the table the process
really loads: seccomp_table_dump (argv[1]) prints the compiled table, and
every rule must match by name, reason, errno rule and the arguments its
checks look at. After a change of a policy, rewrite the tables with
  python3 tests/ops/policy_source.py --man sipd/sandbox_policy.cpp
and paste them over the old ones.
"""
import difflib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_source  # noqa: E402

SOURCE_ROOT = os.environ.get(
    'SIPMASQ_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))


def source_rows(rules):
    """What the dump can say of each rule read from the source."""
    rows = []
    for _, name, why, checks, err in rules:
        args = [int(re.match(r'\w+\((\d+)', c).group(1)) for c in checks]
        rows.append((name, why, err is not None, args))
    return rows


def compiled_rows(dump, process):
    out = subprocess.run([dump, process], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split('\t')
        args = [int(check.split(':')[0]) for check in fields[3:]]
        rows.append((fields[0], fields[1], int(fields[2]) != 0, args))
    return rows


def check_compiled(dump, process, rules, source):
    """0 if the compiled table is the one read from the source, else 1."""
    want = compiled_rows(dump, process)
    got = source_rows(rules)
    if got == want:
        return 0
    print('FAIL: %s loads another table than policy_source.py reads from %s:' % (process, source))
    sys.stdout.writelines(l + '\n' for l in difflib.unified_diff(
        [repr(r) for r in got], [repr(r) for r in want], 'source', 'compiled', lineterm=''))
    return 1


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: man_seccomp_test.py path/to/seccomp_table_dump')
    dump = sys.argv[1]
    failures = 0
    for process in ('sipd', 'rtpd'):
        source = os.path.join(SOURCE_ROOT, process, 'sandbox_policy.cpp')
        page = os.path.join(SOURCE_ROOT, 'man', 'sipmasq-%s.8' % process)
        sections = policy_source.read_sections(source)
        rules = policy_source.read_rules(source)
        if len(sections) != 2 or min(len(s[1]) for s in sections) < 5:
            print('FAIL: expected the base and the own rules of %s, read %s' %
                  (source, [(s[0], len(s[1])) for s in sections]))
            failures += 1
            continue
        failures += check_compiled(dump, process, rules, source)
        want = policy_source.man_block(sections)
        got = policy_source.page_block(page)
        if got is None:
            print('FAIL: %s has no SYSCALL TABLE markers' % page)
            failures += 1
            continue
        if got != want:
            print('FAIL: the table of %s differs from %s:' % (page, source))
            sys.stdout.writelines(l + '\n' for l in difflib.unified_diff(
                got, want, 'man page', 'policy', lineterm=''))
            failures += 1
            continue
        names = sorted({r[1] for r in rules})
        print('ok: %s: %d rules (%d of the base) over %d system calls' %
              (process, len(rules), len(sections[0][1]), len(names)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
