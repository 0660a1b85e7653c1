#!/usr/bin/env python3
"""call_rate_bench: calls per second through the real sipmasq, against
Kamailio 5.6 + rtpengine and against UA to UA without a proxy, in one run.

A tool, not a test (see README.md). Needs root: it creates three network
namespaces (the FAQ topology) and deletes them at the end:

    smqb-in-PID   phones   192.0.2.10, .11, ...   (SIPp UAS / UAC per pair)
    smqb-fw-PID   firewall 192.0.2.1 / 203.0.113.1 (sipmasq on 5060,
                  kamailio on 5070 with rtpengine, both started here)
    smqb-out-PID  outside  203.0.113.10, .11, ... (SIPp UAC / UAS per pair)

Incoming: a SIPp UAC outside calls sip:aliceN@203.0.113.1 (the phone
registered through the proxy); outgoing: a SIPp UAC inside calls
sip:bob@203.0.113.1N through the proxy as outbound proxy. Every call
carries an SDP offer and answer, so the proxy allocates relay ports for
every call. UA to UA: the same calls straight to the other phone, routed by
the firewall namespace's kernel (IP forwarding is on only for those trials).

The rate steps up (100, 200, 400, ... calls/s); at each step every system
still clean runs both directions, interleaved, for --seconds of calls. A
system's ladder (per direction) ends at its first step with a failed call
or that it could not carry at >= 90% of the offered rate. CPU is the
scheduler's run time (/proc/PID/task/*/schedstat, ns) of each process of
the system under test before and after a step, divided by the calls of the
step; setup latency is SIPp's response time from the first INVITE to its
200 (-trace_rtt; SIPp's clock has 1 ms resolution).

Traffic stays inside the namespaces; every loop is bounded in count and
time; only processes this script started are stopped, by pid.
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = SOURCE_ROOT / "tests" / "bench" / "scenarios"
KAMAILIO_CFG = SOURCE_ROOT / "tests" / "bench" / "kamailio" / "kamailio.cfg"
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"

FW_IN, FW_OUT = "192.0.2.1", "203.0.113.1"
SIPMASQ_PORT, KAMAILIO_PORT, NG_PORT = 5060, 5070, 22222
UAS_PORT, UAC_PORT = 5060, 5070
SYSTEMS = ("sipmasq", "kamailio", "direct")
DIRECTIONS = ("incoming", "outgoing")
REACHED = 0.90  # a step is carried when the calls completed at >= 90% of the rate


def inside_ip(pair):
    return f"192.0.2.{10 + pair}"


def outside_ip(pair):
    return f"203.0.113.{10 + pair}"


def log(msg):
    print(msg, flush=True)


def run(cmd, check=True):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.returncode}: {r.stdout}{r.stderr}")
    return r


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


# --- processes ------------------------------------------------------------


class Started:
    """Every process this script started, so that each is stopped by pid."""

    def __init__(self):
        self.procs = []

    def spawn(self, argv, log_path, cwd=None):
        out = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=cwd)
        out.close()
        self.procs.append(p)
        return p

    def stop(self, p, timeout=10.0):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(reversed(self.procs)):
            self.stop(p)


def wait_rusage(p, deadline):
    """Waits for a child until `deadline` (monotonic); (returncode, cpu ns)
    from wait4, or kills it by pid at the deadline."""
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, int((ru.ru_utime + ru.ru_stime) * 1e9)
        if time.monotonic() > deadline:
            os.kill(p.pid, signal.SIGKILL)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = -9
            return -9, int((ru.ru_utime + ru.ru_stime) * 1e9)
        time.sleep(0.05)


def sched_ns(pids):
    """(run time, run-queue wait) of every thread of `pids`, ns: the first
    two fields of schedstat. The wait is time runnable but not running:
    what a loaded machine takes from a process."""
    run_ns = wait_ns = 0
    for pid in pids:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    fields = f.read().split()
                run_ns += int(fields[0])
                wait_ns += int(fields[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return run_ns, wait_ns


def udp_counters(topo):
    """Per namespace: RcvbufErrors (every UDP socket, live or gone) and the
    drops of each live socket by "ip:port" (/proc/net/udp)."""
    out = {}
    for ns in (topo.inside, topo.fw, topo.outside):
        text = run(topo.ns(ns) + ["cat", "/proc/net/snmp", "/proc/net/udp"]).stdout
        rows = [line.split() for line in text.splitlines()]
        udp = [r for r in rows if r and r[0] == "Udp:"]
        total = int(dict(zip(udp[0][1:], udp[1][1:]))["RcvbufErrors"])
        sockets = {}
        for r in rows:
            if len(r) > 12 and re.fullmatch(r"\d+:", r[0]):
                hexip, hexport = r[1].split(":")
                ip = ".".join(str(int(hexip[i:i + 2], 16)) for i in (6, 4, 2, 0))
                sockets[f"{ip}:{int(hexport, 16)}"] = int(r[-1])
        out[ns] = (total, sockets)
    return out


def drops_between(topo, before, after, proxy_port):
    """Datagrams dropped for a full receive buffer during a trial: at the
    proxy's SIP sockets, at the phones' (UAS) sockets, and elsewhere (the
    callers' sockets, gone with their SIPp, or any other)."""
    proxy = sum(after[topo.fw][1].get(k, 0) - before[topo.fw][1].get(k, 0)
                for k in (f"{FW_IN}:{proxy_port}", f"{FW_OUT}:{proxy_port}")) if proxy_port else 0
    uas = 0
    for ns in (topo.inside, topo.outside):
        for k, v in after[ns][1].items():
            if k.endswith(f":{UAS_PORT}"):
                uas += v - before[ns][1].get(k, 0)
    total = sum(after[ns][0] - before[ns][0] for ns in after)
    return {"proxy": proxy, "phones": uas, "other": total - proxy - uas}


def descendants(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [root], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def proc_status(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


# --- topology -------------------------------------------------------------


class Topology:
    def __init__(self, pairs):
        pid = os.getpid()
        self.inside, self.fw, self.outside = (f"smqb-in-{pid}", f"smqb-fw-{pid}",
                                              f"smqb-out-{pid}")
        self.pairs = pairs
        self.created = False

    nice = 0  # --nice: for the systems under test and SIPp alike

    def ns(self, name):
        prefix = ["ip", "netns", "exec", name]
        return prefix + (["nice", "-n", str(self.nice)] if self.nice else [])

    def create(self):
        self.created = True
        i, f, o = self.inside, self.fw, self.outside
        cmds = [f"ip netns add {n} && ip -n {n} link set lo up" for n in (i, f, o)]
        cmds += [
            f"ip link add vi0 netns {i} type veth peer name vi1 netns {f}",
            f"ip link add vo1 netns {f} type veth peer name vo0 netns {o}",
            f"ip -n {f} addr add {FW_IN}/24 dev vi1",
            f"ip -n {f} addr add {FW_OUT}/24 dev vo1",
        ]
        for p in range(self.pairs):
            cmds.append(f"ip -n {i} addr add {inside_ip(p)}/24 dev vi0")
            cmds.append(f"ip -n {o} addr add {outside_ip(p)}/24 dev vo0")
        cmds += [f"ip -n {n} link set {d} up" for n, d in ((i, "vi0"), (f, "vi1"), (f, "vo1"),
                                                          (o, "vo0"))]
        cmds += [f"ip -n {i} route add default via {FW_IN}",
                 f"ip -n {o} route add default via {FW_OUT}"]
        for c in cmds:
            run(c)
        self.forwarding(False)
        time.sleep(1.0)

    def forwarding(self, on):
        run(self.ns(self.fw) + ["sysctl", "-q", f"net.ipv4.ip_forward={1 if on else 0}"])

    def delete(self):
        if self.created:
            for n in (self.inside, self.fw, self.outside):
                run(f"ip netns del {n}", check=False)


# --- the systems under test -----------------------------------------------


class Sipmasq:
    name = "sipmasq"
    port = SIPMASQ_PORT

    def __init__(self, topo, started, work, build, quarantine, rtp_workers=None):
        self.topo, self.started, self.work, self.build = topo, started, work, build
        self.quarantine = quarantine
        # None: the configuration's default (one rtpd per online core).
        self.rtp_workers = rtp_workers
        self.workers = rtp_workers or max(1, min(os.cpu_count() or 1, 16))
        self.proc = None
        self.pids = {}

    def config(self):
        jail = self.work / "jail"
        jail.mkdir(exist_ok=True)
        return (f"if_inbound = {FW_IN}\nif_outbound = {FW_OUT}\n"
                f"sip_listen_port = {SIPMASQ_PORT}\n"
                # --quarantine: a wider range than the default and a short
                # quarantine, as the first runs had; --default-ports: the
                # default range (30000-39999) and quarantine (10 s), where
                # quarantined pairs are reused early (strict source) so the
                # pool must not cap the rate.
                + (f"rtp_port_low = 20000\nrtp_port_high = 39999\n"
                   f"rtp_quarantine = {self.quarantine}\n" if self.quarantine is not None else "")
                + (f"rtp_workers = {self.rtp_workers}\n" if self.rtp_workers else "") +
                # The per-source budgets (8 unanswered INVITEs, 64
                # transactions) are flood limits; the benchmark's callers are
                # a few addresses placing hundreds of calls a second.
                # sip_max_transactions stays at its default (4096): raising
                # it makes sipd slower (TransactionTable::next_deadline_ms
                # scans every transaction, kept 32 s after completion).
                "max_setup_calls_per_source = 100000\n"
                "sip_max_transactions_per_source = 100000\n"
                f"user = nobody\nchrootjail = {jail}\n"
                f"registration_file = {jail}/state/registrations\n"
                f"pid_file = {self.work}/sipmasq.pid\ncontrol_socket = {self.work}/control\n"
                "daemonize = 0\n")

    def start(self):
        conf = self.work / "sipmasq.conf"
        conf.write_text(self.config())
        self.log_path = self.work / "sipmasq.log"
        self.proc = self.started.spawn(
            self.topo.ns(self.topo.fw) + [str(self.build / "parent" / "sipmasq"), "-f", "-c",
                                          str(conf)], self.log_path)

        def ready():
            text = self.log_path.read_text(errors="replace")
            s = re.findall(r"sipd ready \(pid (\d+)\)", text)
            # "rtpd ready" for one worker, "rtpd0 ready", "rtpd1 ready" for more.
            r = dict(re.findall(r"(rtpd\d*) ready \(pid (\d+)\)", text))
            return (int(s[-1]), [int(p) for p in r.values()]) if s and len(r) == self.workers \
                else None

        sipd, rtpd = wait_for(ready, 20, "sipmasq's children")
        self.pids = {"sipd": [sipd], "rtpd": rtpd, "parent": [self.proc.pid]}
        for child in ("sipd", "rtpd"):
            for pid in self.pids[child]:
                log(f"  {child} pid {pid}: Seccomp {proc_status(pid, 'Seccomp')}, "
                    f"NoNewPrivs {proc_status(pid, 'NoNewPrivs')}, "
                    f"CapEff {proc_status(pid, 'CapEff')}, Uid {proc_status(pid, 'Uid')}")

    def restarts(self):
        text = self.log_path.read_text(errors="replace")
        return len(re.findall(r"(sipd|rtpd\d*) ready \(pid", text)) - 1 - self.workers

    def register_domain(self):
        return FW_OUT

    def stop(self):
        if self.proc is not None:
            self.started.stop(self.proc)


class Kamailio:
    name = "kamailio"
    port = KAMAILIO_PORT

    def __init__(self, topo, started, work, children):
        self.topo, self.started, self.work, self.children = topo, started, work, children
        self.kam = self.rtpe = None
        self.pids = {}

    def start(self):
        # rtpengine: userspace forwarding only (--table=-1, no kernel module),
        # no config file, deleted calls freed at once (--delete-delay=0, as
        # sipmasq's rtp_quarantine is shortened here).
        self.rtpe = self.started.spawn(
            self.topo.ns(self.topo.fw) + [
                "rtpengine", "--config-file=none", "--foreground", "--log-stderr", "--table=-1",
                f"--interface=internal/{FW_IN}", f"--interface=external/{FW_OUT}",
                f"--listen-ng=127.0.0.1:{NG_PORT}", "--port-min=40000", "--port-max=59999",
                "--delete-delay=0", f"--pidfile={self.work}/rtpengine.pid"],
            self.work / "rtpengine.log")
        wait_for(lambda: f":{NG_PORT} " in run(self.topo.ns(self.topo.fw) + ["ss", "-uln"]).stdout,
                 20, "rtpengine's ng socket")
        cfg = KAMAILIO_CFG.read_text()
        for k, v in (("@CHILDREN@", str(self.children)), ("@PORT@", str(KAMAILIO_PORT)),
                     ("@MPATH@", KAMAILIO_MODULES), ("@NG_PORT@", str(NG_PORT))):
            cfg = cfg.replace(k, v)
        path = self.work / "kamailio.cfg"
        path.write_text(cfg)
        rundir = self.work / "kamailio-run"
        rundir.mkdir(exist_ok=True)
        self.kam = self.started.spawn(
            self.topo.ns(self.topo.fw) + ["kamailio", "-f", str(path), "-DD", "-E", "-m", "256",
                                          "-M", "16", "-Y", str(rundir), "-P",
                                          str(self.work / "kamailio.pid")],
            self.work / "kamailio.log")

        def listening():
            if self.kam.poll() is not None:
                raise RuntimeError("kamailio exited: " +
                                   (self.work / "kamailio.log").read_text(errors="replace"))
            out = run(self.topo.ns(self.topo.fw) + ["ss", "-uln"]).stdout
            return f"{FW_OUT}:{KAMAILIO_PORT}" in out and f"{FW_IN}:{KAMAILIO_PORT}" in out

        wait_for(listening, 20, "kamailio's sockets")
        time.sleep(1.0)  # its workers forked
        self.pids = {"kamailio": descendants(self.kam.pid), "rtpengine": [self.rtpe.pid]}
        log(f"  kamailio: {len(self.pids['kamailio'])} processes, rtpengine pid {self.rtpe.pid} "
            f"({len(os.listdir(f'/proc/{self.rtpe.pid}/task'))} threads)")

    def restarts(self):
        return 0 if self.kam.poll() is None and self.rtpe.poll() is None else 1

    def register_domain(self):
        return f"{FW_OUT}:{KAMAILIO_PORT}"

    def stop(self):
        for p in (self.kam, self.rtpe):
            if p is not None:
                self.started.stop(p)


class Direct:
    """UA to UA: no proxy; the firewall namespace only routes."""
    name = "direct"
    pids = {}

    def restarts(self):
        return 0


# --- SIPp -----------------------------------------------------------------


class Phones:
    """The long-lived SIPp UASs: aliceN inside (registered through each
    proxy first) and bob outside, one per pair."""

    def __init__(self, topo, started, work, pairs):
        self.topo, self.started, self.work, self.pairs = topo, started, work, pairs
        self.uas = []

    def register(self, system):
        for p in range(self.pairs):
            out = self.work / f"register-{system.name}-{p}.log"
            r = subprocess.run(self.topo.ns(self.topo.inside) + [
                "sipp", f"{FW_IN}:{system.port}", "-sf", str(SCENARIOS / "register.xml"), "-i",
                inside_ip(p), "-p", str(UAS_PORT), "-s", f"alice{p}", "-key", "domain",
                system.register_domain(), "-m", "1", "-timeout", "10s", "-timeout_error",
                "-nostdin"], capture_output=True, text=True, timeout=30)
            out.write_text(r.stdout + r.stderr)
            if r.returncode != 0:
                raise RuntimeError(f"alice{p} could not register with {system.name}: see {out}")

    def start(self):
        for p in range(self.pairs):
            for ns, ip, who in ((self.topo.inside, inside_ip(p), f"alice{p}"),
                                (self.topo.outside, outside_ip(p), f"bob{p}")):
                self.uas.append(self.started.spawn(
                    self.topo.ns(ns) + ["sipp", "-sf", str(SCENARIOS / "call_uas.xml"), "-i", ip,
                                        "-p", str(UAS_PORT), "-nostdin", "-buff_size",
                                        "4194304", "-trace_err",
                                        "-error_file", str(self.work / f"uas-{who}.err")],
                    self.work / f"uas-{who}.log"))
        time.sleep(1.0)
        for p in self.uas:
            if p.poll() is not None:
                raise RuntimeError("a SIPp UAS exited at start; see uas-*.log")

    def pids(self):
        return [p.pid for p in self.uas]


def uac_argv(topo, system, direction, pair, rate, calls, seconds, stat, rate_period_ms=1000):
    if direction == "incoming":
        ns, local = topo.outside, outside_ip(pair)
        service, from_user, from_domain = f"alice{pair}", f"bob{pair}", outside_ip(pair)
        if system.name == "direct":
            remote = target = f"{inside_ip(pair)}:{UAS_PORT}"
        else:
            remote = f"{FW_OUT}:{system.port}"
            target = FW_OUT if system.port == 5060 else remote
    else:
        ns, local = topo.inside, inside_ip(pair)
        service, from_user, from_domain = f"bob{pair}", f"alice{pair}", FW_OUT
        target = f"{outside_ip(pair)}:{UAS_PORT}"
        remote = target if system.name == "direct" else f"{FW_IN}:{system.port}"
    return topo.ns(ns) + [
        "sipp", remote, "-sf", str(SCENARIOS / "call_uac.xml"), "-i", local, "-p", str(UAC_PORT),
        "-s", service, "-key", "target", target, "-key", "from_user", from_user, "-key",
        "from_domain", from_domain, "-r", str(rate), "-rp", str(rate_period_ms), "-m", str(calls),
        "-l", str(max(200, rate * 4)),  # open calls at once: far above rate x setup time
        "-recv_timeout", "10000",  # a lost answer fails the call after 10 s
        "-timeout", f"{seconds + 60}s", "-timeout_error", "-nostdin",
        # SIPp's sockets as large as the host allows (its default is
        # 64 KiB): the callers must not be where datagrams are dropped.
        "-buff_size", "4194304",
        "-trace_stat", "-stf", str(stat), "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
        "-trace_err", "-error_file", str(stat.with_suffix(".err"))]


def last_stats(path):
    try:
        rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    except FileNotFoundError:
        return {}
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1]))


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def run_step(topo, started, phones, system, direction, rate, seconds, per_pair, max_pairs, work,
             trial, rate_period_ms=1000):
    pairs = min(max_pairs, max(1, math.ceil(rate / per_pair)))
    pair_rate = rate // pairs
    calls = pair_rate * seconds
    tdir = work / f"trial-{trial:03d}-{system.name}-{direction}-{rate}"
    tdir.mkdir()
    groups = dict(system.pids)
    groups["sipp"] = phones.pids()
    topo.forwarding(system.name == "direct")
    udp_before = udp_counters(topo)
    log_path = getattr(system, "log_path", None)
    log_mark = log_path.stat().st_size if log_path else 0
    before = {g: sched_ns(p) for g, p in groups.items()}
    t0 = time.monotonic()
    uacs = []
    for p in range(pairs):
        stat = tdir / f"uac{p}.csv"
        uacs.append((started.spawn(uac_argv(topo, system, direction, p, pair_rate, calls,
                                            seconds, stat, rate_period_ms),
                                   tdir / f"uac{p}.log", cwd=tdir),
                     stat))
    deadline = t0 + seconds + 90
    codes, uac_cpu = [], 0
    for p, _ in uacs:
        rc, ns_used = wait_rusage(p, deadline)
        started.procs.remove(p)
        codes.append(rc)
        uac_cpu += ns_used
    wall = time.monotonic() - t0
    after = {g: sched_ns(p) for g, p in groups.items()}
    drops = drops_between(topo, udp_before, udp_counters(topo), getattr(system, "port", 0))
    topo.forwarding(False)
    # sipmasq's call records (issue 12: every start and end at any rate it
    # carries): the lines the step added to the parent's log.
    records = None
    if log_path:
        time.sleep(0.5)  # the last ends on their way through the parent
        with open(log_path, "rb") as f:
            f.seek(log_mark)
            added = f.read().decode(errors="replace")
        records = {"start": added.count("call start: "), "end": added.count("call end: "),
                   "suppressed": len(re.findall(r"call records suppressed|more than \d+ call "
                                                r"records", added))}

    ok = failed = retrans = 0
    elapsed = 0.0
    for _, stat in uacs:
        s = last_stats(stat)
        ok += int(s.get("SuccessfulCall(C)", 0) or 0)
        failed += int(s.get("FailedCall(C)", 0) or 0)
        retrans += int(s.get("Retransmissions(C)", 0) or 0)
        h, m, sec = (s.get("ElapsedTime(C)", "0:0:0") or "0:0:0").split(":")[:3]
        elapsed = max(elapsed, int(h) * 3600 + int(m) * 60 + float(sec))
    rtts = []
    for f in tdir.glob("*_rtt.csv"):
        for line in f.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 3 and parts[2].strip() == "setup":
                rtts.append(float(parts[1]))
    rtts.sort()
    # SIPp's ElapsedTime has 1 s resolution: the wall time of the UACs is
    # the finer measure (it includes SIPp's start, about 0.1 s).
    achieved = ok / wall if wall > 0 else 0.0
    cpu = {g: after[g][0] - before[g][0] for g in groups}
    waited = {g: after[g][1] - before[g][1] for g in groups}
    cpu["sipp"] += uac_cpu
    lost = (pairs * calls) - ok - failed
    # A burst (all calls within rate_period_ms) is clean when every call is.
    clean = (failed == 0 and lost == 0 and all(c == 0 for c in codes)
             and (achieved >= REACHED * pairs * pair_rate or rate_period_ms < 1000)
             and system.restarts() == 0)
    why = ""
    if not clean:
        if failed or lost or any(codes):
            why = f"{failed} failed, {lost} not completed, SIPp exit codes {codes}"
        elif system.restarts():
            why = "a process of the system restarted"
        else:
            why = f"carried {achieved:.0f} calls/s of {pairs * pair_rate}"
    return {
        "system": system.name, "direction": direction, "rate": pairs * pair_rate,
        "pairs": pairs, "calls": pairs * calls, "ok": ok, "failed": failed, "lost": lost,
        "exit_codes": codes, "retransmissions": retrans, "drops": drops, "records": records,
        "wall_s": wall,
        "sipp_elapsed_s": elapsed, "achieved": achieved, "clean": clean, "why": why,
        "cpu_ms_per_call": {g: (v / 1e6 / ok if ok else float("nan")) for g, v in cpu.items()},
        "cpu_pct": {g: v / 1e9 / wall * 100 for g, v in cpu.items()},
        "wait_pct": {g: v / 1e9 / wall * 100 for g, v in waited.items()},
        "setup_ms": {"n": len(rtts), "mean": statistics.fmean(rtts) if rtts else float("nan"),
                     "p50": percentile(rtts, 0.5), "p90": percentile(rtts, 0.9),
                     "p99": percentile(rtts, 0.99), "max": rtts[-1] if rtts else float("nan")},
        "load": loadavg(),
    }


# --- report ---------------------------------------------------------------

PROCS = {"sipmasq": ("sipd", "rtpd", "parent"), "kamailio": ("kamailio", "rtpengine"),
         "direct": ()}


def fmt(v, digits=3):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def total_cpu(r):
    return sum(r["cpu_ms_per_call"][g] for g in PROCS[r["system"]])


def report(results, ladder_end):
    log("\n## Every trial\n")
    log("| system | direction | rate (pairs) | ok / failed / lost | carried calls/s | retrans "
        "| drops proxy / phones / other | setup ms mean / p50 / p90 / p99 / max | CPU ms per call | CPU % of a core | run-queue wait % "
        "| SIPp CPU % | load |")
    log("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        procs = PROCS[r["system"]]
        per_call = ", ".join(f"{g} {fmt(r['cpu_ms_per_call'][g])}" for g in procs) or "-"
        pct = ", ".join(f"{g} {r['cpu_pct'][g]:.0f}" for g in procs) or "-"
        wait = ", ".join(f"{g} {r['wait_pct'][g]:.0f}" for g in procs) or "-"
        s = r["setup_ms"]
        log(f"| {r['system']} | {r['direction']} | {r['rate']} ({r['pairs']}) | {r['ok']} / "
            f"{r['failed']} / {r['lost']} | {r['achieved']:.0f} | {r['retransmissions']} | "
            f"{r['drops']['proxy']} / {r['drops']['phones']} / {r['drops']['other']} | "
            f"{fmt(s['mean'], 2)} / {fmt(s['p50'], 0)} / {fmt(s['p90'], 0)} / {fmt(s['p99'], 0)} / "
            f"{fmt(s['max'], 0)} "
            f"| {per_call} | {pct} | {wait} | {r['cpu_pct']['sipp']:.0f} | {r['load'][0]} |"
            + ("" if r["clean"] else f" **{r['why']}**"))

    best = {}
    for r in results:
        if r["clean"]:
            key = (r["system"], r["direction"])
            if key not in best or r["rate"] > best[key]["rate"]:
                best[key] = r
    log("\n## Highest clean rate\n")
    log("| system | direction | highest clean rate, calls/s | CPU ms per call there | setup ms "
        "mean / p50 / p99 there | ended by |")
    log("|---|---|---|---|---|---|")
    for sysname in SYSTEMS:
        for d in DIRECTIONS:
            b = best.get((sysname, d))
            if b is None and (sysname, d) not in ladder_end:
                continue
            end = ladder_end.get((sysname, d), "the last step (not the system's limit)")
            if b is None:
                log(f"| {sysname} | {d} | none | | | {end} |")
                continue
            per_call = ", ".join(f"{g} {fmt(b['cpu_ms_per_call'][g])}"
                                 for g in PROCS[sysname]) or "-"
            log(f"| {sysname} | {d} | {b['rate']} | {per_call} | {fmt(b['setup_ms']['mean'], 2)} / "
                f"{fmt(b['setup_ms']['p50'], 0)} "
                f"/ {fmt(b['setup_ms']['p99'], 0)} | {end} |")

    log("\n## Ratios\n")
    for d in DIRECTIONS:
        s, k, u = (best.get((n, d)) for n in SYSTEMS)
        if s and k:
            log(f"- {d}: highest clean rate sipmasq / kamailio+rtpengine = {s['rate']} / "
                f"{k['rate']} = {s['rate'] / k['rate']:.2f}")
        if s and u:
            log(f"- {d}: highest clean rate sipmasq / UA to UA = {s['rate']} / {u['rate']} = "
                f"{s['rate'] / u['rate']:.2f}")
        # CPU per call and latency compared at the same rate: the highest
        # rate both systems carried clean.
        common = sorted({r["rate"] for r in results if r["clean"] and r["direction"] == d
                         and r["system"] == "sipmasq"} &
                        {r["rate"] for r in results if r["clean"] and r["direction"] == d
                         and r["system"] == "kamailio"})
        for rate in common:
            rs = next(r for r in results if r["clean"] and r["system"] == "sipmasq"
                      and r["direction"] == d and r["rate"] == rate)
            rk = next(r for r in results if r["clean"] and r["system"] == "kamailio"
                      and r["direction"] == d and r["rate"] == rate)
            log(f"- {d} at {rate} calls/s: CPU per call sipmasq (sipd+rtpd+parent) / kamailio "
                f"(all its processes + rtpengine) = {fmt(total_cpu(rs))} / {fmt(total_cpu(rk))} "
                f"ms = {total_cpu(rs) / total_cpu(rk):.2f}; setup p50 {fmt(rs['setup_ms']['p50'], 0)}"
                f" / {fmt(rk['setup_ms']['p50'], 0)} ms, mean {fmt(rs['setup_ms']['mean'], 2)} / "
                f"{fmt(rk['setup_ms']['mean'], 2)} ms")
        for rate in sorted({r["rate"] for r in results if r["clean"] and r["direction"] == d
                            and r["system"] == "direct"} & set(common or [])):
            ru = next(r for r in results if r["clean"] and r["system"] == "direct"
                      and r["direction"] == d and r["rate"] == rate)
            rs = next(r for r in results if r["clean"] and r["system"] == "sipmasq"
                      and r["direction"] == d and r["rate"] == rate)
            log(f"- {d} at {rate} calls/s: setup mean sipmasq / UA to UA = "
                f"{fmt(rs['setup_ms']['mean'], 2)} / {fmt(ru['setup_ms']['mean'], 2)} ms")


# --- main -----------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="100,200,300,400,600,800,1200,1600,2400,3200",
                    help="calls/s steps, ascending (default %(default)s)")
    ap.add_argument("--max-rate", type=int, default=6400)
    ap.add_argument("--seconds", type=int, default=8, help="seconds of calls per step")
    ap.add_argument("--per-pair", type=int, default=400,
                    help="calls/s one SIPp caller is given before another pair is added")
    ap.add_argument("--max-pairs", type=int, default=4)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--directions", default=",".join(DIRECTIONS))
    ap.add_argument("--quarantine", type=int, default=1, help="sipmasq's rtp_quarantine, s")
    ap.add_argument("--default-ports", action="store_true",
                    help="sipmasq with its default relay range and rtp_quarantine (10 s) "
                         "instead of 20000-39999 and --quarantine")
    ap.add_argument("--kamailio-children", type=int, default=4)
    ap.add_argument("--max-minutes", type=float, default=20, help="stop stepping after this")
    ap.add_argument("--rest", type=float, default=2.0, help="seconds between trials")
    ap.add_argument("--nice", type=int, default=0,
                    help="niceness of every process started (systems and SIPp alike); "
                         "a negative value shields them from other load on the machine")
    ap.add_argument("--rtp-workers", type=int, default=None,
                    help="sipmasq's rtp_workers (default: its own, one per online core)")
    ap.add_argument("--burst", type=int, default=0,
                    help="instead of the rate ladder: N calls set up at once (within 10 ms), "
                         "--burst-runs times, each direction")
    ap.add_argument("--burst-runs", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--json", help="write every trial's figures here")
    args = ap.parse_args()

    # Stopped by a signal (even in the background, where SIGINT starts
    # ignored): unwind, so that every process is stopped and the
    # namespaces deleted.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    if os.geteuid() != 0:
        sys.exit("call_rate_bench: needs root (network namespaces)")
    build = Path(os.environ.get("SIPMASQ_BUILD_ROOT", SOURCE_ROOT / "build"))
    systems = [s for s in args.systems.split(",") if s]
    directions = [d for d in args.directions.split(",") if d]
    rates = [r for r in (int(x) for x in args.rates.split(",")) if r <= args.max_rate]
    for tool in ["sipp"] + (["kamailio", "rtpengine"] if "kamailio" in systems else []):
        if shutil.which(tool) is None:
            sys.exit(f"call_rate_bench: {tool} is missing")

    work = Path(tempfile.mkdtemp(prefix="call_rate_bench."))
    started = Started()
    topo = Topology(args.max_pairs)
    topo.nice = args.nice
    log(f"call_rate_bench: nproc {os.cpu_count()}, load {' '.join(loadavg())}, work {work}")
    log(f"  rates {rates}, {args.seconds} s per step, <= {args.per_pair} calls/s per SIPp pair, "
        f"<= {args.max_pairs} pairs, sipmasq "
        + ("default relay range and rtp_quarantine" if args.default_ports
           else f"rtp_quarantine {args.quarantine}"))
    results, ladder_end = [], {}
    t_start = time.monotonic()
    try:
        topo.create()
        under_test = {"direct": Direct()}
        if "sipmasq" in systems:
            under_test["sipmasq"] = Sipmasq(topo, started, work, build,
                                            None if args.default_ports else args.quarantine,
                                            args.rtp_workers)
        if "kamailio" in systems:
            under_test["kamailio"] = Kamailio(topo, started, work, args.kamailio_children)
        phones = Phones(topo, started, work, args.max_pairs)
        for name in ("sipmasq", "kamailio"):
            if name in under_test:
                log(f"starting {name}")
                under_test[name].start()
                phones.register(under_test[name])
        phones.start()
        active = [(s, d) for s in systems for d in directions]
        trial = 0
        if args.burst > 0:
            # Each run: --burst calls within 10 ms from one SIPp, every one
            # with its relay ports, then a rest; a run is clean when all are.
            for run_no in range(1, min(args.burst_runs, 100) + 1):
                for s, d in active:
                    trial += 1
                    r = run_step(topo, started, phones, under_test[s], d, args.burst, 1,
                                 args.burst, 1, work, trial, rate_period_ms=10)
                    results.append(r)
                    log(f"burst {run_no:2} {s:8} {d:8} {args.burst} calls: ok {r['ok']} "
                        f"failed {r['failed']} lost {r['lost']} setup p50 "
                        f"{fmt(r['setup_ms']['p50'], 0)} max {fmt(r['setup_ms']['max'], 0)} ms"
                        + ("" if r["clean"] else f"  -> {r['why']}"))
                    time.sleep(args.rest + 2 * args.quarantine)
            clean = sum(1 for r in results if r["clean"])
            log(f"bursts of {args.burst}: {clean} of {len(results)} runs without a failed call")
            rates = []
        for rate in rates:
            for s, d in list(active):
                if time.monotonic() - t_start > args.max_minutes * 60:
                    log(f"stopping: --max-minutes {args.max_minutes} reached")
                    for key in active:
                        ladder_end.setdefault(key, "--max-minutes")
                    active = []
                    break
                trial += 1
                r = run_step(topo, started, phones, under_test[s], d, rate, args.seconds,
                             args.per_pair, args.max_pairs, work, trial)
                results.append(r)
                sm = r["setup_ms"]
                log(f"{s:8} {d:8} {r['rate']:5}/s x{r['pairs']}: ok {r['ok']} failed "
                    f"{r['failed']} lost {r['lost']} carried {r['achieved']:.0f}/s setup p50 "
                    f"{fmt(sm['p50'], 0)} p99 {fmt(sm['p99'], 0)} ms; cpu % "
                    + " ".join(f"{g} {v:.0f}" for g, v in r["cpu_pct"].items())
                    + "; run-queue wait % "
                    + " ".join(f"{g} {v:.0f}" for g, v in r["wait_pct"].items())
                    + f"; drops {r['drops']}; retrans {r['retransmissions']}"
                    + (f"; call records {r['records']}" if r["records"] else "")
                    + f"; load {r['load'][0]}" + ("" if r["clean"] else f"  -> END: {r['why']}"))
                if not r["clean"]:
                    ladder_end[(s, d)] = f"{r['rate']}/s: {r['why']}"
                    active.remove((s, d))
                time.sleep(args.rest)
            if not active:
                break
    finally:
        started.stop_all()
        topo.delete()
    log(f"\ncall_rate_bench: {time.monotonic() - t_start:.0f} s, load at the end "
        f"{' '.join(loadavg())}")
    report(results, ladder_end)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.keep:
        log(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
