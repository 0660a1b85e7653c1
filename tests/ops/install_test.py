#!/usr/bin/env python3
"""`meson install --destdir` puts every file where the distribution wants it.

Installs this build into a temporary DESTDIR and checks the tree against
the directories meson resolved for this build (passed by tests/ops/
meson.build, so the default prefix /usr/local works as well as /usr with
its /etc): the daemon and sipmasqctl in sbin, the children in
libexec/sipmasq (the path compiled into the daemon), the configuration in
sysconfdir/sipmasq, the man pages, the systemd unit and the init script
(executable) naming the installed daemon, and the fail2ban filter; and
that nothing lands outside prefix and sysconfdir.
usage: install_test.py MESON BUILD_ROOT PREFIX SBINDIR LIBEXECDIR SYSCONFDIR MANDIR
"""
import os
import stat
import subprocess
import sys
import tempfile


def main():
    meson, build_root, prefix, sbindir, libexecdir, sysconfdir, mandir = sys.argv[1:8]
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix='sipmasq-install-') as dest:
        res = subprocess.run([meson, 'install', '-C', build_root, '--no-rebuild', '--quiet',
                              '--destdir', dest], capture_output=True, text=True, timeout=300,
                             check=False)
        if res.returncode != 0:
            print('FAIL: meson install exited %d:\n%s%s' % (res.returncode, res.stdout,
                                                           res.stderr))
            return 1

        def at(path):
            return os.path.join(dest, path.lstrip('/'))

        def executable(path, what):
            p = at(path)
            check(os.path.isfile(p) and os.access(p, os.X_OK), '%s: no executable %s'
                  % (what, path))

        def regular(path, what, mode=0o644):
            p = at(path)
            if not os.path.isfile(p):
                failures.append('%s: no file %s' % (what, path))
                return
            check(stat.S_IMODE(os.stat(p).st_mode) == mode, '%s: %s is mode %o, not %o'
                  % (what, path, stat.S_IMODE(os.stat(p).st_mode), mode))

        executable(os.path.join(sbindir, 'sipmasq'), 'daemon')
        executable(os.path.join(sbindir, 'sipmasqctl'), 'control tool')
        executable(os.path.join(libexecdir, 'sipmasq-sipd'), 'sipd')
        executable(os.path.join(libexecdir, 'sipmasq-rtpd'), 'rtpd')
        regular(os.path.join(sysconfdir, 'sipmasq', 'sipmasq.conf'), 'configuration')
        for page in ('man8/sipmasq.8', 'man5/sipmasq.conf.5', 'man8/sipmasq-sipd.8',
                     'man8/sipmasq-rtpd.8', 'man8/sipmasqctl.8'):
            regular(os.path.join(mandir, page), 'man page')
        unit = os.path.join(prefix, 'lib', 'systemd', 'system', 'sipmasq.service')
        regular(unit, 'systemd unit')
        init = os.path.join(sysconfdir, 'init.d', 'sipmasq')
        regular(init, 'init script', 0o755)
        regular(os.path.join(sysconfdir, 'fail2ban', 'filter.d', 'sipmasq.conf'),
                'fail2ban filter')
        regular(os.path.join(sysconfdir, 'default', 'sipmasq'), 'init script settings')

        daemon = os.path.join(sbindir, 'sipmasq')
        config = os.path.join(sysconfdir, 'sipmasq', 'sipmasq.conf')
        if os.path.isfile(at(unit)):
            with open(at(unit), encoding='utf-8') as f:
                text = f.read()
            check('ExecStart=%s -f -c %s ' % (daemon, config) in text,
                  'the unit does not start %s -f -c %s' % (daemon, config))
            check('@' not in text.replace('$MAINPID', ''), 'the unit has an unreplaced @VAR@')
        if os.path.isfile(at(init)):
            with open(at(init), encoding='utf-8') as f:
                text = f.read()
            check(text.startswith('#!/bin/sh\n### BEGIN INIT INFO\n'), 'init script header')
            check(': "${SIPMASQ_BIN:=%s}"' % daemon in text, 'init script default binary')
            check(': "${SIPMASQ_CONF:=%s}"' % config in text, 'init script default config')
            check(': "${SIPMASQ_DEFAULTS:=%s}"' % os.path.join(sysconfdir, 'default', 'sipmasq')
                  in text, 'init script default settings file')
            check('@SBINDIR@' not in text and '@SYSCONFDIR@' not in text,
                  'init script has an unreplaced @VAR@')

        # The installed daemon starts its children from where they were put.
        if os.path.isfile(at(daemon)):
            with open(at(daemon), 'rb') as f:
                binary = f.read()
            check(libexecdir.encode() + b'\0' in binary,
                  'the daemon does not look for its children in %s' % libexecdir)
            res = subprocess.run([at(daemon), '--version'], capture_output=True, text=True,
                                 timeout=30, check=False)
            check(res.returncode == 0 and res.stdout.startswith('sipmasq '),
                  'installed sipmasq --version failed: %r' % (res.stdout + res.stderr))

        # Nothing outside prefix and sysconfdir.
        roots = [prefix.rstrip('/') + '/', sysconfdir.rstrip('/') + '/']
        count = 0
        for top, _dirs, files in os.walk(dest):
            for name in files:
                path = '/' + os.path.relpath(os.path.join(top, name), dest)
                count += 1
                check(any(path.startswith(r) for r in roots),
                      '%s is outside %s' % (path, ' and '.join(roots)))
        print('%d files installed under %s' % (count, dest))

    for failure in failures:
        print('FAIL: ' + failure)
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
