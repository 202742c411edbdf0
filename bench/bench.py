"""vmlaunch benchmarks, side by side with what users would run instead.

Run through bench/run.sh (make bench), which builds bench/blast.c, makes
the private directory and raises the fd limit:

    python3 bench/bench.py TOP TMPDIR BLAST

Environment knobs (defaults in brackets): BENCH_GIB [1] GiB per
direction and run, BENCH_TPUT_REPS [5], BENCH_TTFB_REPS [300],
BENCH_SSH_REPS [30], BENCH_SSH_MIB [256] MiB per direction and run through
ssh, BENCH_BOOTS [24], BENCH_IDLE_SECS [60],
BENCH_SESSIONS [1000], BENCH_VMS [100], BENCH_COLD [100], BENCH_CONFIG_CAP [15] s,
BENCH_LONG_BOOTS [4], BENCH_CONTACT_REPS [5],
BENCH_RESUME_REPS [10], BENCH_QEMU_REPS [3] (BENCH_QEMU=0: no real guest),
BENCH_ONLY (comma list of:
config,tput,warm,ready,idle,scale,resume,contacts).
The earlier binaries the same run measures against (built by run.sh):
BENCH_READY_BEFORE (the previous probe schedule, for "ready") and
BENCH_CONTACTS_BEFORE (a vmctl status per VM, for "contacts"); a row
with no such binary shows "-".
Samples and extra figures: TMPDIR/results.json (KEEP=1 keeps TMPDIR).

Every process started here is tracked by pid and killed at the end; every
VM the double started is killed through its pid file.  Nothing is left
outside TMPDIR.
"""

import json
import os
import random
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

TOP, T, BLAST = sys.argv[1], sys.argv[2], sys.argv[3]
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) \
    else sys.executable
VMLAUNCH = os.path.join(TOP, "vmlaunch")
DOUBLE = os.path.join(TOP, "regress", "vmctl-double")
GUEST = os.path.join(TOP, "bench", "guest.py")
VMD = os.path.join(T, "vmd")
CONF = os.path.join(T, "vmlaunch.conf")
CONF1 = os.path.join(T, "one-vm.conf")
SSHCFG = os.path.join(T, "ssh_config")
CPUFILE = os.path.join(T, "relay.cpu")
BANNER = b"SSH-2.0-bench\r\n"
GIB = 1 << 30


def knob(name, default):
    return type(default)(os.environ.get(name, default))


NBYTES = int(knob("BENCH_GIB", 1.0) * GIB)
TPUT_REPS = knob("BENCH_TPUT_REPS", 5)
TTFB_REPS = knob("BENCH_TTFB_REPS", 300)
SSH_REPS = knob("BENCH_SSH_REPS", 30)
SSH_BYTES = knob("BENCH_SSH_MIB", 256) << 20
BOOTS = knob("BENCH_BOOTS", 24)
IDLE_SECS = knob("BENCH_IDLE_SECS", 60)
SESSIONS = knob("BENCH_SESSIONS", 1000)
NVMS = knob("BENCH_VMS", 100)
COLD = knob("BENCH_COLD", 100)
CONFIG_CAP = knob("BENCH_CONFIG_CAP", 15.0)
LONG_BOOTS = knob("BENCH_LONG_BOOTS", 4)
CONTACT_REPS = knob("BENCH_CONTACT_REPS", 5)
READY_BEFORE = os.environ.get("BENCH_READY_BEFORE", "")
CONTACTS_BEFORE = os.environ.get("BENCH_CONTACTS_BEFORE", "")
RESUME_REPS = knob("BENCH_RESUME_REPS", 10)
QEMU_REPS = knob("BENCH_QEMU_REPS", 3)
QEMU = os.environ.get("BENCH_QEMU", "1") != "0"
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))

procs = []          # every Popen we started, for cleanup
PORT = {}           # VM name -> its guest's port
vm_names = []       # every VM defined in the double
results = {}        # name -> dict, dumped to T/results.json
rows = []           # (benchmark, metric, vmlaunch, alternative, ratio, target, verdict)
sup = None          # the supervisor's Popen


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    procs.append(p)
    return p


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def double(*args, check=True):
    env = dict(os.environ, VMCTL_DOUBLE_DIR=VMD)
    r = subprocess.run(["/bin/sh", DOUBLE, "-D", VMD] + list(args),
                       env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("vmctl-double %s: %s" % (args, r.stderr))
    return r.stdout.strip()


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def row(bench, metric, ours, alt, target, met, unit=""):
    ratio = ""
    if isinstance(ours, (int, float)) and isinstance(alt, (int, float)) \
            and alt:
        ratio = "%.2fx" % (ours / alt)
    rows.append((bench, metric, fmt(ours, unit), fmt(alt, unit), ratio,
                 target, "" if met is None else ("met" if met else "MISSED")))


def fmt(v, unit):
    if isinstance(v, float):
        s = "%.3g" % v if abs(v) < 100 else "%.0f" % v
    else:
        s = str(v)
    return s + unit if s not in ("", "-") else s


# --- processes: status from /proc -------------------------------------------

def proc_status(pid):
    d = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            d[k] = v.strip()
    return d


def rss_kb(pid):
    return int(proc_status(pid)["VmRSS"].split()[0])


def hwm_kb(pid):
    return int(proc_status(pid)["VmHWM"].split()[0])


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def snapshot(pid):
    st = proc_status(pid)
    with open("/proc/%d/schedstat" % pid) as f:
        run_ns = int(f.read().split()[0])
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return {"vcs": int(st["voluntary_ctxt_switches"]),
            "ivcs": int(st["nonvoluntary_ctxt_switches"]),
            "run_ns": run_ns,
            "cpu_s": (int(fields[11]) + int(fields[12])) / tick}


def wait4(p, timeout):
    """Reap Popen p with its rusage; kill it after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return ru
        if time.monotonic() > end:
            p.kill()
            end = time.monotonic() + 5
            timeout = 5
        time.sleep(0.002)


# --- setup ----------------------------------------------------------------

def vmctl_wrapper(tag):
    """A vmctl for one supervisor: the double (its guests through our
    shim), each call's argv appended to T/calls.TAG first, so that the
    calls of each supervisor can be counted apart."""
    path = os.path.join(T, "vmctl." + tag)
    with open(path, "w") as f:
        f.write('#!/bin/sh\n'
                'echo "$*" >>%s\n'
                'VMCTL_DOUBLE_SSHD=%s VMCTL_DOUBLE_DIR=%s\n'
                'export VMCTL_DOUBLE_SSHD VMCTL_DOUBLE_DIR\n'
                'exec /bin/sh %s -D %s "$@"\n'
                % (calls_file(tag), os.path.join(T, "guest-shim"), VMD,
                   DOUBLE, VMD))
    os.chmod(path, 0o755)
    return path


def calls_file(tag):
    return os.path.join(T, "calls." + tag)


def vmctl_calls(tag, what=None):
    """The vmctl calls of supervisor TAG so far (of subcommand what)."""
    try:
        with open(calls_file(tag)) as f:
            return sum(1 for l in f if what is None or
                       l.split()[:1] == [what])
    except FileNotFoundError:
        return 0


def block(name, port, extra=""):
    return ('vm "%s" {\n\taddress 127.0.0.1\n\tport %d\n%s}'
            % (name, port, extra))


def write_conf(path, tag, names):
    """A config of its own for VMs of the main config: its socket in a
    directory of its own (T/run-TAG, where its state file goes too),
    its calls counted apart (vmctl.TAG)."""
    os.makedirs(os.path.join(T, "run-" + tag), mode=0o700, exist_ok=True)
    with open(path, "w") as f:
        f.write('socket "%s/run-%s/control"\nvmctl "%s"\ndomain "vm"\n'
                'idle timeout 1h\nboot wait 60s\nstop wait 5s\n'
                % (T, tag, vmctl_wrapper(tag)))
        for n in names:
            f.write(block(n, PORT[n]) + "\n")
    os.chmod(path, 0o600)
    return path


def start_sup(binary, conf, tag):
    """A supervisor (-d) of binary on conf, its control socket up."""
    sock = os.path.join(T, "run-" + tag, "control")
    p = spawn([binary, "-d", "-f", conf], stdout=subprocess.DEVNULL,
              stderr=open(os.path.join(T, "supervisor.%s.log" % tag), "a"))
    end = time.monotonic() + 10
    while not sock_accepts(sock):
        if time.monotonic() > end or p.poll() is not None:
            raise RuntimeError("supervisor %s (%s) did not start"
                               % (tag, binary))
        time.sleep(0.01)
    p.sock = sock
    return p


def sock_accepts(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def stop_sup(p):
    """End a supervisor started by start_sup: SIGTERM, which stops the
    VMs it started, then wait for it (SIGKILL after 30 s)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    try:
        os.unlink(p.sock)       # gone with it; one that was not unlinked
    except OSError:
        pass


class Connects:
    """The connect(2) calls of one process, counted by perf stat (a
    tracepoint count, no tracing) from construction until stop()."""

    def __init__(self, pid, tag):
        self.out = os.path.join(T, "perf.connect.%s" % tag)
        self.p = spawn(["perf", "stat", "--no-inherit", "-x,", "-o",
                        self.out, "-e", "syscalls:sys_enter_connect", "-p",
                        str(pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        # Counting once perf holds its event: nothing before is missed.
        end = time.monotonic() + 10
        while not self.attached():
            if time.monotonic() > end or self.p.poll() is not None:
                raise RuntimeError("perf stat -p %d did not attach" % pid)
            time.sleep(0.005)

    def attached(self):
        try:
            fds = os.listdir("/proc/%d/fd" % self.p.pid)
        except OSError:
            return False
        for fd in fds:
            try:
                if "perf_event" in os.readlink("/proc/%d/fd/%s"
                                               % (self.p.pid, fd)):
                    return True
            except OSError:
                pass
        return False

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        self.p.wait(timeout=10)
        with open(self.out) as f:
            for line in f:
                w = line.strip().split(",")
                if len(w) > 2 and w[2] == "syscalls:sys_enter_connect":
                    return int(w[0])
        raise RuntimeError("perf stat: no count in %s" % self.out)


def setup():
    global sup, P
    os.makedirs(VMD, exist_ok=True)
    os.makedirs(os.path.join(T, "run"), mode=0o700, exist_ok=True)
    # vmctl for the supervisor: the double, its guests through our shim.
    shim = os.path.join(T, "guest-shim")
    with open(shim, "w") as f:
        f.write('#!/bin/sh\n'
                '# run as "sshd -D -e -f CONFIG" by the vmctl double\n'
                'd=$(dirname "$4")\n'
                '[ -f "$d/real_sshd" ] && exec /usr/sbin/sshd "$@"\n'
                'exec %s %s "$4"\n' % (PY, GUEST))
    os.chmod(shim, 0o755)
    vmctl = vmctl_wrapper("main")
    double("__global", "no_rate_limit")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(T, "id")], check=True,
                   stdin=subprocess.DEVNULL)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(VMD, "ssh_host_ed25519_key")], check=True,
                   stdin=subprocess.DEVNULL)
    with open(os.path.join(T, "id.pub")) as a, \
            open(os.path.join(VMD, "authorized_keys"), "w") as b:
        b.write(a.read())

    ports = free_ports(8 + 3 * BOOTS + 2 * LONG_BOOTS + NVMS)
    P = {"tput": ports[0], "warm": ports[1], "sshvm": ports[2],
         "cold": ports[3], "held": ports[4], "rrun": ports[5],
         "rpause": ports[6], "rcold": ports[7]}
    k = 8
    for key, n in (("boot", BOOTS), ("boot_a", BOOTS), ("boot_b", BOOTS),
                   ("long", LONG_BOOTS), ("long_b", LONG_BOOTS),
                   ("scale", NVMS)):
        P[key] = ports[k:k + n]
        k += n

    conf = ['socket "%s/run/control"' % T, 'vmctl "%s"' % vmctl,
            'domain "vm"', "idle timeout 1h", "boot wait 30s",
            "stop wait 5s"]

    def vm(name, port, *settings, main=True, extra=""):
        # main: in this config too (the others are in configs of their
        # own, so that this one stays the size the warm rows were
        # measured with: ~130 blocks)
        double("__set", name, "address", "127.0.0.1", "port",
               str(port), "shutdown_delay", "0.1", *settings)
        vm_names.append(name)
        PORT[name] = port
        if main:
            conf.append(block(name, port, extra))

    # Guests served by our own programs: the VM runs but never listens.
    vm("tput", P["tput"], "boot_delay", "0", "nolisten")
    vm("warm", P["warm"], "boot_delay", "0", "nolisten")
    # A real sshd guest for "ssh host true".
    vm("sshvm", P["sshvm"], "boot_delay", "0")
    open(os.path.join(VMD, "vm", "sshvm", "real_sshd"), "w").close()
    # Guests that boot (guest.py logs the instant it listens): rNN for
    # this supervisor; aNN and bNN with the same boot delay for a
    # supervisor of this binary and one of the previous probe schedule,
    # each of its own; long boots lNN and mNN alike (see bench_ready).
    for i in range(BOOTS):
        d = "%.3f" % random.uniform(0.25, 0.75)
        vm("r%02d" % i, P["boot"][i], "boot_delay", d)
        vm("a%02d" % i, P["boot_a"][i], "boot_delay", d, main=False)
        vm("b%02d" % i, P["boot_b"][i], "boot_delay", d, main=False)
    for i in range(LONG_BOOTS):
        d = "%.3f" % random.uniform(10, 30)
        vm("l%02d" % i, P["long"][i], "boot_delay", d, main=False)
        vm("m%02d" % i, P["long_b"][i], "boot_delay", d, main=False)
    vm("cold", P["cold"], "boot_delay", "0.3")
    # The resume row: one each running, paused when idle, booted cold.
    for name in ("rrun", "rpause", "rcold"):
        vm(name, P[name], "boot_delay", "0.3",
           extra="\tidle pause 1s\n" if name == "rpause" else "")
    # Running VMs (started by hand, see scale_vms) whose guests are the
    # ports of one multi-port guest.py.
    for i, port in enumerate(P["scale"]):
        vm("s%03d" % i, port, "boot_delay", "0", "nolisten")
    with open(CONF, "w") as f:
        f.write("\n".join(conf) + "\n")
    os.chmod(CONF, 0o600)

    # What a laptop has: one VM.  Same supervisor (same socket).
    with open(CONF1, "w") as f:
        f.write('socket "%s/run/control"\nvmctl "%s"\ndomain "vm"\n'
                'vm "warm" {\n\taddress 127.0.0.1\n\tport %d\n}\n'
                % (T, vmctl, P["warm"]))
    os.chmod(CONF1, 0o600)

    with open(SSHCFG, "w") as f:
        # *.cpu: the same, with the relay's CPU time written to CPUFILE.
        f.write("Host sshvm.vm\n\tProxyCommand %s -f %s %%h %%p\n"
                "Host sshvm.nc\n\tProxyCommand nc 127.0.0.1 %d\n"
                "Host vm.cpu\n\tProxyCommand %s rusage %s %s -f %s "
                "sshvm.vm %%p\n"
                "Host nc.cpu\n\tProxyCommand %s rusage %s nc 127.0.0.1 %d\n"
                "Host socat.cpu\n\tProxyCommand %s rusage %s socat - "
                "TCP:127.0.0.1:%d\n"
                "Host *\n\tUser %s\n\tPort %d\n\tIdentityFile %s/id\n"
                "\tIdentitiesOnly yes\n\tStrictHostKeyChecking no\n"
                "\tUserKnownHostsFile /dev/null\n\tBatchMode yes\n"
                "\tLogLevel ERROR\n\tControlMaster no\n\tControlPath none\n"
                % (VMLAUNCH, CONF, P["sshvm"],
                   BLAST, CPUFILE, VMLAUNCH, CONF,
                   BLAST, CPUFILE, P["sshvm"],
                   BLAST, CPUFILE, P["sshvm"],
                   subprocess.check_output(["id", "-un"], text=True).strip(),
                   P["sshvm"], T))

    r = subprocess.run([VMLAUNCH, "-n", "-f", CONF], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError("vmlaunch -n: " + r.stderr)
    # The warm VM's guest: a banner server we keep for the whole run.
    w = spawn([PY, GUEST, "multi", str(P["warm"])], stdout=subprocess.PIPE)
    if w.stdout.readline().strip() != b"listening":
        raise RuntimeError("the warm guest did not listen")
    sup = spawn([VMLAUNCH, "-d", "-f", CONF],
                stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(T, "supervisor.log"), "w"))
    sock = os.path.join(T, "run", "control")
    end = time.monotonic() + 10
    while not os.path.exists(sock):
        if time.monotonic() > end or sup.poll() is not None:
            raise RuntimeError("the supervisor did not start")
        time.sleep(0.01)
    # A supervisor with nothing to watch exits after a while.  Have it
    # start the warm VM now: a VM it started keeps it (idle timeout 1h),
    # so every client of this run talks to this one supervisor.
    c = client("warm.vm", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
               stderr=subprocess.DEVNULL)
    read_banner(c.stdout)
    c.stdin.close()
    c.wait(timeout=10)
    check_sup()


def check_sup():
    """The supervisor under test still runs (clients would otherwise
    start another one, and the figures would be someone else's)."""
    if sup.poll() is not None:
        raise RuntimeError("the supervisor exited (status %s); see %s"
                           % (sup.returncode,
                              os.path.join(T, "supervisor.log")))


def cleanup():
    if sup is not None and sup.poll() is None:
        sup.kill()
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
    for name in vm_names:
        try:
            with open(os.path.join(VMD, "vm", name, "pid")) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            continue
        kill_tree(pid)
    for p in procs:
        try:
            p.wait(timeout=5)
        except Exception:
            pass
    # Anything else naming this run's directory was started by one of
    # ours (a supervisor a client forked, a double's killer): end it.
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if T.encode() in f.read():
                    os.kill(int(d), signal.SIGKILL)
        except OSError:
            pass


def kill_tree(pid):
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    for k in kids:
        kill_tree(k)


def client(host, **kw):
    return spawn([VMLAUNCH, "-f", CONF, host, "22"], **kw)


def read_banner(f):
    line = f.readline()
    if not line.startswith(b"SSH-"):
        raise RuntimeError("no banner: %r" % line)
    return line


# --- 6. config size -------------------------------------------------------

def bench_config():
    times = {}
    capped = set()
    for n in (0, 100, 1000, 10000):
        path = os.path.join(T, "conf%d" % n)
        with open(path, "w") as f:
            f.write('socket "%s/run/c%d"\ndomain "vm"\nidle timeout 10m\n'
                    % (T, n))
            for i in range(n):
                f.write('vm "vm%05d" {\n\talias "a%05d"\n\taddress 100.64.%d.%d'
                        '\n\tport 22\n\tboot wait 3m\n}\n'
                        % (i, i, i // 250, i % 250 + 2))
        os.chmod(path, 0o600)
        samples = []
        reps = 7
        while len(samples) < reps:
            t0 = time.perf_counter()
            try:
                r = subprocess.run([VMLAUNCH, "-n", "-f", path],
                                   capture_output=True, timeout=CONFIG_CAP)
            except subprocess.TimeoutExpired:
                capped.add(n)
                samples = [CONFIG_CAP]
                break
            samples.append(time.perf_counter() - t0)
            if r.returncode != 0:
                raise RuntimeError("vmlaunch -n %d blocks: %s"
                                   % (n, r.stderr[:300]))
            if samples[0] > 0.5:
                reps = 1        # slow: one run says enough
        times[n] = statistics.median(samples) * 1000
    base = times[0]
    per = {n: (times[n] - base) / n * 1000 for n in (100, 1000, 10000)}
    results["config"] = {"ms": times, "us_per_block": per,
                         "timed_out": sorted(capped)}
    ge = lambda n: ">" if n in capped else ""
    for n in (100, 1000, 10000):
        row("6 config", "vmlaunch -n, %d blocks (ms; us/block)" % n,
            "%s%.1f; %s%.2f" % (ge(n), times[n], ge(n), per[n]), "-", "", None)
    for a, b in ((10000, 1000), (1000, 100)):
        lin = per[a] / per[b]
        row("6 config", "per-block cost %d vs %d blocks" % (a, b),
            "%s%.1fx" % (ge(a), lin), "-", "~1x (linear)",
            lin < 1.5 and a not in capped)


# --- 1. relay throughput --------------------------------------------------

def on_cpu(cpu):
    """Popen keywords that run the process on one CPU only (None: any)."""
    if cpu is None:
        return {}
    return {"preexec_fn": lambda: os.sched_setaffinity(0, {cpu})}


def relay_run(cmd, direction, pinned=False):
    """One transfer through cmd.  pinned: the ends (writer, guest, reader)
    on CPU 0 and the relay on CPU 1, as when ssh runs on a core of its own
    beside the ProxyCommand."""
    ends, mid = (0, 1) if pinned else (None, None)
    srv = spawn([BLAST, "serve", str(P["tput"]), direction, str(NBYTES)],
                stdout=subprocess.PIPE, **on_cpu(ends))
    if srv.stdout.readline().strip() != b"listening":
        raise RuntimeError("blast serve did not listen")
    if direction == "up":
        src = spawn([BLAST, "src", str(NBYTES)], stdout=subprocess.PIPE,
                    **on_cpu(ends))
        snk = spawn([BLAST, "sink", "0"], stdin=subprocess.PIPE)
        t0 = time.monotonic()
        relay = spawn(cmd, stdin=src.stdout, stdout=snk.stdin,
                      stderr=subprocess.DEVNULL, **on_cpu(mid))
        src.stdout.close()
        snk.stdin.close()
        srv.wait(timeout=120)
        t1 = time.monotonic()
        ru = wait4(relay, 30)
        src.wait(timeout=10)
        snk.wait(timeout=10)
        ok = srv.returncode == 0
    else:
        snk = spawn([BLAST, "sink", str(NBYTES + len(BANNER))],
                    stdin=subprocess.PIPE, **on_cpu(ends))
        hold_r, hold_w = os.pipe()
        t0 = time.monotonic()
        relay = spawn(cmd, stdin=hold_r, stdout=snk.stdin,
                      stderr=subprocess.DEVNULL, **on_cpu(mid))
        os.close(hold_r)
        snk.stdin.close()
        snk.wait(timeout=120)
        t1 = time.monotonic()
        os.close(hold_w)        # the ssh side hangs up: the relay ends
        ru = wait4(relay, 30)
        srv.wait(timeout=10)
        ok = snk.returncode == 0
    if not ok:
        raise RuntimeError("%s %s: bytes lost" % (cmd[0], direction))
    cpu = ru.ru_utime + ru.ru_stime
    return {"mbs": NBYTES / (t1 - t0) / 1e6, "cpu_per_gib":
            cpu * GIB / NBYTES, "wall": t1 - t0}


def ssh_run(host, direction):
    """One session through ssh, ProxyCommand under blast rusage: the
    session's MB/s (login included) and the relay's CPU seconds."""
    try:
        os.unlink(CPUFILE)
    except FileNotFoundError:
        pass
    ssh = ["ssh", "-F", SSHCFG, host]
    t0 = time.monotonic()
    if direction == "up":
        src = spawn([BLAST, "src", str(SSH_BYTES)], stdout=subprocess.PIPE)
        r = spawn(ssh + ["cat >/dev/null"], stdin=src.stdout,
                  stderr=subprocess.PIPE)
        src.stdout.close()
        err = r.communicate(timeout=300)[1]
        src.wait(timeout=10)
        ok = r.returncode == 0 and src.returncode == 0
    else:
        snk = spawn([BLAST, "sink", str(SSH_BYTES)], stdin=subprocess.PIPE)
        r = spawn(ssh + ["head -c %d /dev/zero" % SSH_BYTES],
                  stdin=subprocess.DEVNULL, stdout=snk.stdin,
                  stderr=subprocess.PIPE)
        snk.stdin.close()
        err = r.communicate(timeout=300)[1]
        snk.wait(timeout=10)
        ok = r.returncode == 0 and snk.returncode == 0
    t1 = time.monotonic()
    if not ok:
        raise RuntimeError("ssh %s %s: %s" % (host, direction, err[-300:]))
    # ssh ends with SIGHUP to its ProxyCommand; the CPU time follows.
    end = time.monotonic() + 10
    while not os.path.exists(CPUFILE) or os.path.getsize(CPUFILE) == 0:
        if time.monotonic() > end:
            raise RuntimeError("ssh %s: no relay CPU time" % host)
        time.sleep(0.01)
    with open(CPUFILE) as f:
        cpu = float(f.read())
    return {"mbs": SSH_BYTES / (t1 - t0) / 1e6,
            "cpu_per_gib": cpu * GIB / SSH_BYTES, "wall": t1 - t0}


def bench_tput():
    tools = {
        "vmlaunch": [VMLAUNCH, "-f", CONF, "tput.vm", "22"],
        "nc": ["nc", "127.0.0.1", str(P["tput"])],
        "socat": ["socat", "-", "TCP:127.0.0.1:%d" % P["tput"]],
    }
    # Make the VM ready (vmctl start, probe) with a small transfer.
    global NBYTES
    saved, NBYTES = NBYTES, 1 << 20
    relay_run(tools["vmlaunch"], "down")
    NBYTES = saved
    res = {}
    kinds = ["up", "down"]
    if len(os.sched_getaffinity(0)) >= 2:
        kinds += ["pinned up", "pinned down"]
    for kind in kinds:
        for t in tools:
            res[(t, kind)] = []
        for _ in range(TPUT_REPS):
            for t, cmd in tools.items():
                res[(t, kind)].append(relay_run(cmd, kind.split()[-1],
                                                kind.startswith("pinned")))
    # The same relays run by ssh: a real writer (ssh writes its packets
    # a few at a time) and a real reader.  The sshvm guest is a real sshd.
    hosts = {"vmlaunch": "vm.cpu", "nc": "nc.cpu", "socat": "socat.cpu"}
    ssh_run("vm.cpu", "down")           # boots the VM
    for direction in ("up", "down"):
        for t in tools:
            res[(t, "ssh " + direction)] = []
        for _ in range(TPUT_REPS):
            for t in tools:
                res[(t, "ssh " + direction)].append(
                    ssh_run(hosts[t], direction))
    out = {}
    for (t, d), runs in res.items():
        out["%s %s" % (t, d)] = {
            "mbs": statistics.median(r["mbs"] for r in runs),
            "cpu_per_gib": statistics.median(r["cpu_per_gib"] for r in runs),
            "runs": runs}
    results["tput"] = out
    names = {"up": "up, pipe->socket", "down": "down, socket->pipe",
             "pinned up": "up, relay alone on CPU 1",
             "pinned down": "down, relay alone on CPU 1",
             "ssh up": "up through ssh", "ssh down": "down through ssh"}
    for d in kinds + ["ssh up", "ssh down"]:
        v = out["vmlaunch " + d]
        for t in ("nc", "socat"):
            a = out["%s %s" % (t, d)]
            # Through ssh, ssh's ciphers set the pace: figures for
            # context, the targets are the relay's own.
            ssh = d.startswith("ssh")
            row("1 relay", "%s: MB/s vs %s" % (names[d], t), v["mbs"],
                a["mbs"], "" if ssh else ">= 1x",
                None if ssh else v["mbs"] >= a["mbs"] * 0.97)
            row("1 relay", "%s: CPU s/GiB vs %s" % (names[d], t),
                v["cpu_per_gib"], a["cpu_per_gib"], "" if ssh else "<= 0.5x",
                None if ssh else v["cpu_per_gib"] <= 0.5 * a["cpu_per_gib"])


# --- 2. warm session cost -------------------------------------------------

def ttfb(cmd, reps):
    out = subprocess.run([BLAST, "ttfb", str(reps)] + cmd,
                         capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError("ttfb %s: %s" % (cmd[0], out.stderr))
    return [int(x) / 1000.0 for x in out.stdout.split()]


def bench_warm():
    cmd_v = [VMLAUNCH, "-f", CONF1, "warm.vm", "22"]
    cmd_b = [VMLAUNCH, "-f", CONF, "warm.vm", "22"]
    cmd_n = ["nc", "127.0.0.1", str(P["warm"])]
    ttfb(cmd_v, 3)                  # boots the VM, makes it ready
    ttfb(cmd_n, 3)
    v, b, n = [], [], []
    rounds = 10
    for _ in range(rounds):
        v += ttfb(cmd_v, TTFB_REPS // rounds)
        n += ttfb(cmd_n, TTFB_REPS // rounds)
        b += ttfb(cmd_b, TTFB_REPS // rounds // 3)
    # ssh host true, ProxyCommand vmlaunch against ProxyCommand nc.
    def ssh(host):
        t0 = time.perf_counter()
        r = subprocess.run(["ssh", "-F", SSHCFG, host, "true"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        if r.returncode != 0:
            raise RuntimeError("ssh %s true: %s" % (host, r.stderr))
        return (time.perf_counter() - t0) * 1000
    ssh("sshvm.vm")
    ssh("sshvm.nc")
    sv, sn = [], []
    for _ in range(SSH_REPS):
        sv.append(ssh("sshvm.vm"))
        sn.append(ssh("sshvm.nc"))
    results["warm"] = {"banner_ms": {"vmlaunch": v, "nc": n,
                                     "vmlaunch_bench_conf": b},
                       "ssh_ms": {"vmlaunch": sv, "nc": sn}}
    nblocks = sum(1 for _ in open(CONF) if _.startswith("vm "))
    for what, a, b, tgt in (("first byte, 1-VM config", v, n, 1.2),
                            ("first byte, %d-VM config" % nblocks, b, n,
                             1.2),
                            ("ssh host true", sv, sn, 1.05)):
        for q, f in (("median", statistics.median), ("p95",
                                                     lambda x: pct(x, 95))):
            row("2 warm", "%s %s, ms (n=%d)" % (what, q, len(a)), f(a),
                f(b), "<= %gx" % tgt if q == "median" else "",
                f(a) <= tgt * f(b) if q == "median" else None)


# --- 3. readiness latency -------------------------------------------------

def boot_once(binary, conf, sup_pid, tag, name):
    """Boot the stopped VM name through a client of binary on conf, whose
    supervisor is sup_pid (its vmctl calls in calls.TAG).  The latency
    (listen -> banner on the client's stdout), the whole connect, and the
    supervisor's connects (probes) and vmctl status calls meanwhile."""
    stampf = os.path.join(VMD, "vm", name, "listen_at")
    cn = Connects(sup_pid, name)
    st0 = vmctl_calls(tag, "status")
    t0 = time.monotonic()
    c = spawn([binary, "-f", conf, name + ".vm", "22"],
              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
              stderr=open(os.path.join(T, "boot.err"), "a"))
    read_banner(c.stdout)
    got = time.time_ns()
    total = (time.monotonic() - t0) * 1000
    connects = cn.stop()
    status = vmctl_calls(tag, "status") - st0
    c.stdin.close()
    c.wait(timeout=10)
    with open(stampf) as f:
        listened = int(f.read().split()[0])
    return {"ms": (got - listened) / 1e6, "total_ms": total,
            "connects": connects, "status": status}


def bench_ready():
    # rNN: boots through this run's supervisor, for the rows against the
    # polling script.  Against the previous probe schedule
    # (BENCH_READY_BEFORE), two supervisors of the same make, each on a
    # config of its own: this binary boots aNN, the earlier one bNN, the
    # same boot delays, one at a time, alternating; long boots lNN and
    # mNN alike, each boot of one beside the same boot of the other.
    short_sides, long_sides = {}, {}
    started = []

    def side(binary, tag, names):
        conf = write_conf(os.path.join(T, tag + ".conf"), tag, names)
        p = start_sup(binary, conf, tag)
        started.append(p)
        return (binary, conf, p, tag)
    short_sides["after"] = side(VMLAUNCH, "after-ready",
                                ["a%02d" % i for i in range(BOOTS)])
    long_sides["after"] = side(VMLAUNCH, "after-long",
                               ["l%02d" % i for i in range(LONG_BOOTS)])
    if READY_BEFORE:
        short_sides["before"] = side(READY_BEFORE, "before-ready",
                                     ["b%02d" % i for i in range(BOOTS)])
        long_sides["before"] = side(READY_BEFORE, "before-long",
                                    ["m%02d" % i
                                     for i in range(LONG_BOOTS)])
    ours = []
    short = {k: [] for k in short_sides}
    long_ = {k: [] for k in long_sides}
    prefix = {("after", 0): "a", ("before", 0): "b", ("after", 1): "l",
              ("before", 1): "m"}

    def boot(sides, side_, kind, i, out):
        binary, conf, p, tag = sides[side_]
        name = "%s%02d" % (prefix[(side_, kind)], i)
        out[side_].append(boot_once(binary, conf, p.pid, tag, name))

    for i in range(BOOTS):
        ours.append(boot_once(VMLAUNCH, CONF, sup.pid, "main",
                              "r%02d" % i))
        for s in sorted(short_sides, reverse=bool(i % 2)):
            boot(short_sides, s, 0, i, short)
    for i in range(LONG_BOOTS):
        ths = [threading.Thread(target=boot, args=(long_sides, s, 1, i,
                                                   long_))
               for s in long_sides]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        for s in long_sides:
            if len(long_[s]) != i + 1:
                raise RuntimeError("long boot %d of %s failed" % (i, s))
    for p in started:
        stop_sup(p)
    lat = [b["ms"] for b in ours]
    total = [b["total_ms"] for b in ours]

    # The alternative: a script polling once a second, measured alike.
    poll = []
    batch = 5
    ports = free_ports(batch)
    for b in range(0, BOOTS, batch):
        live = []
        for k in range(min(batch, BOOTS - b)):
            stampf = os.path.join(T, "poll%d.%d" % (b, k))
            port = ports[k]
            g = spawn([PY, GUEST, "delayed",
                       "%.3f" % random.uniform(0.25, 1.25), str(port),
                       stampf])
            s = spawn(["/bin/sh", "-c", "until nc -z 127.0.0.1 %d; do "
                       "sleep 1; done; exec nc 127.0.0.1 %d" % (port, port)],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                      stderr=subprocess.DEVNULL)
            live.append((g, s, stampf))
        got = {}

        def reader(s):
            read_banner(s.stdout)
            got[s.pid] = time.time_ns()
        ths = [threading.Thread(target=reader, args=(s,)) for _, s, _ in live]
        for th in ths:
            th.start()
        for th in ths:
            th.join(timeout=10)
        for g, s, stampf in live:
            with open(stampf) as f:
                poll.append((got[s.pid] - int(f.read().split()[0])) / 1e6)
            s.kill()
            g.kill()
            s.wait()
            g.wait()
    results["ready"] = {"vmlaunch_ms": lat, "boot_total_ms": total,
                        "poll_ms": poll, "main_boots": ours,
                        "short_boots": short,
                        "long_boots": long_}
    row("3 ready", "listen -> banner median, ms (n=%d)" % len(lat),
        statistics.median(lat), statistics.median(poll), "< 30 ms",
        statistics.median(lat) < 30)
    row("3 ready", "listen -> banner p95, ms", pct(lat, 95), pct(poll, 95),
        "< 100 ms", pct(lat, 95) < 100)
    row("3 ready", "listen -> banner max, ms", max(lat), max(poll), "", None)
    row("3 ready", "whole cold connect median, ms (context)",
        statistics.median(total), "-", "", None)

    # Against the previous probe schedule (issue 18), same boots.
    def vs(label, runs):
        a = runs["after"]
        b = runs.get("before")
        for what, key, f in (
                ("listen -> banner median, ms", "ms", statistics.median),
                ("listen -> banner p95, ms", "ms", lambda x: pct(x, 95)),
                ("connects (probes) per boot", "connects",
                 statistics.mean),
                ("vmctl status per boot", "status", statistics.mean)):
            ours = f([x[key] for x in a])
            alt = f([x[key] for x in b]) if b else "-"
            row("3 ready", "%s, vs previous: %s" % (label, what), ours, alt,
                "", None)
    vs("%d boots of 0.25-0.75 s" % BOOTS, short)
    vs("%d boots of 10-30 s" % LONG_BOOTS, long_)


# --- 4. idle cost ---------------------------------------------------------

def bench_idle():
    held = client("warm.vm", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL)
    read_banner(held.stdout)
    time.sleep(0.5)
    strace_out = os.path.join(T, "strace.sup")
    st = spawn(["strace", "-f", "-c", "-o", strace_out, "-p", str(sup.pid)],
               stderr=subprocess.DEVNULL)
    perf_out = os.path.join(T, "perf.poll")
    loop = spawn(["perf", "stat", "-x,", "-o", perf_out, "-e",
                  "context-switches,task-clock", "/bin/sh", "-c",
                  "while :; do nc -z 127.0.0.1 %d; sleep 1; done"
                  % P["warm"]], stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    a_sup, a_cli = snapshot(sup.pid), snapshot(held.pid)
    t0 = time.monotonic()
    time.sleep(max(0, IDLE_SECS - (time.monotonic() - t0)))
    b_sup, b_cli = snapshot(sup.pid), snapshot(held.pid)
    secs = time.monotonic() - t0
    # perf prints its counts once its command ends: end the loop
    # (the shell and whatever it runs now).
    for task in os.listdir("/proc/%d/task" % loop.pid):
        with open("/proc/%d/task/%s/children" % (loop.pid, task)) as f:
            for k in f.read().split():
                kill_tree(int(k))
    st.send_signal(signal.SIGINT)
    loop.wait(timeout=10)
    st.wait(timeout=10)
    held.stdin.close()
    held.wait(timeout=10)
    calls = 0
    percall = {}
    with open(strace_out) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and w[-1] != "total" and w[0][0].isdigit():
                n = int(w[3])
                percall[w[-1]] = n
                calls += n
    cs_loop = cpu_loop = None
    with open(perf_out) as f:
        for line in f:
            w = line.strip().split(",")
            if len(w) > 2 and w[2] == "context-switches":
                cs_loop = int(w[0])
            if len(w) > 2 and w[2] == "task-clock":
                cpu_loop = float(w[0])     # ms
    d = {k: b_sup[k] - a_sup[k] for k in a_sup}
    dc = {k: b_cli[k] - a_cli[k] for k in a_cli}
    results["idle"] = {"seconds": secs, "supervisor": d, "client": dc,
                       "supervisor_syscalls": percall,
                       "poll_loop": {"context_switches": cs_loop,
                                     "cpu_ms": cpu_loop}}
    states = subprocess.run([VMLAUNCH, "-s", "-f", CONF],
                            capture_output=True, text=True).stdout
    results["idle"]["status"] = states
    wk = d["vcs"] + d["ivcs"]
    row("4 idle", "supervisor wakeups (ctx switches) in %.0fs" % secs, wk,
        cs_loop, "0", wk == 0)
    row("4 idle", "supervisor syscalls in %.0fs (strace -c)" % secs, calls,
        "-", "0", calls == 0)
    row("4 idle", "supervisor CPU ms in %.0fs" % secs, d["run_ns"] / 1e6,
        cpu_loop, "", None)
    row("4 idle", "session client wakeups in %.0fs" % secs,
        dc["vcs"] + dc["ivcs"], "-", "0", dc["vcs"] + dc["ivcs"] == 0)


# --- 5. scale ---------------------------------------------------------------

def run_clients(hosts, payload, label):
    """Start one client per host, wait for every banner, echo payload
    through each, then close them all.  Connect times in ms."""
    errf = open(os.path.join(T, "scale.err"), "a")
    sel = selectors.DefaultSelector()
    cs = []
    t0 = {}
    for h in hosts:
        c = client(h, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   stderr=errf, bufsize=0)
        t0[c.pid] = time.monotonic()
        os.set_blocking(c.stdout.fileno(), False)
        cs.append(c)
    want = {c.pid: len(BANNER) for c in cs}
    got = {c.pid: b"" for c in cs}
    conn = {}

    def pump(deadline):
        for c in cs:
            if len(got[c.pid]) < want[c.pid]:
                sel.register(c.stdout, selectors.EVENT_READ, c)
        pending = len(sel.get_map())
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError("%s: %d clients stalled" % (label,
                                                                pending))
            for key, _ in sel.select(timeout=1):
                c = key.data
                try:
                    data = os.read(c.stdout.fileno(), 1 << 16)
                except BlockingIOError:
                    continue
                if not data:
                    raise RuntimeError("%s: a client ended early (rc %s)"
                                       % (label, c.wait()))
                got[c.pid] += data
                if len(got[c.pid]) >= want[c.pid]:
                    if c.pid not in conn:
                        conn[c.pid] = (time.monotonic() - t0[c.pid]) * 1000
                    sel.unregister(c.stdout)
                    pending -= 1
    pump(time.monotonic() + 120)
    for c in cs:
        if not got[c.pid].startswith(BANNER):
            raise RuntimeError("%s: bad banner %r" % (label, got[c.pid][:40]))
        c.stdin.write(payload)
        want[c.pid] += len(payload)
    pump(time.monotonic() + 120)
    for c in cs:
        if got[c.pid][len(BANNER):] != payload:
            raise RuntimeError("%s: payload mangled" % label)
    peak = {"rss_kb": rss_kb(sup.pid), "hwm_kb": hwm_kb(sup.pid),
            "fds": nfds(sup.pid)}
    for c in cs:
        c.stdin.close()
    bad = 0
    for c in cs:
        c.wait(timeout=60)
        c.stdout.close()
        bad += c.returncode != 0
    sel.close()
    return [conn[c.pid] for c in cs], peak, bad


def count_starts(name):
    n = 0
    with open(os.path.join(VMD, "log")) as f:
        for line in f:
            if line.split()[3:6] == ["CMD:", "start", name]:
                n += 1
    return n


def wait_fds(want, secs=5):
    end = time.monotonic() + secs
    while nfds(sup.pid) != want and time.monotonic() < end:
        time.sleep(0.05)
    return nfds(sup.pid)


scale_up = False


def scale_vms():
    """The sNNN VMs running in the double (started by hand, so no
    supervisor owns them), their guests one multi-port guest.py."""
    global scale_up
    if scale_up:
        return
    multi = spawn([PY, GUEST, "multi"] + [str(p) for p in P["scale"]],
                  stdout=subprocess.PIPE)
    if multi.stdout.readline().strip() != b"listening":
        raise RuntimeError("multi-port guest did not listen")
    for i in range(NVMS):
        double("start", "s%03d" % i)
    scale_up = True


def bench_scale():
    # 100 simultaneous cold connections to one stopped VM.
    fds0 = nfds(sup.pid)
    times, _, bad = run_clients(["cold.vm"] * COLD, b"c" * 4096, "cold")
    starts = count_starts("cold")
    results["cold"] = {"connect_ms": times, "failed": bad,
                       "vmctl_starts": starts}
    row("5 scale", "%d cold clients, one stopped VM: vmctl starts" % COLD,
        starts, "-", "1", starts == 1)
    row("5 scale", "  cold clients failed", bad, "-", "0", bad == 0)
    row("5 scale", "  cold connect ms min/median/max",
        "%.0f/%.0f/%.0f" % (min(times), statistics.median(times),
                            max(times)), "-", "", None)

    # 1,000 sessions over 100 VMs sharing one multi-port guest server.
    scale_vms()
    hosts = ["s%03d.vm" % i for i in range(NVMS)]
    run_clients(hosts, b"w" * 1024, "warm-up")     # every VM ready
    idle_fds = wait_fds(fds0)
    idle_rss = rss_kb(sup.pid)
    t0 = time.monotonic()
    many = [hosts[i % NVMS] for i in range(SESSIONS)]
    times, peak, bad = run_clients(many, b"s" * 16384, "sessions")
    wall = time.monotonic() - t0
    after_fds = wait_fds(idle_fds)
    after_rss = rss_kb(sup.pid)
    results["scale"] = {"idle_fds": idle_fds, "idle_rss_kb": idle_rss,
                        "peak": peak, "after_fds": after_fds,
                        "after_rss_kb": after_rss, "failed": bad,
                        "connect_ms": times, "wall_s": wall}
    row("5 scale", "%d sessions / %d VMs: failed" % (SESSIONS, NVMS), bad,
        "-", "0", bad == 0)
    row("5 scale", "  supervisor RSS at peak, MB", peak["rss_kb"] / 1024.0,
        "-", "< 16 MB", peak["rss_kb"] < 16 * 1024)
    row("5 scale", "  supervisor RSS idle -> after, MB",
        "%.1f -> %.1f" % (idle_rss / 1024.0, after_rss / 1024.0), "-", "", None)
    row("5 scale", "  supervisor fds idle/peak/after",
        "%d/%d/%d" % (idle_fds, peak["fds"], after_fds), "-",
        "after = idle", after_fds == idle_fds)
    row("5 scale", "  connect ms median/p95/max; total s",
        "%.0f/%.0f/%.0f; %.1f" % (statistics.median(times), pct(times, 95),
                                  max(times), wall), "-", "", None)


# --- 7. resume ------------------------------------------------------------

def wait_state(state_of, want, secs):
    end = time.monotonic() + secs
    while state_of() != want:
        if time.monotonic() > end:
            raise RuntimeError("not %s within %ds" % (want, secs))
        time.sleep(0.05)


def resume_reps(cmd, state_of, stop, reps):
    """Client start to banner for a running, a paused and a stopped VM:
    cmd(kind) is the client of each; state_of(kind) its state for the
    backend, stop(kind) stops it."""
    ttfb(cmd("run"), 1)                             # boots it
    running = ttfb(cmd("run"), reps)
    ttfb(cmd("pause"), 1)                           # boots it
    paused, cold = [], []
    for _ in range(reps):
        wait_state(lambda: state_of("pause"), "paused", 300)
        paused += ttfb(cmd("pause"), 1)
    for _ in range(reps):
        wait_state(lambda: state_of("cold"), "stopped", 300)
        cold += ttfb(cmd("cold"), 1)
        stop("cold")
    for kind in ("run", "pause"):
        stop(kind)
    return running, paused, cold


def resume_rows(label, running, paused, cold):
    for q, f in (("median", statistics.median), ("p95",
                                                 lambda x: pct(x, 95))):
        row("7 resume", "%s: paused vs running, %s ms (n=%d)"
            % (label, q, len(paused)), f(paused), f(running), "", None)
        row("7 resume", "%s: paused vs cold boot, %s ms (n=%d)"
            % (label, q, len(paused)), f(paused), f(cold),
            "< 1x" if q == "median" else "",
            f(paused) < f(cold) if q == "median" else None)


def bench_resume():
    names = {"run": "rrun", "pause": "rpause", "cold": "rcold"}
    state_of = lambda k: double("__state", names[k])

    def stop(k):
        subprocess.run([VMLAUNCH, "-x", "-f", CONF, names[k] + ".vm"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    running, paused, cold = resume_reps(
        lambda k: [VMLAUNCH, "-f", CONF, names[k] + ".vm", "22"],
        state_of, stop, RESUME_REPS)
    results["resume"] = {"double_ms": {"running": running,
                                       "paused": paused, "cold": cold}}
    resume_rows("double", running, paused, cold)
    if QEMU:
        bench_resume_qemu()


def bench_resume_qemu():
    """The same with the real guest under QEMU (TCG, user networking, no
    root), through a supervisor of its own; skipped when QEMU or the
    guest cannot be had."""
    qemu_double = os.path.join(TOP, "regress", "guest", "vmctl-qemu")
    if subprocess.run(["sh", "-c", "command -v qemu-system-x86_64"],
                      capture_output=True).returncode != 0:
        log("resume: no qemu-system-x86_64, no real-guest rows")
        return
    g = subprocess.run([os.path.join(TOP, "regress", "guest", "build.sh")],
                       capture_output=True, text=True, timeout=1800)
    if g.returncode != 0:
        log("resume: no guest (regress/guest/build.sh failed), no "
            "real-guest rows")
        return
    guest = g.stdout.strip()
    qd = os.path.join(T, "qemu")
    qrun = os.path.join(T, "qrun")
    os.makedirs(qd, exist_ok=True)
    os.makedirs(qrun, mode=0o700, exist_ok=True)
    env = dict(os.environ, VMCTL_QEMU_DIR=qd, VMCTL_QEMU_GUEST=guest)
    ports = free_ports(3)
    names = {"run": "qrun", "pause": "qpause", "cold": "qcold"}
    conf = ['socket "%s/control"' % qrun,
            'vmctl "env VMCTL_QEMU_DIR=%s VMCTL_QEMU_GUEST=%s %s"'
            % (qd, guest, qemu_double), 'domain "vm"',
            "idle timeout 1h", "boot wait 3m", "stop wait 2m"]
    for (k, name), port in zip(sorted(names.items()), ports):
        subprocess.run([qemu_double, "define", name, "net=user",
                        "port=%d" % port, "mem=256"], env=env, check=True,
                       capture_output=True)
        conf.append('vm "%s" {\n\taddress 127.0.0.1\n\tport %d\n%s}'
                    % (name, port, "\tidle pause 2s\n" if k == "pause"
                       else ""))
    qconf = os.path.join(T, "qemu.conf")
    with open(qconf, "w") as f:
        f.write("\n".join(conf) + "\n")
    os.chmod(qconf, 0o600)
    qsup = spawn([VMLAUNCH, "-d", "-f", qconf], stdout=subprocess.DEVNULL,
                 stderr=open(os.path.join(T, "qemu-supervisor.log"), "w"))
    end = time.monotonic() + 10
    while not os.path.exists(os.path.join(qrun, "control")):
        if time.monotonic() > end:
            raise RuntimeError("the QEMU supervisor did not start")
        time.sleep(0.01)

    def state_of(k):
        out = subprocess.run([qemu_double, "status", names[k]], env=env,
                             capture_output=True, text=True).stdout
        for line in out.splitlines()[1:]:
            f = line.split()
            if f and f[-1] == names[k]:
                return f[-2]
        return "absent"

    def stop(k):
        subprocess.run([VMLAUNCH, "-x", "-f", qconf, names[k] + ".vm"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=300)
    try:
        running, paused, cold = resume_reps(
            lambda k: [VMLAUNCH, "-f", qconf, names[k] + ".vm", "22"],
            state_of, stop, QEMU_REPS)
    finally:
        qsup.terminate()
        wait4(qsup, 300)
    results["resume"]["qemu_ms"] = {"running": running, "paused": paused,
                                    "cold": cold}
    resume_rows("QEMU guest", running, paused, cold)


# --- 8. many first contacts ------------------------------------------------

def contact_round(binary, conf, tag):
    """A new supervisor of binary on conf; one client for each of the
    NVMS running VMs it has never seen, all at once.  The vmctl calls
    it made, and the time from the first client's start to the last
    banner."""
    out = double("status")
    up = sum(1 for l in out.splitlines()[1:]
             if l.split()[-1] in PORT and l.split()[-1][1:].isdigit() and
             l.split()[-1][0] == "s" and l.split()[-2] == "running")
    if up != NVMS:
        raise RuntimeError("contacts: %d of the %d VMs run:\n%s"
                           % (up, NVMS, out))
    p = start_sup(binary, conf, tag)
    calls0 = vmctl_calls(tag)
    status0 = vmctl_calls(tag, "status")
    errf = open(os.path.join(T, "contacts.err"), "a")
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    cs = []
    for i in range(NVMS):
        c = spawn([binary, "-f", conf, "s%03d.vm" % i, "22"],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=errf, bufsize=0)
        os.set_blocking(c.stdout.fileno(), False)
        sel.register(c.stdout, selectors.EVENT_READ, c)
        cs.append(c)
    got = {c.pid: b"" for c in cs}
    pending = len(cs)
    deadline = time.monotonic() + 120
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError("contacts %s: %d clients stalled"
                               % (tag, pending))
        for key, _ in sel.select(timeout=1):
            c = key.data
            try:
                data = os.read(c.stdout.fileno(), 4096)
            except BlockingIOError:
                continue
            if not data:
                raise RuntimeError("contacts %s: a client ended early (rc "
                                   "%s); see %s" % (tag, c.wait(),
                                                    errf.name))
            got[c.pid] += data
            if b"\n" in got[c.pid]:
                if not got[c.pid].startswith(BANNER):
                    raise RuntimeError("contacts: bad banner %r"
                                       % got[c.pid][:40])
                sel.unregister(c.stdout)
                pending -= 1
    last = (time.monotonic() - t0) * 1000
    sel.close()
    calls = vmctl_calls(tag) - calls0
    status = vmctl_calls(tag, "status") - status0
    for c in cs:
        c.stdin.close()
    for c in cs:
        c.wait(timeout=60)
        c.stdout.close()
    stop_sup(p)
    return {"ms": last, "vmctl": calls, "status": status}


def bench_contacts():
    # The same running VMs, contacted for the first time by a new
    # supervisor: this one, then the one before batching, alternating.
    scale_vms()
    names = ["s%03d" % i for i in range(NVMS)]
    sides = {"after": VMLAUNCH}
    if CONTACTS_BEFORE:
        sides["before"] = CONTACTS_BEFORE
    confs = {side: write_conf(os.path.join(T, "contacts-%s.conf" % side),
                              "contacts-" + side, names) for side in sides}
    runs = {side: [] for side in sides}
    for r in range(CONTACT_REPS):
        for side in sorted(sides, reverse=bool(r % 2)):
            runs[side].append(contact_round(sides[side], confs[side],
                                            "contacts-" + side))
    results["contacts"] = runs
    a = runs["after"]
    b = runs.get("before")
    for what, key in (("vmctl processes", "vmctl"),
                      ("ms to the last banner", "ms")):
        ours = statistics.median([x[key] for x in a])
        alt = statistics.median([x[key] for x in b]) if b else "-"
        row("8 contacts", "%d VMs at once, median of %d: %s"
            % (NVMS, CONTACT_REPS, what), ours, alt, "", None)
    row("8 contacts", "  vmctl processes per round, now; before",
        "/".join(str(x["vmctl"]) for x in a),
        "/".join(str(x["vmctl"]) for x in b) if b else "-", "", None)
    row("8 contacts", "  ms to the last banner per round, now; before",
        "/".join("%.0f" % x["ms"] for x in a),
        "/".join("%.0f" % x["ms"] for x in b) if b else "-", "", None)


# --- main -----------------------------------------------------------------

def table():
    head = ("bench", "metric", "vmlaunch", "alternative", "ratio", "target",
            "")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(7)]
    lines = []
    for r in [head] + rows:
        lines.append("  ".join(str(x).ljust(w[i]) if i < 2 else
                               str(x).rjust(w[i]) if i < 5 else
                               str(x).ljust(w[i])
                               for i, x in enumerate(r)).rstrip())
    return "\n".join(lines)


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE,
                       (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    random.seed(7)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    setup()
    want = lambda b: not ONLY or b in ONLY
    t0 = time.monotonic()
    steps = [("config", bench_config), ("tput", bench_tput),
             ("warm", bench_warm), ("ready", bench_ready),
             ("idle", bench_idle),
             ("scale", bench_scale), ("resume", bench_resume),
             ("contacts", bench_contacts)]
    for name, fn in steps:
        if not want(name):
            continue
        log("%s (%.0fs so far)" % (name, time.monotonic() - t0))
        check_sup()
        fn()
        check_sup()
    with open(os.path.join(T, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    print(table())
    print("\n(%d rows; ratio = vmlaunch / alternative; %.0f s in all)"
          % (len(rows), time.monotonic() - t0))


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
