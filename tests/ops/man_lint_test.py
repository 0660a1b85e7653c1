#!/usr/bin/env python3
"""Every page in man/ is clean under `mandoc -Tlint -Wwarning`.

Any output fails the test: warnings, errors and unsupported features.
STYLE messages (such as a cross-reference to a page that is not installed
here) are below -Wwarning and do not count. Skips (77) without mandoc.
"""
import glob
import os
import shutil
import subprocess
import sys

SOURCE_ROOT = os.environ.get(
    'SIPMASQ_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
# The pages meson installs (man/meson.build); every one must exist.
EXPECTED = ['sipmasq.8', 'sipmasq.conf.5', 'sipmasq-sipd.8', 'sipmasq-rtpd.8', 'sipmasqctl.8']


def main():
    mandoc = shutil.which('mandoc')
    if not mandoc:
        print('SKIP: mandoc is not installed (Debian package mandoc)')
        return 77
    man_dir = os.path.join(SOURCE_ROOT, 'man')
    pages = sorted(glob.glob(os.path.join(man_dir, '*.[1-9]')))
    failures = 0
    for name in EXPECTED:
        if not os.path.exists(os.path.join(man_dir, name)):
            print('FAIL: man/%s is missing' % name)
            failures += 1
    for page in pages:
        res = subprocess.run([mandoc, '-Tlint', '-Wwarning', page], capture_output=True,
                             text=True, timeout=60, check=False)
        output = (res.stdout + res.stderr).strip()
        if output or res.returncode != 0:
            print('FAIL: %s (mandoc exit %d):\n%s' % (os.path.basename(page), res.returncode,
                                                     output))
            failures += 1
        else:
            print('ok: %s' % os.path.basename(page))
    print('%d page(s) checked, %d failure(s)' % (len(pages), failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
