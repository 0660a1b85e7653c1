#!/usr/bin/env python3
"""sipmasq-sipd(8) and sipmasq-rtpd(8) state the seccomp policy exactly.

The table between the SYSCALL TABLE markers of each page must be what
tests/ops/policy_source.py writes from the process's sandbox_policy.cpp:
every system call, every argument restriction, every errno rule, in
order. After a change of a policy, rewrite the table with
  python3 tests/ops/policy_source.py --man sipd/sandbox_policy.cpp
and paste it over the old one.
"""
import difflib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_source  # noqa: E402

SOURCE_ROOT = os.environ.get(
    'SIPMASQ_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))


def main():
    failures = 0
    for process in ('sipd', 'rtpd'):
        source = os.path.join(SOURCE_ROOT, process, 'sandbox_policy.cpp')
        page = os.path.join(SOURCE_ROOT, 'man', 'sipmasq-%s.8' % process)
        rules = policy_source.read_rules(source)
        if len(rules) < 10:
            print('FAIL: only %d rules read from %s' % (len(rules), source))
            failures += 1
            continue
        want = policy_source.man_block(rules)
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
        print('ok: %s: %d rules over %d system calls' % (process, len(rules), len(names)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
