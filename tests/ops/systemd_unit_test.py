#!/usr/bin/env python3
"""The systemd unit meson configures (build/etc/sipmasq.service).

Parses it as systemd does (sections, Key=Value, repeated keys) and checks:
every key is one systemd knows (a typo would be ignored with only a log
line), the settings the daemon depends on, the capability bounding set is
exactly what the parent and the children's privilege drop use, and the
paths are this build's sbindir and sysconfdir. Then, when systemd-analyze
is installed, `systemd-analyze verify` on a copy that runs the build
tree's binary must print nothing about the unit.
usage: systemd_unit_test.py UNIT SBINDIR SYSCONFDIR BUILD_SIPMASQ
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

KNOWN_KEYS = {
    'Unit': {'Description', 'Documentation', 'After', 'Before', 'Wants', 'Requires',
             'StartLimitIntervalSec', 'StartLimitBurst', 'ConditionPathExists'},
    'Service': {
        'Type', 'ExecStartPre', 'ExecStart', 'ExecReload', 'ExecStop', 'PIDFile',
        'KillMode', 'KillSignal', 'TimeoutStopSec', 'TimeoutStartSec', 'Restart',
        'RestartSec', 'RuntimeDirectory', 'RuntimeDirectoryMode', 'StateDirectory',
        'StateDirectoryMode', 'ProtectSystem', 'ReadWritePaths', 'ProtectHome', 'PrivateTmp',
        'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs',
        'ProtectControlGroups', 'ProtectClock', 'ProtectHostname', 'RestrictAddressFamilies',
        'RestrictNamespaces', 'RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality',
        'MemoryDenyWriteExecute', 'SystemCallArchitectures', 'NoNewPrivileges', 'UMask',
        'CapabilityBoundingSet', 'AmbientCapabilities', 'LimitNOFILE'},
    'Install': {'WantedBy', 'Alias'},
}

# What parent/main.cpp and common/privdrop.cpp need; see the unit's comment.
CAPABILITIES = {'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_CHROOT', 'CAP_SETPCAP', 'CAP_CHOWN',
                'CAP_FOWNER', 'CAP_DAC_READ_SEARCH', 'CAP_KILL'}
# Four descriptors per port pair over the whole port range, plus 256.
NOFILE_NEEDED = 65536 // 2 * 4 + 256


def parse(path):
    sections, current = {}, None
    with open(path, encoding='utf-8') as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line[0] in '#;':
                continue
            m = re.fullmatch(r'\[(\w+)\]', line)
            if m:
                current = sections.setdefault(m.group(1), [])
                continue
            m = re.fullmatch(r'([A-Za-z]+)=(.*)', line)
            if not m or current is None:
                raise ValueError('%s:%d: not a Key=Value line in a section: %s'
                                 % (path, number, line))
            current.append((m.group(1), m.group(2).strip(), number))
    return sections


def main():
    unit, sbindir, sysconfdir, build_sipmasq = sys.argv[1:5]
    # meson passes build targets relative to the build root.
    build_root = os.environ.get('SIPMASQ_BUILD_ROOT', os.getcwd())
    unit = os.path.join(build_root, unit)
    build_sipmasq = os.path.join(build_root, build_sipmasq)
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    sections = parse(unit)
    check(set(sections) == set(KNOWN_KEYS), 'sections are %s' % sorted(sections))
    for name, entries in sections.items():
        for key, _value, number in entries:
            check(key in KNOWN_KEYS.get(name, set()), 'line %d: unknown key %s in [%s]'
                  % (number, key, name))
    service = sections.get('Service', [])

    def values(key):
        return [v for k, v, _ in service if k == key]

    def one(key):
        found = values(key)
        check(len(found) == 1, '%s set %d times' % (key, len(found)))
        return found[0] if found else ''

    daemon = os.path.join(sbindir, 'sipmasq')
    config = os.path.join(sysconfdir, 'sipmasq', 'sipmasq.conf')
    check(one('Type') == 'simple', 'Type is not simple')
    start = one('ExecStart').split()
    check(start[:1] == [daemon] and '-f' in start, 'ExecStart is not %s -f ...' % daemon)
    check(start[start.index('-c') + 1:][:1] == [config] if '-c' in start else False,
          'ExecStart does not name %s' % config)
    check(values('ExecStartPre') == ['%s -t -c %s' % (daemon, config)],
          'ExecStartPre is not sipmasq -t on the configuration')
    check('/bin/kill -HUP $MAINPID' in values('ExecReload'), 'no ExecReload by SIGHUP')
    check(one('KillMode') == 'mixed', 'KillMode is not mixed (SIGTERM to the parent only)')
    check(one('RuntimeDirectory') == 'sipmasq', 'RuntimeDirectory is not sipmasq')
    check(one('StateDirectory') == 'sipmasq', 'StateDirectory is not sipmasq')
    check(one('StateDirectoryMode') == '0755', 'the jail must stay root-owned 0755')
    check(one('ProtectSystem') == 'strict', 'ProtectSystem is not strict')
    check(set(one('ReadWritePaths').split()) == {'/var/lib/sipmasq', '/run/sipmasq'},
          'ReadWritePaths')
    for key in ('ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables',
                'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups',
                'RestrictNamespaces', 'LockPersonality', 'MemoryDenyWriteExecute',
                'NoNewPrivileges'):
        check(one(key) == 'yes', '%s is not yes' % key)
    check(one('SystemCallArchitectures') == 'native', 'SystemCallArchitectures')
    check(set(one('RestrictAddressFamilies').split()) ==
          {'AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'}, 'RestrictAddressFamilies')
    caps = set(one('CapabilityBoundingSet').split())
    check(caps == CAPABILITIES, 'CapabilityBoundingSet: extra %s, missing %s'
          % (sorted(caps - CAPABILITIES), sorted(CAPABILITIES - caps)))
    check(one('AmbientCapabilities') == '', 'AmbientCapabilities must be empty')
    nofile = one('LimitNOFILE')
    check(nofile.isdigit() and int(nofile) >= NOFILE_NEEDED,
          'LimitNOFILE %s is below %d' % (nofile, NOFILE_NEEDED))
    check(any(k == 'WantedBy' and v == 'multi-user.target' for k, v, _ in
              sections.get('Install', [])), 'not WantedBy=multi-user.target')

    analyze = shutil.which('systemd-analyze')
    if analyze:
        with tempfile.TemporaryDirectory(prefix='sipmasq-unit-') as tmp:
            copy = os.path.join(tmp, 'sipmasq.service')
            with open(unit, encoding='utf-8') as f:
                text = f.read().replace(daemon, build_sipmasq)
            with open(copy, 'w', encoding='utf-8') as f:
                f.write(text)
            res = subprocess.run([analyze, 'verify', '--man=no', copy], capture_output=True,
                                 text=True, timeout=120, check=False)
            output = (res.stdout + res.stderr).strip()
            ours = [l for l in output.splitlines() if 'sipmasq' in l]
            if output:
                print('systemd-analyze verify said:\n' + output)
            check(not ours, 'systemd-analyze verify complains about the unit')
        print('systemd-analyze verify: ran')
    else:
        print('systemd-analyze is not installed: only the parse checks ran')

    for failure in failures:
        print('FAIL: ' + failure)
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
