#!/usr/bin/env python3
"""The CapabilityBoundingSet of the systemd unit is enough, and each of its
capabilities is needed.

systemd itself cannot run here, so the bounding set is reproduced with
setpriv(1) (util-linux): root whose bounding set holds only the unit's
capabilities, as systemd starts the service. The real daemon of this build
runs in the foreground on a loopback configuration:
  * with the unit's set, twice (the second start opens the registration
    directory that the first gave to `user`): both children report ready,
    and SIGTERM to the parent stops everything with exit status 0;
  * with each capability taken out in turn: the daemon does not get there
    (a child's privilege drop fails, the parent cannot prepare the
    registration directory, or it cannot stop its children).
Skips (77) when not root or without setpriv. Kills, by pid, only the
processes it started.
usage: unit_capabilities_test.py UNIT SIPMASQ_BINARY
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

READY_WAIT_S = 6
STOP_WAIT_S = 12  # the daemon gives its children 5 s, then kills them


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


def unit_capabilities(unit):
    with open(unit, encoding='utf-8') as f:
        m = re.search(r'^CapabilityBoundingSet=(.*)$', f.read(), re.M)
    if not m:
        raise ValueError(unit + ' has no CapabilityBoundingSet')
    return m.group(1).split()


def children_of(ppid):
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='utf-8') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ppid:
            out.append(int(entry))
    return out


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def wait_exit(proc, seconds):
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def run_daemon(binary, config, caps, log_path):
    """True when the daemon with bounding set `caps` gets both children
    ready and stops cleanly on SIGTERM."""
    bounding = '-all,' + ','.join('+' + c.lower().replace('cap_', '', 1) for c in caps)
    seen = set()
    with open(log_path, 'w', encoding='utf-8') as log:
        proc = subprocess.Popen(['setpriv', '--bounding-set', bounding, '--', binary, '-f',
                                 '-c', config], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_WAIT_S
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            seen.update(children_of(proc.pid))
            with open(log_path, encoding='utf-8', errors='replace') as f:
                text = f.read()
            if 'sipd ready' in text and 'rtpd ready' in text:
                ready = True
                break
            time.sleep(0.1)
        if not ready:
            return False, 'no two ready children within %d s' % READY_WAIT_S
        seen.update(children_of(proc.pid))
        proc.send_signal(signal.SIGTERM)
        rc = wait_exit(proc, STOP_WAIT_S)
        if rc is None:
            return False, 'did not stop within %d s of SIGTERM' % STOP_WAIT_S
        if rc != 0:
            return False, 'exit status %d after SIGTERM' % rc
        return True, 'ready and stopped cleanly'
    finally:
        if proc.poll() is None:
            # Children first, so that their parent reaps them (PID 1 of a
            # container may not), then the parent.
            kids = children_of(proc.pid)
            seen.update(kids)
            for pid in kids:
                kill(pid)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and set(kids) & set(children_of(proc.pid)):
                time.sleep(0.05)
            proc.kill()
            proc.wait()
        for pid in seen:
            kill(pid)


def main():
    if os.geteuid() != 0:
        print('SKIP: needs root (the daemon chroots and changes user)')
        return 77
    if not shutil.which('setpriv'):
        print('SKIP: setpriv is not installed (Debian package util-linux)')
        return 77
    build_root = os.environ.get('SIPMASQ_BUILD_ROOT', os.getcwd())
    unit, binary = (os.path.join(build_root, a) for a in sys.argv[1:3])
    caps = unit_capabilities(unit)
    print('unit capabilities: ' + ' '.join(caps))
    failures = []
    with tempfile.TemporaryDirectory(prefix='sipmasq-caps-') as tmp:
        os.chmod(tmp, 0o755)
        jail = os.path.join(tmp, 'jail')
        os.mkdir(jail, 0o755)
        state = os.path.join(jail, 'state')
        rtp_low = 51000 + (os.getpid() % 200) * 4
        config = os.path.join(tmp, 'sipmasq.conf')
        with open(config, 'w', encoding='utf-8') as f:
            f.write('\n'.join([
                'if_inbound = 127.0.0.1', 'if_outbound = 127.0.0.2',
                'sip_listen_port = %d' % free_udp_port(),
                'rtp_port_low = %d' % rtp_low, 'rtp_port_high = %d' % (rtp_low + 3),
                'user = nobody', 'chrootjail = ' + jail,
                'registration_file = %s/registrations' % state,
                'pid_file = %s/sipmasq.pid' % tmp, 'control_socket = %s/control' % tmp,
                'daemonize = 0', '']))
        log = os.path.join(tmp, 'log')

        def attempt(what, with_caps, want):
            ok, why = run_daemon(binary, config, with_caps, log)
            good = ok == want
            print('%s: %s: %s' % ('ok' if good else 'FAIL', what, why))
            if not good:
                failures.append(what)
                with open(log, encoding='utf-8', errors='replace') as f:
                    print('  ' + f.read().strip().replace('\n', '\n  '))

        attempt('the unit set, first start', caps, True)
        attempt('the unit set, second start', caps, True)
        for cap in caps:
            # CAP_CHOWN and CAP_FOWNER act on a new registration directory;
            # the others are tried with the one the first start prepared.
            if cap in ('CAP_CHOWN', 'CAP_FOWNER'):
                shutil.rmtree(state, ignore_errors=True)
            attempt('without ' + cap, [c for c in caps if c != cap], False)
            shutil.rmtree(state, ignore_errors=True)
            ok, _ = run_daemon(binary, config, caps, log)
            if not ok:
                failures.append('the unit set after trying without ' + cap)
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
