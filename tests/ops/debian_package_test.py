#!/usr/bin/env python3
"""The Debian package builds, is lint-clean, installs, runs and purges cleanly.

1. Copies the source tree (without .git and build directories) into a
   temporary directory and builds it with `dpkg-buildpackage -us -uc -b`;
   the source tree is never written.
2. `lintian` on the result reports no error and no warning (overrides in
   debian/sipmasq.lintian-overrides say why for anything left).
3. In a private mount, PID and network namespace, the machine's root file
   system becomes a copy-on-write overlay (nothing reaches the real
   machine; the namespaces end every process and mount with the test),
   /run and /tmp fresh tmpfs, and a veth pair in0/out0 carries the
   addresses of the example configuration (192.0.2.1, 203.0.113.1). In
   that root: `dpkg -i`, then
   - the users sipmasq and sipmasq-rtp are system users without a login;
     the jail /var/lib/sipmasq is root's (0755), /var/lib/sipmasq/state
     sipmasq's (0750); the configuration, the init script and the
     fail2ban files are conffiles; the configuration names both users;
   - installing started nothing; `sipmasq -t` accepts the installed
     configuration;
   - `/etc/init.d/sipmasq start` starts the installed daemon (status 0),
     with sipd running as sipmasq and rtpd as sipmasq-rtp, both with
     NoNewPrivs and seccomp; `stop` ends all three (status 3);
   - started again, `dpkg --purge` stops it (prerm) and removes it: no
     process, no file of the package, nothing new in the overlay but
     dpkg's own records and the two users (which Debian keeps, see
     debian/postrm), nothing left in /run and /tmp, no host file deleted.
Skips (77) when not root, or without dpkg-buildpackage, debhelper,
lintian, unshare or ip (./dev installs them).
usage: debian_package_test.py [--inner DEB WORKDIR]
"""
import glob
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

SOURCE_ROOT = os.path.abspath(os.environ.get(
    'SIPMASQ_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..')))
USERS = ('sipmasq', 'sipmasq-rtp')
# What dpkg, adduser and man-db's trigger (its index of all pages) may
# leave in the overlay once the package is purged.
ALLOWED_LEFT = ('var/lib/dpkg/', 'var/log/dpkg.log', 'var/log/alternatives.log',
                'var/cache/debconf/', 'var/cache/man/', 'etc/.pwd.lock')
# adduser's lock file.
ALLOWED_IN_RUN = ['adduser']
ACCOUNT_FILES = ('etc/passwd', 'etc/group', 'etc/shadow', 'etc/gshadow')


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          **kw)


# ---------------------------------------------------------------- outside


def copy_source(dest):
    def ignore(directory, names):
        skipped = {'.git', '__pycache__'}
        for name in names:
            path = os.path.join(directory, name)
            # A meson build directory, in the tree or beside it.
            if os.path.isdir(os.path.join(path, 'meson-private')) or name.startswith('obj-'):
                skipped.add(name)
        return skipped & set(names)
    shutil.copytree(SOURCE_ROOT, dest, ignore=ignore, symlinks=True)


def build_package(work):
    src = os.path.join(work, 'sipmasq')
    copy_source(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS='parallel=%d' % max(1, min(os.cpu_count() or 1,
                                                                         2)))
    env.pop('SIPMASQ_SOURCE_ROOT', None)
    res = run(['dpkg-buildpackage', '-us', '-uc', '-b'], timeout=1500, cwd=src, env=env)
    with open(os.path.join(work, 'build.log'), 'w', encoding='utf-8') as f:
        f.write(res.stdout + res.stderr)
    debs = glob.glob(os.path.join(work, 'sipmasq_*.deb'))
    if res.returncode != 0 or len(debs) != 1:
        print('FAIL: dpkg-buildpackage exited %d, made %s:\n%s' % (
            res.returncode, debs, (res.stdout + res.stderr)[-6000:]))
        return None
    print('ok: dpkg-buildpackage -us -uc -b made %s' % os.path.basename(debs[0]))
    return debs[0]


def lint(work):
    changes = glob.glob(os.path.join(work, 'sipmasq_*.changes'))
    res = run(['lintian', '--show-overrides'] + changes, timeout=600)
    output = (res.stdout + res.stderr).strip()
    print('lintian said:\n' + (output or '(nothing)'))
    bad = [line for line in output.splitlines() if line[:2] in ('E:', 'W:')]
    if bad or res.returncode not in (0, 2) or not changes:
        print('FAIL: lintian reports %d error(s) or warning(s) (exit %d)' % (len(bad),
                                                                         res.returncode))
        return False
    print('ok: lintian reports no error and no warning')
    return True


def main():
    if os.geteuid() != 0:
        print('SKIP: needs root (dpkg -i in a namespace with an overlay root)')
        return 77
    for tool, package in (('dpkg-buildpackage', 'dpkg-dev'), ('dh', 'debhelper'),
                          ('lintian', 'lintian'), ('unshare', 'util-linux'),
                          ('ip', 'iproute2')):
        if not shutil.which(tool):
            print('SKIP: %s is not installed (Debian package %s)' % (tool, package))
            return 77
    work = tempfile.mkdtemp(prefix='sipmasq-deb-')
    try:
        deb = build_package(work)
        if deb is None:
            return 1
        lint_ok = lint(work)
        res = run(['unshare', '--mount', '--pid', '--net', '--fork', '--kill-child',
                   sys.executable, os.path.abspath(__file__), '--inner', deb, work],
                  timeout=600)
        print(res.stdout + res.stderr)
        inner_ok = res.returncode == 0
        if not inner_ok:
            print('FAIL: the installed package (exit %d)' % res.returncode)
        return 0 if lint_ok and inner_ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------- inside


class Root:
    """The overlay root; commands run chrooted into it."""

    def __init__(self, work):
        self.base = os.path.join(work, 'overlay')
        os.makedirs(self.base)
        subprocess.run(['mount', '-t', 'tmpfs', 'sipmasq-test', self.base], check=True)
        self.upper = os.path.join(self.base, 'upper')
        self.root = os.path.join(self.base, 'root')
        for d in ('upper', 'work', 'root'):
            os.makedirs(os.path.join(self.base, d))
        subprocess.run(['mount', '-t', 'overlay', 'overlay', '-o',
                        'lowerdir=/,upperdir=%s,workdir=%s' % (self.upper,
                                                              os.path.join(self.base, 'work')),
                        self.root], check=True)
        subprocess.run(['mount', '-t', 'proc', 'proc', self.path('/proc')], check=True)
        subprocess.run(['mount', '-t', 'sysfs', 'sysfs', self.path('/sys')], check=True)
        for d in ('/run', '/tmp'):
            subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=1777' if d == '/tmp' else
                            'mode=0755', 'tmpfs', self.path(d)], check=True)
        # A /dev of its own: the device nodes the programs use, and a
        # /dev/log that this test reads (the daemon logs to syslog).
        subprocess.run(['mount', '-t', 'tmpfs', '-o', 'mode=0755', 'dev', self.path('/dev')],
                       check=True)
        for node in ('null', 'zero', 'full', 'random', 'urandom', 'tty'):
            open(self.path('/dev/' + node), 'w').close()
            subprocess.run(['mount', '--bind', '/dev/' + node, self.path('/dev/' + node)],
                           check=True)
        os.symlink('/proc/self/fd', self.path('/dev/fd'))
        for i, name in enumerate(('stdin', 'stdout', 'stderr')):
            os.symlink('/proc/self/fd/%d' % i, self.path('/dev/' + name))
        self.syslog = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.syslog.bind(self.path('/dev/log'))
        os.chmod(self.path('/dev/log'), 0o666)
        # Read as it comes: a full queue (10 datagrams) would block the daemon.
        self.log_lines = []
        self.log_lock = threading.Lock()
        threading.Thread(target=self._drain_syslog, daemon=True).start()

    def _drain_syslog(self):
        while True:
            line = self.syslog.recv(65536).decode('utf-8', 'replace').rstrip()
            with self.log_lock:
                self.log_lines.append(line)

    def read_syslog(self):
        """What was logged to /dev/log since the last call."""
        time.sleep(0.2)
        with self.log_lock:
            lines, self.log_lines = self.log_lines, []
        return lines

    def path(self, p):
        return os.path.join(self.root, p.lstrip('/'))

    def run(self, cmd, timeout=120):
        env = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C.UTF-8',
               'DEBIAN_FRONTEND': 'noninteractive', '_SYSTEMCTL_SKIP_REDIRECT': 'true'}
        return run(['chroot', self.root] + cmd, timeout=timeout, env=env)

    def upper_entries(self):
        found = {}
        for top, dirs, files in os.walk(self.upper):
            for name in dirs + files:
                p = os.path.join(top, name)
                st = os.lstat(p)
                rel = os.path.relpath(p, self.upper)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    found[rel] = 'deleted'
                elif stat.S_ISDIR(st.st_mode):
                    found[rel] = 'dir'
                else:
                    found[rel] = 'file'
        return found


def processes(root):
    """{pid: (exe inside the root, uid, status text)} of every process in
    this PID namespace."""
    out = {}
    for entry in os.listdir(root.path('/proc')):
        if not entry.isdigit():
            continue
        try:
            exe = os.readlink(root.path('/proc/%s/exe' % entry))
            if exe.startswith(root.root + '/'):
                exe = exe[len(root.root):]
            with open(root.path('/proc/%s/status' % entry), encoding='utf-8') as f:
                status = f.read()
        except OSError:
            continue
        uid = int(next(l for l in status.splitlines() if l.startswith('Uid:')).split()[1])
        out[int(entry)] = (exe, uid, status)
    return out


def sipmasq_processes(root):
    return {pid: p for pid, p in processes(root).items()
            if p[0].startswith('/usr/sbin/sipmasq') or p[0].startswith('/usr/libexec/sipmasq/')}


def wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def inner(deb, work):
    failures = []

    def check(ok, what):
        print(('ok: ' if ok else 'FAIL: ') + what)
        if not ok:
            failures.append(what)
        return ok

    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    subprocess.run(['ip', 'link', 'add', 'in0', 'type', 'veth', 'peer', 'name', 'out0'],
                   check=True)
    subprocess.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'in0'], check=True)
    subprocess.run(['ip', 'addr', 'add', '203.0.113.1/24', 'dev', 'out0'], check=True)
    for dev in ('in0', 'out0'):
        subprocess.run(['ip', 'link', 'set', dev, 'up'], check=True)
    root = Root(work)

    # A clean root: nothing of an earlier sipmasq on this machine.
    listing = run(['dpkg-deb', '-c', deb]).stdout.splitlines()
    shipped = sorted({l.split()[-1].lstrip('.').rstrip('/') for l in listing if l.strip()}
                     - {''})
    own_dirs = ('/etc/sipmasq', '/usr/libexec/sipmasq', '/var/lib/sipmasq',
                '/usr/share/doc/sipmasq')
    for p in shipped:
        if os.path.lexists(root.path(p)) and (p in own_dirs or not os.path.isdir(root.path(p))):
            subprocess.run(['rm', '-rf', root.path(p)], check=True)
    # A booted machine has no policy-rc.d (a container image may have one
    # that forbids every start and stop).
    if os.path.lexists(root.path('/usr/sbin/policy-rc.d')):
        os.unlink(root.path('/usr/sbin/policy-rc.d'))
    for user in USERS:
        with open(root.path('/etc/passwd'), encoding='utf-8') as f:
            if any(l.startswith(user + ':') for l in f):
                check(False, 'the machine has no user %s before the test' % user)
                return 1
    before = root.upper_entries()
    accounts_before = {}
    for f in ACCOUNT_FILES:
        with open(root.path(f), encoding='utf-8') as fh:
            accounts_before[f] = fh.read().splitlines()

    shutil.copy(deb, root.path('/tmp/'))
    res = root.run(['dpkg', '-i', '/tmp/' + os.path.basename(deb)], timeout=300)
    if not check(res.returncode == 0, 'dpkg -i installs the package'):
        print(res.stdout + res.stderr)
        return 1

    # Users, directories, conffiles, configuration.
    for user in USERS:
        res = root.run(['getent', 'passwd', user])
        fields = res.stdout.strip().split(':')
        check(res.returncode == 0 and len(fields) == 7 and 0 < int(fields[2]) < 1000 and
              fields[6] in ('/usr/sbin/nologin', '/bin/false'),
              'system user %s without a login: %s' % (user, res.stdout.strip()))
        check(root.run(['getent', 'group', user]).returncode == 0, 'group %s' % user)

    def owner(path):
        st = os.stat(root.path(path))
        res = root.run(['stat', '-c', '%U:%G', path])
        return res.stdout.strip(), stat.S_IMODE(st.st_mode)
    check(owner('/var/lib/sipmasq') == ('root:root', 0o755),
          'jail /var/lib/sipmasq is root:root 0755: %s' % (owner('/var/lib/sipmasq'),))
    check(owner('/var/lib/sipmasq/state') == ('sipmasq:sipmasq', 0o750),
          'state /var/lib/sipmasq/state is sipmasq:sipmasq 0750: %s'
          % (owner('/var/lib/sipmasq/state'),))
    conffiles = root.run(['dpkg-query', '-W', '-f', '${Conffiles}', 'sipmasq']).stdout
    for c in ('/etc/sipmasq/sipmasq.conf', '/etc/init.d/sipmasq', '/etc/default/sipmasq',
              '/etc/fail2ban/filter.d/sipmasq.conf', '/etc/fail2ban/jail.d/sipmasq.conf'):
        check(' %s ' % c in conffiles + ' ', '%s is a conffile' % c)
    with open(root.path('/etc/sipmasq/sipmasq.conf'), encoding='utf-8') as f:
        conf = f.read().splitlines()
    check('user = sipmasq' in conf and 'rtp_user = sipmasq-rtp' in conf,
          'the configuration runs the children as sipmasq and sipmasq-rtp')
    for f in ('/usr/sbin/sipmasq', '/usr/sbin/sipmasqctl', '/usr/libexec/sipmasq/sipmasq-sipd',
              '/usr/libexec/sipmasq/sipmasq-rtpd', '/lib/systemd/system/sipmasq.service',
              '/usr/share/man/man8/sipmasq.8.gz', '/usr/share/man/man5/sipmasq.conf.5.gz'):
        check(os.path.isfile(root.path(f)), '%s is installed' % f)
    check(not sipmasq_processes(root), 'installing started nothing (not enabled)')

    res = root.run(['/usr/sbin/sipmasq', '-t', '-c', '/etc/sipmasq/sipmasq.conf'])
    check(res.returncode == 0 and 'configuration OK' in res.stdout,
          'sipmasq -t accepts the installed configuration: %s' % (res.stdout + res.stderr).strip())

    # The installed configuration says rtp_workers = 0: one rtpd per online
    # core (at most 16; its 500 port pairs give each at least two).
    workers = max(1, min(os.sysconf('SC_NPROCESSORS_ONLN'), 16))

    def children_up():
        names = sorted(os.path.basename(p[0]) for p in sipmasq_processes(root).values())
        return names == ['sipmasq'] + ['sipmasq-rtpd'] * workers + ['sipmasq-sipd']

    def start(what):
        res = root.run(['/etc/init.d/sipmasq', 'start'], timeout=60)
        check(res.returncode == 0, '%s: /etc/init.d/sipmasq start exits 0: %s'
              % (what, (res.stdout + res.stderr).strip()))
        up = check(wait_for(children_up), '%s: the daemon and both children run' % what)
        logged = root.read_syslog()
        check(any('sipmasq 0.1.0 starting' in line or 'starting (config' in line
                  for line in logged), '%s: the daemon logs to syslog (%d line(s))'
              % (what, len(logged)))
        if not up or res.returncode != 0:
            print('\n'.join(logged))
        if not up:
            res = root.run(['timeout', '3', '/usr/sbin/sipmasq', '-f', '-c',
                            '/etc/sipmasq/sipmasq.conf'])
            print('sipmasq -f said:\n' + res.stdout + res.stderr)

    # As on a machine whose network is up: no address still tentative
    # (IPv6 duplicate address detection on the veth pair), since sipmasq
    # binds every address of in0 and out0.
    tentative = run(['ip', '-6', 'addr', 'show', 'tentative']).stdout.strip()
    if tentative:
        print('waiting for tentative addresses:\n' + tentative)
    check(wait_for(lambda: not run(['ip', '-6', 'addr', 'show', 'tentative']).stdout.strip()),
          'no tentative address left on in0 and out0')
    start('first start')
    uid = {u: int(root.run(['id', '-u', u]).stdout.strip() or -1) for u in USERS}
    for exe, puid, status in sipmasq_processes(root).values():
        name = os.path.basename(exe)
        if name == 'sipmasq':
            check(puid == 0, 'the parent runs as root')
            continue
        want = 'sipmasq' if name == 'sipmasq-sipd' else 'sipmasq-rtp'
        fields = dict(l.split(':', 1) for l in status.splitlines() if ':' in l)
        check(puid == uid[want] and fields.get('NoNewPrivs', '').strip() == '1' and
              fields.get('Seccomp', '').strip() == '2' and
              fields.get('CapEff', '').strip() == '0000000000000000',
              '%s runs as %s, no capabilities, NoNewPrivs, seccomp' % (name, want))
    res = root.run(['/etc/init.d/sipmasq', 'status'])
    check(res.returncode == 0, 'status 0 while running: %s' % res.stdout.strip())
    check(os.path.isfile(root.path('/run/sipmasq/sipmasq.pid')), 'pid file written')

    res = root.run(['/etc/init.d/sipmasq', 'stop'], timeout=60)
    check(res.returncode == 0, '/etc/init.d/sipmasq stop exits 0')
    check(wait_for(lambda: not sipmasq_processes(root)), 'stop ends the daemon and children')
    res = root.run(['/etc/init.d/sipmasq', 'status'])
    check(res.returncode == 3, 'status 3 once stopped: %s' % res.stdout.strip())

    start('second start')
    res = root.run(['dpkg', '--purge', 'sipmasq'], timeout=300)
    check(res.returncode == 0, 'dpkg --purge sipmasq: %s' % (res.stdout + res.stderr).strip())
    check(wait_for(lambda: not sipmasq_processes(root), 5),
          'purging a running sipmasq stops it (prerm)')
    res = root.run(['dpkg-query', '-W', '-f', '${db:Status-Status}', 'sipmasq'])
    check(res.stdout.strip() in ('', 'not-installed'), 'dpkg knows sipmasq no more: %r'
          % res.stdout.strip())

    # Nothing left.
    left = [p for p in shipped if p not in ('', '/etc', '/usr', '/lib', '/var')
            and os.path.lexists(root.path(p)) and not os.path.isdir(root.path(p))]
    left += [d for d in own_dirs if os.path.lexists(root.path(d))]
    check(not left, 'no file of the package is left: %s' % left)
    after = root.upper_entries()
    new = []
    for rel, kind in sorted(after.items()):
        if before.get(rel) == kind:
            continue
        if kind == 'dir' and os.path.isdir('/' + rel):
            continue  # copied up for a change below it
        if kind == 'file' and (rel.startswith(ALLOWED_LEFT) or rel in ACCOUNT_FILES or
                               rel.rstrip('-') in ACCOUNT_FILES):
            continue
        new.append('%s (%s)' % (rel, kind))
    check(not new, 'nothing new in the root but dpkg records and the users: %s' % new)
    for f in ACCOUNT_FILES:
        with open(root.path(f), encoding='utf-8') as fh:
            now = fh.read().splitlines()
        removed = [l for l in accounts_before[f] if l not in now]
        added = sorted(l.split(':')[0] for l in now if l not in accounts_before[f])
        check(not removed and added in ([], sorted(USERS)),
              '/%s: only the users %s added (%s), none removed (%s)'
              % (f, ', '.join(USERS), added, removed))
    for d in ('/run', '/tmp'):
        entries = sorted(os.listdir(root.path(d)))
        entries = [e for e in entries if e not in (
            [os.path.basename(deb)] if d == '/tmp' else ALLOWED_IN_RUN)]
        check(not entries, 'nothing left in %s: %s' % (d, entries))
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--inner':
        sys.exit(inner(sys.argv[2], sys.argv[3]))
    sys.exit(main())
