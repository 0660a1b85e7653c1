#!/usr/bin/env python3
"""Every page in man/ is clean under `mandoc -Tlint -W style`: no output at all.

STYLE messages count as well as warnings and errors: an input line over 80
bytes, or an .Xr to a page that does not exist. mandoc looks the .Xr
references up in the mandoc.db of its manual path, so the test builds one
in a temporary directory with `makewhatis`: our pages (so that they find
each other, as they will once installed) and a copy of each other page
they reference, taken from the system's manual (Debian packages manpages,
manpages-dev and systemd). A reference that is misspelt or names a page
that is not installed has nothing to copy and fails. Skips (77) without
mandoc.
"""
import glob
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.environ.get(
    'SIPMASQ_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
# The pages meson installs (man/meson.build); every one must exist.
EXPECTED = ['sipmasq.8', 'sipmasq.conf.5', 'sipmasq-sipd.8', 'sipmasq-rtpd.8', 'sipmasqctl.8']
SYSTEM_MANPATH = ['/usr/share/man', '/usr/local/share/man']
XR = re.compile(r'\bXr\s+([A-Za-z0-9_.:+-]+)\s+([1-9][a-z]*)\b')


def system_page(name, section):
    """The installed page name(section), or None."""
    for top in SYSTEM_MANPATH:
        for suffix in ('', '.gz'):
            path = os.path.join(top, 'man' + section[0], '%s.%s%s' % (name, section, suffix))
            if os.path.isfile(path):
                return path
    return None


def build_manpath(pages, where):
    """A manual tree with a mandoc.db under `where`; the references not found."""
    ours = set()
    for page in pages:
        name, section = os.path.basename(page).rsplit('.', 1)
        ours.add((name, section))
        os.makedirs(os.path.join(where, 'man' + section[0]), exist_ok=True)
        shutil.copy(page, os.path.join(where, 'man' + section[0]))
    missing = []
    for page in pages:
        with open(page, encoding='utf-8') as f:
            refs = set(XR.findall(f.read()))
        for name, section in sorted(refs - ours):
            path = system_page(name, section)
            if path is None:
                missing.append('%s(%s)' % (name, section))
                continue
            target = os.path.join(where, 'man' + section[0])
            os.makedirs(target, exist_ok=True)
            # Uncompressed, so that makewhatis reads every copy alike.
            out = os.path.join(target, '%s.%s' % (name, section))
            opener = gzip.open if path.endswith('.gz') else open
            with opener(path, 'rb') as src, open(out, 'wb') as dst:
                shutil.copyfileobj(src, dst)
    return sorted(set(missing))


def main():
    mandoc = shutil.which('mandoc')
    makewhatis = shutil.which('makewhatis') or (
        '/usr/sbin/makewhatis' if os.access('/usr/sbin/makewhatis', os.X_OK) else None)
    if not mandoc or not makewhatis:
        print('SKIP: mandoc or makewhatis is not installed (Debian package mandoc)')
        return 77
    man_dir = os.path.join(SOURCE_ROOT, 'man')
    pages = sorted(glob.glob(os.path.join(man_dir, '*.[1-9]')))
    failures = 0
    for name in EXPECTED:
        if not os.path.exists(os.path.join(man_dir, name)):
            print('FAIL: man/%s is missing' % name)
            failures += 1
    with tempfile.TemporaryDirectory(prefix='sipmasq-man-') as tree:
        missing = build_manpath(pages, tree)
        if missing:
            print('referenced but not installed here (mandoc will say so): ' + ', '.join(missing))
        res = subprocess.run([makewhatis, tree], capture_output=True, text=True, timeout=60,
                             check=False)
        if res.returncode != 0 or res.stdout.strip() or res.stderr.strip():
            print('FAIL: makewhatis %s exited %d:\n%s%s' % (tree, res.returncode, res.stdout,
                                                          res.stderr))
            return 1
        env = dict(os.environ, MANPATH=tree)
        for page in pages:
            res = subprocess.run([mandoc, '-Tlint', '-W', 'style', page], capture_output=True,
                                 text=True, timeout=60, check=False, env=env, cwd=tree)
            output = (res.stdout + res.stderr).strip()
            if output or res.returncode != 0:
                print('FAIL: %s (mandoc exit %d):\n%s' % (os.path.basename(page),
                                                         res.returncode, output))
                failures += 1
            else:
                print('ok: %s' % os.path.basename(page))
    print('%d page(s) checked, %d failure(s)' % (len(pages), failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
