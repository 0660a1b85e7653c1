#!/usr/bin/env python3
"""The include rule of the code map (README, "Code map"): which directory's
headers each directory may include. Headers are included by bare name
("address.h"), so a name is looked up in the including file's own directory
first, then in the other directories of the map; a name found in several
other directories (sandbox_policy.h) must be allowed from each.

    tools/check_includes.py [SOURCE_ROOT]

Fails naming every file:line that breaks the rule. Also run as the test
ops/include_rule.
"""
import os
import re
import sys

# Directory -> the directories whose headers it may include (itself always).
# proto/ and common/ are the ground floor; proto/ takes from common/ only the
# plain value types it encodes and the descriptor it owns, so that the
# decoder stays pure and fuzzable.
ALLOWED = {
    'common': set(),
    'proto': {'common'},
    'child': {'proto', 'common'},
    'parent': {'proto', 'common'},
    'sipd': {'child', 'proto', 'common'},
    'rtpd': {'child', 'proto', 'common'},
    'ctl': {'proto', 'common'},
}
# What proto/ may take from common/, by name.
PROTO_FROM_COMMON = {'address.h', 'unique_fd.h'}
# Generated into the build directory by meson (build_config.h): anyone.
GENERATED = {'build_config.h'}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def headers_by_dir(root):
    found = {}
    for d in ALLOWED:
        path = os.path.join(root, d)
        if os.path.isdir(path):
            found[d] = {n for n in os.listdir(path) if n.endswith('.h')}
    return found


def check(root):
    headers = headers_by_dir(root)
    problems = []
    for d in sorted(headers):
        path = os.path.join(root, d)
        for name in sorted(os.listdir(path)):
            if not name.endswith(('.cpp', '.h')):
                continue
            with open(os.path.join(path, name), encoding='utf-8') as f:
                text = f.read()
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                line = text.count('\n', 0, m.start()) + 1
                where = '%s/%s:%d' % (d, name, line)
                if inc in GENERATED or inc in headers[d]:
                    continue
                owners = sorted(o for o, names in headers.items() if inc in names)
                if not owners:
                    problems.append('%s: "%s" is in no directory of the map' % (where, inc))
                    continue
                for owner in owners:
                    if owner not in ALLOWED[d]:
                        problems.append('%s: %s/ may not include %s/%s' % (where, d, owner, inc))
                    elif d == 'proto' and owner == 'common' and inc not in PROTO_FROM_COMMON:
                        problems.append('%s: proto/ takes from common/ only %s, not %s' %
                                        (where, ', '.join(sorted(PROTO_FROM_COMMON)), inc))
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    problems = check(os.path.abspath(root))
    for p in problems:
        print('include rule: ' + p, file=sys.stderr)
    if problems:
        return 1
    print('include rule: every #include of %s follows the code map' % ', '.join(sorted(ALLOWED)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
