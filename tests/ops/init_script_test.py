#!/usr/bin/env python3
"""The SysV init script (etc/init.d/sipmasq.in, as meson configured it)
against the real daemon of this build.

As root, with start-stop-daemon (Debian's dpkg), it points the script at
the build tree's sipmasq and a configuration on loopback (inside 127.0.0.1,
outside 127.0.0.2, a free SIP port, a jail owned by root in a temporary
directory, user nobody, pid file and control socket in that directory)
through a defaults file named by SIPMASQ_DEFAULTS, and checks:
  status before start 3; start 0, status 0, the parent and both children
  running; a second start 0 with the same pid; reload 0, same pid, still
  running; restart 0 with a new pid and the old processes gone; stop 0,
  status 3, no process left, pid file gone; stop again 0; reload when
  stopped 7; start with a broken configuration 6 and nothing started;
  an unknown action 2.
Skips (77) when not root or without start-stop-daemon. Kills, by pid, only
processes it started, should a check fail half-way.
usage: init_script_test.py INIT_SCRIPT SIPMASQ_BINARY
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# sipd and the two rtpd workers of the test's configuration (rtp_workers = 2).
CHILDREN = ['sipmasq-rtpd', 'sipmasq-rtpd', 'sipmasq-sipd']


def free_udp_port():
    """A port free on both 127.0.0.1 and 127.0.0.2 (bounded tries)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
            a.bind(('127.0.0.1', 0))
            port = a.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                    b.bind(('127.0.0.2', port))
            except OSError:
                continue
            return port
    raise RuntimeError('no free UDP port on 127.0.0.1 and 127.0.0.2')


def exe_of(pid):
    try:
        return os.readlink('/proc/%d/exe' % pid)
    except OSError:
        return None


def alive(pid):
    """Running and not a zombie."""
    try:
        with open('/proc/%d/stat' % pid, encoding='utf-8') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
        return state != 'Z'
    except (OSError, IndexError):
        return False


def children_of(ppid):
    out = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='utf-8') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid and fields[0] != 'Z':
            out[int(entry)] = os.path.basename(exe_of(int(entry)) or '?')
    return out


class InitScriptTest:
    def __init__(self, script, binary, tmp):
        self.script = script
        self.binary = os.path.realpath(binary)
        self.tmp = tmp
        self.failures = []
        self.started = set()  # every pid we saw of ours, for the clean-up
        self.pidfile = os.path.join(tmp, 'run', 'sipmasq.pid')
        self.conf = os.path.join(tmp, 'sipmasq.conf')
        jail = os.path.join(tmp, 'jail')
        os.mkdir(jail, 0o755)
        os.chmod(jail, 0o755)
        os.chmod(tmp, 0o755)
        port = free_udp_port()
        rtp_low = 50000 + (os.getpid() % 200) * 40
        self.good_config = '\n'.join([
            '# written by tests/ops/init_script_test.py',
            'if_inbound = 127.0.0.1',
            'if_outbound = 127.0.0.2',
            'sip_listen_port = %d' % port,
            'rtp_port_low = %d' % rtp_low,
            'rtp_port_high = %d' % (rtp_low + 39),
            'rtp_workers = 2',
            'user = nobody',
            'chrootjail = %s' % jail,
            'registration_file = %s/state/registrations' % jail,
            'pid_file = %s' % self.pidfile,
            'control_socket = %s' % os.path.join(tmp, 'control'),
            'daemonize = 1',
            ''])
        self.write_config(self.good_config)
        defaults = os.path.join(tmp, 'default')
        with open(defaults, 'w', encoding='utf-8') as f:
            f.write('SIPMASQ_BIN=%s\nSIPMASQ_CONF=%s\nSIPMASQ_PIDFILE=%s\n'
                    'SIPMASQ_RUNDIR=%s\nSIPMASQ_JAIL=%s\n'
                    % (self.binary, self.conf, self.pidfile, os.path.dirname(self.pidfile),
                       jail))
        self.env = {
            'PATH': '/usr/sbin:/usr/bin:/sbin:/bin',
            'SIPMASQ_DEFAULTS': defaults,
            # Debian's init-functions would hand a known unit to systemctl.
            '_SYSTEMCTL_SKIP_REDIRECT': 'true',
        }

    def write_config(self, text):
        with open(self.conf, 'w', encoding='utf-8') as f:
            f.write(text)

    def check(self, ok, what):
        print(('ok: ' if ok else 'FAIL: ') + what)
        if not ok:
            self.failures.append(what)
        return ok

    def run(self, action):
        began = time.monotonic()
        res = subprocess.run(['sh', self.script, action], env=self.env, capture_output=True,
                             text=True, timeout=90, check=False)
        out = (res.stdout + res.stderr).strip()
        print('$ sipmasq.init %s -> %d (%.1f s)%s'
              % (action, res.returncode, time.monotonic() - began,
                 ('\n  ' + out.replace('\n', '\n  ')) if out else ''))
        return res.returncode

    def pid(self):
        try:
            with open(self.pidfile, encoding='utf-8') as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def wait_children(self, parent, seconds=10):
        """The two children of `parent`, once both run (bounded wait)."""
        deadline = time.monotonic() + seconds
        kids = {}
        while time.monotonic() < deadline:
            kids = children_of(parent)
            self.started.update(kids)
            if sorted(kids.values()) == CHILDREN:
                return kids
            time.sleep(0.1)
        return kids

    def wait_gone(self, pids, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not any(alive(p) for p in pids):
                return True
            time.sleep(0.1)
        return False

    def running_as_expected(self, what):
        pid = self.pid()
        if not self.check(pid is not None, what + ': pid file written'):
            return None, {}
        self.started.add(pid)
        self.check(alive(pid) and exe_of(pid) == self.binary,
                   what + ': pid %d is the build tree sipmasq' % pid)
        kids = self.wait_children(pid)
        self.check(sorted(kids.values()) == CHILDREN,
                   what + ': sipd and both rtpd workers run under it (%s)' % kids)
        return pid, kids

    def test(self):
        self.check(self.run('status') == 3, 'status before start is 3')
        self.check(self.run('start') == 0, 'start exits 0')
        self.check(self.run('status') == 0, 'status after start is 0')
        pid, kids = self.running_as_expected('after start')
        if pid is None:
            return
        self.check(self.run('start') == 0 and self.pid() == pid,
                   'a second start exits 0 and keeps pid %d' % pid)

        self.check(self.run('reload') == 0, 'reload exits 0')
        time.sleep(0.5)
        self.check(self.run('status') == 0 and self.pid() == pid and alive(pid),
                   'still running as pid %d after reload' % pid)
        self.check(all(alive(k) for k in kids), 'the children survive a reload')
        self.check(self.run('force-reload') == 0, 'force-reload exits 0')

        self.check(self.run('restart') == 0, 'restart exits 0')
        new_pid, new_kids = self.running_as_expected('after restart')
        self.check(new_pid is not None and new_pid != pid, 'restart gives a new pid (%s, was %d)'
                   % (new_pid, pid))
        self.check(self.wait_gone([pid] + list(kids)), 'the old parent and children are gone')

        self.check(self.run('stop') == 0, 'stop exits 0')
        self.check(self.run('status') == 3, 'status after stop is 3')
        everyone = [p for p in [new_pid] + list(new_kids) if p]
        self.check(self.wait_gone(everyone), 'no sipmasq process left (%s)' % everyone)
        self.check(not os.path.exists(self.pidfile), 'the pid file is gone')
        self.check(self.run('stop') == 0, 'stop when stopped exits 0')
        self.check(self.run('reload') == 7, 'reload when stopped exits 7')
        self.check(self.run('try-restart') == 0 and self.pid() is None,
                   'try-restart when stopped exits 0 and starts nothing')

        self.write_config(self.good_config + 'no_such_key = 1\nrtp_port_low = x\n')
        self.check(self.run('start') == 6, 'start with a broken configuration exits 6')
        time.sleep(0.3)
        self.check(self.pid() is None, 'nothing started with the broken configuration')
        self.check(self.run('check') == 6, 'check of the broken configuration exits 6')
        self.write_config(self.good_config)
        self.check(self.run('check') == 0, 'check of the good configuration exits 0')
        self.check(self.run('frobnicate') == 2, 'an unknown action exits 2')

    def clean_up(self):
        pid = self.pid()
        if pid:
            self.started.add(pid)
            self.started.update(children_of(pid))
        # Children (higher pids) before their parent, so that it reaps them.
        for p in sorted(self.started, reverse=True):
            if alive(p) and exe_of(p) and 'sipmasq' in os.path.basename(exe_of(p)):
                print('clean-up: killing pid %d' % p)
                os.kill(p, signal.SIGKILL)


def main():
    # meson passes build targets relative to the build root.
    build_root = os.environ.get('SIPMASQ_BUILD_ROOT', os.getcwd())
    script, binary = (os.path.join(build_root, a) for a in sys.argv[1:3])
    if os.geteuid() != 0:
        print('SKIP: needs root (the daemon chroots and changes user)')
        return 77
    if not shutil.which('start-stop-daemon', path='/usr/sbin:/usr/bin:/sbin:/bin'):
        print('SKIP: start-stop-daemon is not installed (Debian package dpkg)')
        return 77
    with tempfile.TemporaryDirectory(prefix='sipmasq-init-') as tmp:
        test = InitScriptTest(script, binary, tmp)
        try:
            test.test()
        finally:
            test.clean_up()
        print('%d failure(s)' % len(test.failures))
        return 1 if test.failures else 0


if __name__ == '__main__':
    sys.exit(main())
