#!/usr/bin/env python3
"""The fail2ban filter etc/fail2ban/filter.d/sipmasq.conf against sample lines,
and the jail etc/fail2ban/jail.d/sipmasq.conf against sipmasq's ports.

Every sample says which address fail2ban must take from it, or that it must
not match: only the events hostile by themselves (auth-failed,
register-refused, relay-refused, forged-response, wrong-interface) ban;
not-found, bad-request, loop, acl-refused and OPTIONS pings never do. The samples include attacker-supplied details that try to inject
another address (a second "from IP:port", a whole fake security line, a
crafted From display name, an escaped newline); the filter must always take
the address at the fixed position, the one the socket gave.

Two checks, both on every sample:
  * fail2ban-regex (Debian package fail2ban), when it is installed: the real
    thing, with fail2ban's own common.conf, date detection and <ADDR>;
  * always, a reproduction with Python's re: the [Definition] values are
    interpolated as fail2ban does (%(name)s), the syslog or ISO date at the
    start of the line is cut out as fail2ban's date detector does, the
    prefix is a restatement of common.conf's line prefix for log files
    (optional host name, then "daemon[pid]:"), and <ADDR> becomes an IPv4
    or bracketed IPv6 address with groups ip4/ip6, as in fail2ban.
Exit status: 0 pass, 1 fail (meson's exitcode protocol).
"""
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile

SOURCE_ROOT = os.environ.get(
    'SIPMASQ_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
FILTER = os.path.join(SOURCE_ROOT, 'etc', 'fail2ban', 'filter.d', 'sipmasq.conf')
JAIL = os.path.join(SOURCE_ROOT, 'etc', 'fail2ban', 'jail.d', 'sipmasq.conf')
CONFIG_KEYS = os.path.join(SOURCE_ROOT, 'common', 'config_keys.cpp')
EXAMPLE_CONFIG = os.path.join(SOURCE_ROOT, 'etc', 'sipmasq.conf')

SYSLOG = 'Nov 24 10:00:%02d fw sipmasq[812]: '
STDERR = '2026-11-24 10:00:%02d.123 sipmasq[812] warning: '
JOURNAL_VIA_RSYSLOG = 'Nov 24 10:00:%02d fw sipmasq[812]: 2026-11-24 10:00:00.123 sipmasq[812] notice: '

# (line, address fail2ban must ban, or None for no match)
SAMPLES = [
    # The hostile events, each shape of line.
    (SYSLOG + 'sipd[815]: security: auth-failed from 198.51.100.7:5060: user "alice"',
     '198.51.100.7'),
    (SYSLOG + 'sipd[815]: security: register-refused from 198.51.100.8:5062: '
     'not in hosts_allow_reg', '198.51.100.8'),
    (STDERR + 'sipd[815]: security: relay-refused from 203.0.113.9:5060: '
     'sip:x@example.net', '203.0.113.9'),
    (JOURNAL_VIA_RSYSLOG + 'sipd[815]: security: forged-response from 198.51.100.10:5060: '
     '200 OK matches no transaction', '198.51.100.10'),
    (SYSLOG + 'sipd[815]: security: wrong-interface from 198.51.100.11:1024: '
     'inside address on the outside socket', '198.51.100.11'),
    (SYSLOG + 'security: relay-refused from 198.51.100.12:5060', '198.51.100.12'),
    # IPv6, always in brackets; and an IPv4-mapped address.
    (SYSLOG + 'sipd[815]: security: auth-failed from [2001:db8::1]:5060: user "bob"',
     '2001:db8::1'),
    (STDERR + 'sipd[815]: security: forged-response from [2001:db8:0:1::2]:5062: 180',
     '2001:db8:0:1::2'),
    (SYSLOG + 'sipd[815]: security: wrong-interface from [::ffff:198.51.100.13]:5060: x',
     '198.51.100.13'),
    # Injection attempts in the details: the socket's address wins.
    (SYSLOG + 'sipd[815]: security: auth-failed from 198.51.100.20:5060: '
     'user "x from 203.0.113.66:5060: y"', '198.51.100.20'),
    (SYSLOG + 'sipd[815]: security: register-refused from 198.51.100.21:5060: '
     'To "security: auth-failed from 203.0.113.67:5060: z"', '198.51.100.21'),
    (SYSLOG + 'sipd[815]: security: auth-failed from 198.51.100.22:5060: '
     'From "\\"admin\\" from 203.0.113.68:5060" <sip:admin@203.0.113.68>', '198.51.100.22'),
    (SYSLOG + 'sipd[815]: security: relay-refused from [2001:db8::23]:5060: '
     'Via SIP/2.0/UDP 203.0.113.69:5060 from [2001:db8::99]:5060:', '2001:db8::23'),
    # A newline in a header, as the log escapes it, followed by a fake line.
    (SYSLOG + 'sipd[815]: security: auth-failed from 198.51.100.24:5060: user "a?'
     'Nov 24 10:00:00 fw sipmasq[812]: security: auth-failed from 203.0.113.70:5060: x"',
     '198.51.100.24'),
    # A crafted display name that is itself an address with a port.
    (SYSLOG + 'sipd[815]: security: register-refused from 198.51.100.25:5060: '
     'From "203.0.113.71:5060" <sip:203.0.113.71>', '198.51.100.25'),
    # As sipd/sip_proxy.cpp's security_line() writes them, with the
    # rate limiter's suffix and the parent's "sipd[pid]:" prefix.
    (SYSLOG + 'sipd[815]: security: relay-refused from 198.51.100.40:5060: 403 relaying '
     'denied: INVITE sip:x@example.net to <sip:x@example.net> (4 similar suppressed)',
     '198.51.100.40'),
    (SYSLOG + 'sipd[815]: security: register-refused from 198.51.100.41:5060: '
     'domain not served: sip:alice@203.0.113.76:5060', '198.51.100.41'),
    (SYSLOG + 'sipd[815]: security: auth-failed from 198.51.100.42:5060: '
     'user=alice (wrong password) (0 similar suppressed)', '198.51.100.42'),
    # Events an honest peer causes: never a ban, whatever they carry.
    (STDERR + 'sipd[815]: security: not-found from [2001:db8::42]:5060: 404 no such user: '
     'INVITE sip:carol@203.0.113.1 to <sip:carol@203.0.113.1>', None),
    (SYSLOG + 'sipd[815]: security: not-found from 198.51.100.45:5060: 404 no such user: '
     'OPTIONS sip:alice@203.0.113.1 to <sip:alice@203.0.113.1>', None),
    (SYSLOG + 'sipd[815]: security: bad-request from 198.51.100.44:5060: '
     'unparseable request dropped (0 similar suppressed)', None),
    (SYSLOG + 'sipd[815]: security: bad-request from 198.51.100.46:5060: 400 missing '
     'mandatory header: OPTIONS sip:203.0.113.1 to <sip:ping@203.0.113.1>', None),
    (SYSLOG + 'sipd[815]: security: loop from 198.51.100.43:5060: loop detected', None),
    (SYSLOG + 'sipd[815]: security: acl-refused from 198.51.100.47:5060: not in '
     'hosts_allow_sip', None),
    # A user blocked after guesses from elsewhere: her own phone is refused
    # too, and must not be banned for it (the guesses were counted).
    (SYSLOG + 'sipd[815]: security: auth-throttled from 192.0.2.10:5060: 403 too many '
     'failures: REGISTER sip:203.0.113.1 to <sip:alice@203.0.113.1>', None),
    # A harmless event whose details name a hostile one: still no match.
    (SYSLOG + 'sipd[815]: security: not-found from 198.51.100.48:5060: To '
     '"security: auth-failed from 203.0.113.78:5060: x"', None),
    (SYSLOG + 'sipd[815]: security: bad-request from 198.51.100.49:5060: '
     'relay-refused from 203.0.113.79:5060: x', None),
    # A hostile name as part of a longer word is another event.
    (SYSLOG + 'sipd[815]: security: xauth-failed from 198.51.100.50:5060: x', None),
    (SYSLOG + 'sipd[815]: security: auth-failed-not from 198.51.100.51:5060: x', None),
    # An invalid source address is written as "-": nothing to ban.
    (SYSLOG + 'sipd[815]: security: auth-failed from -: from 203.0.113.77:5060: x', None),
    # Not security events: no match, whatever address they carry.
    (SYSLOG + 'sipd[815]: registered sip:alice@203.0.113.1 from 198.51.100.30:5060', None),
    (SYSLOG + 'sipd[815]: call started from 198.51.100.31:5060 to sip:bob@example.net', None),
    (SYSLOG + 'sipd[815]: bad SIP message: security: auth-failed from 203.0.113.72:5060: x',
     None),
    (SYSLOG + 'sipd[815]: warning: From "security: auth-failed from 203.0.113.73:5060:"', None),
    (STDERR + 'sipd[815]: notice: security: relay-refused text from 203.0.113.74:5060:', None),
    # Another program's line in the same syslog file.
    ('Nov 24 10:00:%02d fw sshd[99]: security: auth-failed from 203.0.113.75:5060: x', None),
    # The address must be followed by a port: no port, no match.
    (SYSLOG + 'sipd[815]: security: auth-failed from 198.51.100.32: x', None),
]


def lines_with_seconds():
    """Each sample with a distinct second in its date."""
    out = []
    for i, (line, want) in enumerate(SAMPLES):
        out.append((line % (i % 60) if '%02d' in line else line, want))
    return out


# --- the reproduction with Python's re --------------------------------------

IPV4 = r'(?:\d{1,3}\.){3}\d{1,3}'
IPV6 = r'(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)'
ADDR = r'\[?(?:(?:::f{4,6}:)?(?P<ip4>%s)|(?P<ip6>%s))\]?' % (IPV4, IPV6)
DATE = re.compile(r'^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|'
                  r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)')


def prefix_line(daemon):
    pid = r'(?:\[\d+\])'
    daemon_re = r'[\[\(]?%s(?:\(\S+\))?[\]\)]?:?' % daemon
    combs = r'(?:%s?:\s+%s|%s%s?:?)' % (pid, daemon_re, daemon_re, pid)
    return r'\s*(?:\S+\s+)?(?:%s\s+)?' % combs


def python_failregex():
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    with open(FILTER, encoding='utf-8') as f:
        parser.read_file(f)
    values = dict(parser.items('Definition'))
    values['__prefix_line'] = prefix_line(values['_daemon'])

    def interpolate(text, depth=0):
        if depth > 10:
            raise ValueError('interpolation too deep')
        return re.sub(r'%\((\w+)\)s', lambda m: interpolate(values[m.group(1)], depth + 1), text)

    regexes = [r for r in values['failregex'].split('\n') if r.strip()]
    return [re.compile(interpolate(r).replace('<ADDR>', ADDR)) for r in regexes]


def python_match(regexes, line):
    date = DATE.search(line)
    if date:
        line = line[:date.start()] + line[date.end():]
    for regex in regexes:
        m = regex.search(line)
        if m:
            return m.group('ip4') or m.group('ip6')
    return None


# --- fail2ban-regex ----------------------------------------------------------

def fail2ban_match(tool, filter_path, line):
    res = subprocess.run([tool, '-o', 'id', line, filter_path], capture_output=True,
                         text=True, timeout=60, check=False)
    if res.returncode != 0:
        raise RuntimeError('fail2ban-regex failed: ' + res.stderr + res.stdout)
    ids = [x.strip() for x in res.stdout.splitlines() if x.strip()]
    if len(ids) > 1:
        raise RuntimeError('fail2ban-regex found %d matches in one line' % len(ids))
    return ids[0] if ids else None


# --- the jail's ports ----------------------------------------------------------

def jail_ports():
    """The jail's port list as (low, high) ranges; fail2ban writes a:b."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=('#',))
    with open(JAIL, encoding='utf-8') as f:
        parser.read_file(f)
    ranges = []
    for item in parser.get('sipmasq', 'port').split(','):
        low, _, high = item.strip().partition(':')
        ranges.append((int(low), int(high or low)))
    return ranges


def port_settings():
    """(source, {key: value}) for the parser's defaults and etc/sipmasq.conf."""
    keys = ('sip_listen_port', 'rtp_port_low', 'rtp_port_high')
    with open(CONFIG_KEYS, encoding='utf-8') as f:
        text = f.read()
    defaults = {k: int(re.search(r'\{"%s", "(\d+)"' % k, text).group(1)) for k in keys}
    example = dict(defaults)
    with open(EXAMPLE_CONFIG, encoding='utf-8') as f:
        for line in f:
            m = re.match(r'\s*(\w+)\s*=\s*(\d+)\s*$', line)
            if m and m.group(1) in keys:
                example[m.group(1)] = int(m.group(2))
    return [('the defaults', defaults), (EXAMPLE_CONFIG, example)]


def check_jail():
    """Every SIP and relay port of the defaults and of the example file is banned."""
    failures = 0
    ranges = jail_ports()

    def covered(low, high):
        return any(a <= low and high <= b for a, b in ranges)

    for source, ports in port_settings():
        if not covered(ports['sip_listen_port'], ports['sip_listen_port']):
            print('FAIL: the jail does not ban sip_listen_port %d of %s'
                  % (ports['sip_listen_port'], source))
            failures += 1
        if not covered(ports['rtp_port_low'], ports['rtp_port_high']):
            print('FAIL: the jail does not ban the RTP range %d-%d of %s: %r'
                  % (ports['rtp_port_low'], ports['rtp_port_high'], source, ranges))
            failures += 1
    parser = configparser.RawConfigParser()
    parser.read(JAIL, encoding='utf-8')
    tcp = [int(p) for p in parser.get('sipmasq', 'tcp_port', fallback='').split(',') if p]
    actions = parser.get('sipmasq', 'action', fallback='')
    for source, ports in port_settings():
        if ports['sip_listen_port'] not in tcp:
            print('FAIL: the jail does not ban TCP sip_listen_port %d of %s'
                  % (ports['sip_listen_port'], source))
            failures += 1
    for proto, option in (('udp', '%(port)s'), ('tcp', '%(tcp_port)s')):
        if 'port="%s", protocol="%s"' % (option, proto) not in actions:
            print('FAIL: the jail has no %s action on %s: %r' % (proto, option, actions))
            failures += 1
    with open(JAIL, encoding='utf-8') as f:
        text = f.read()
    if not all(k in text for k in ('sipmasq.conf', 'rtp_port_low', 'rtp_port_high')):
        print('FAIL: the jail does not say to keep its ports in step with sipmasq.conf')
        failures += 1
    print('jail: ports %r checked' % ranges)
    return failures


def check_jail_with_fail2ban():
    """fail2ban itself reads the jail: one ban action for UDP (SIP and the
    relay range) and one for TCP (SIP), in a copy of the system's config."""
    client = shutil.which('fail2ban-client')
    if not client or not os.path.isdir('/etc/fail2ban/action.d'):
        print('jail: fail2ban-client or /etc/fail2ban missing; parse check skipped')
        return 0
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, 'fail2ban')
        shutil.copytree('/etc/fail2ban', conf)
        log = os.path.join(tmp, 'sipmasq.log')
        open(log, 'w').close()
        shutil.copy(os.path.join(SOURCE_ROOT, 'etc', 'fail2ban', 'filter.d', 'sipmasq.conf'),
                    os.path.join(conf, 'filter.d', 'sipmasq.conf'))
        with open(JAIL, encoding='utf-8') as f:
            jail = f.read()
        jail = jail.replace('enabled  = false', 'enabled  = true')
        jail = jail.replace('backend  = systemd', 'backend  = auto\nlogpath  = ' + log)
        with open(os.path.join(conf, 'jail.d', 'sipmasq.conf'), 'w', encoding='utf-8') as f:
            f.write(jail)
        out = subprocess.run([client, '-c', conf, '-d'], capture_output=True, text=True,
                             timeout=60)
        dump = out.stdout + out.stderr
        for name, port in (('sipmasq-udp', "['port', '5060,30000:39999'], ['protocol', 'udp']"),
                           ('sipmasq-tcp', "['port', '5060'], ['protocol', 'tcp']")):
            if "['name', '%s']" % name not in dump or port not in dump:
                print('FAIL: fail2ban does not read the jail\'s %s action as %s' % (name, port))
                failures += 1
        if out.returncode != 0:
            print('FAIL: fail2ban-client -d: %s' % dump[-2000:])
            failures += 1
    print('jail: fail2ban reads its UDP and TCP actions')
    return failures


def main():
    failures = check_jail() + check_jail_with_fail2ban()
    samples = lines_with_seconds()
    regexes = python_failregex()
    for line, want in samples:
        got = python_match(regexes, line)
        if got != want:
            print('FAIL (python re): want %r, got %r: %s' % (want, got, line))
            failures += 1
    print('python re reproduction: %d samples checked' % len(samples))

    tool = shutil.which('fail2ban-regex')
    common = '/etc/fail2ban/filter.d/common.conf'
    if tool and os.path.exists(common):
        with tempfile.TemporaryDirectory(prefix='sipmasq-f2b-') as tmp:
            filter_dir = os.path.join(tmp, 'filter.d')
            os.mkdir(filter_dir)
            # Beside common.conf, as in /etc/fail2ban/filter.d.
            shutil.copy(common, filter_dir)
            shutil.copy(FILTER, filter_dir)
            path = os.path.join(filter_dir, 'sipmasq.conf')
            for line, want in samples:
                got = fail2ban_match(tool, path, line)
                if got != want:
                    print('FAIL (fail2ban-regex): want %r, got %r: %s' % (want, got, line))
                    failures += 1
        print('fail2ban-regex: %d samples checked' % len(samples))
    else:
        print('fail2ban-regex not installed (Debian package fail2ban): '
              'only the python re reproduction ran')

    print('%d failure(s)' % failures)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
