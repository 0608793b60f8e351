#!/usr/bin/python3
"""Constellation benchmark: a real orreryd on 127.0.0.1, peers played from Python.

In one run, each figure with a baseline measured in the same run:

1. Handshake: for 200 sequential inbound connections, the time from connect()
   returning (the kernel has queued the connection for orreryd's accept) to the
   agent's version AND verack both received; we send our version at once, as an
   inbound agent waits for the peer's. Median and p99, against fork+exec of
   trivial_reply (writes one byte to a pipe) until that byte is read, 200 times,
   each spawn right before a handshake so both see the same load (posix_spawn too).
   Two series with orreryd's default spare agents (-agentspares): steady, each peer
   arriving when the spares are ready, as peers arrive on a live node; and
   back to back, faster than spares start, so most peers wait for an agent to start.
   "Steady" waits, outside the timed part, until orreryd reports every spare ready
   and no other agent (the previous peer's has exited).
   Target: median handshake of the steady series within 3x the median trivial spawn.
2. Memory per idle agent at 125 and 500 peers that finished the handshake and
   stay connected: Pss (smaps_rollup) + kernel page tables (VmPTE) + kernel
   stacks (Threads x 16 KiB, THREAD_SIZE on x86_64 and arm64), against a bare
   idle ZeroMQ client (idle_zmq_client, one live DEALER connection) measured
   the same way. Target: at most 1.5 MiB per agent.
3. orreryd's and the node's own growth per peer between 0 and N peers.

Timing and memory targets are reported (met/MISSED), never asserted: the exit
status is 1 only for functional failures (orreryd does not start, a handshake
fails, a process survives the teardown).

ORRERY_BUILD_DIR=<build> /usr/bin/python3 tests/bench/constellation/bench_constellation.py
Options: --handshakes N (200, and as many trivial spawns), --peers 125,500, --budget SECONDS (1000).
"""
import argparse
import json
import os
import resource
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import bitcoin
from bitcoin.messages import msg_verack, msg_version

# The functional tests' helpers: one free_port, one wait_for (its WaitTimeout is a TimeoutError), one /proc scan.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))
from conftest import free_port, processes_with_mark, wait_for  # noqa: E402

bitcoin.SelectParams("regtest")

KIB = 1024
MIB = 1024 * 1024
KERNEL_STACK = 16 * KIB  # THREAD_SIZE on x86_64 and arm64 (no KASAN)
HANDSHAKE_TARGET = 3.0   # x trivial spawn
AGENT_TARGET_MIB = 1.5
HANDSHAKE_TIMEOUT = 15.0  # one connection
MARK = "ORRERY_BENCH_MARK"  # in the environment of every process of the run
MAGIC = bytes.fromhex("fabfb5da")  # regtest

failures = []


def fail(message):
    print(f"FAILURE: {message}", flush=True)
    failures.append(message)


def out(line=""):
    print(line, flush=True)


class Budget:
    def __init__(self, seconds):
        self.deadline = time.monotonic() + seconds

    def left(self):
        return self.deadline - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise TimeoutError(f"time budget exhausted during {what}")


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


# ---------------------------------------------------------------- /proc


def read_kib(path, keys):
    """{key: value in bytes} for 'Key:   123 kB' lines of a /proc file."""
    found = {}
    with open(path) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                parts = rest.split()
                found[name] = int(parts[0]) * (KIB if len(parts) > 1 and parts[1] == "kB" else 1)
    return found


def footprint(pid):
    """Memory of one process in bytes: pss, rss, pte, kstack (Threads x 16 KiB), vmstk, total."""
    rollup = read_kib(f"/proc/{pid}/smaps_rollup", {"Pss", "Rss", "Private_Clean", "Private_Dirty"})
    status = read_kib(f"/proc/{pid}/status", {"VmPTE", "VmStk", "Threads"})
    entry = {"pss": rollup["Pss"], "rss": rollup["Rss"], "uss": rollup["Private_Clean"] + rollup["Private_Dirty"],
             "pte": status.get("VmPTE", 0),
             "vmstk": status.get("VmStk", 0), "threads": status["Threads"]}
    entry["kstack"] = entry["threads"] * KERNEL_STACK
    entry["total"] = entry["pss"] + entry["pte"] + entry["kstack"]
    entry["own"] = entry["uss"] + entry["pte"] + entry["kstack"]  # not shared: what a process itself adds
    return entry


def user_threads():
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += read_kib(entry / "status", {"Threads"}).get("Threads", 0)
            except (OSError, KeyError):
                pass
    return count


# ---------------------------------------------------------------- limits


def check_limits(max_peers):
    """Raises RLIMIT_NOFILE to its hard limit (inherited by orreryd and its children) and prints
    the limits that bound how many agents fit. Returns a reason string if max_peers cannot fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    soft_now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    threads_max = int(Path("/proc/sys/kernel/threads-max").read_text())
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    root = os.geteuid() == 0
    nproc_text = "unlimited" if nproc == resource.RLIM_INFINITY else str(nproc)
    current = user_threads()
    out(f"limits: RLIMIT_NOFILE {soft} -> {soft_now} (hard {hard}); RLIMIT_NPROC {nproc_text}"
        f"{' (not enforced for root)' if root else ''}; threads-max {threads_max}; pid_max {pid_max}; "
        f"this user runs {current} threads now")
    # Descriptors: orreryd holds one output pipe per agent, the node one ZeroMQ socket per agent,
    # this process one TCP socket per peer; each also needs room for its own use.
    needed_fds = max_peers + 256
    if soft_now != resource.RLIM_INFINITY and soft_now < needed_fds:
        return f"RLIMIT_NOFILE {soft_now} < {needed_fds} needed for {max_peers} peers"
    # Threads: checked again with the measured threads per agent once agents run.
    return None


def threads_fit(peers_more, threads_per_agent):
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    threads_max = int(Path("/proc/sys/kernel/threads-max").read_text())
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    need = user_threads() + int(peers_more * threads_per_agent) + 64
    if os.geteuid() != 0 and nproc != resource.RLIM_INFINITY and need > nproc:
        return f"RLIMIT_NPROC {nproc} < about {need} threads needed"
    if need > min(threads_max, pid_max):
        return f"threads-max/pid_max {min(threads_max, pid_max)} < about {need} threads needed"
    return None


# ---------------------------------------------------------------- baseline: trivial spawn


class SpawnProbe:
    """spawn_probe: fork+exec of trivial_reply from a small C++ process, one per request."""

    def __init__(self, probe, trivial):
        self.proc = subprocess.Popen([probe, trivial], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)

    def once(self):
        self.proc.stdin.write(b"x")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().strip() if ready else b"no answer"
        if not line.isdigit():
            raise RuntimeError(f"spawn_probe: {line.decode(errors='replace')}")
        return int(line) / 1e9

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def spawn_once_posix_spawn(path):
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.posix_spawn(path, [path], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_CLOSE, r)])
    os.close(w)
    data = os.read(r, 1)
    t1 = time.perf_counter()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if data != b"x" or status != 0:
        raise RuntimeError(f"trivial_reply answered {data!r}, status {status}")
    return t1 - t0


# ---------------------------------------------------------------- peers


def version_bytes(port):
    version = msg_version(70016)
    version.nServices = 0
    version.nStartingHeight = 0
    version.addrTo.ip = "127.0.0.1"
    version.addrTo.port = port
    version.fRelay = True
    return version.to_bytes()


VERACK = msg_verack().to_bytes()


class Peer:
    """One TCP connection to orreryd, speaking just enough P2P to finish the handshake."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def handshake(self, timeout):
        """Connects, sends version, waits for the agent's version and verack, answers verack.
        Returns seconds from connect() returning to both received."""
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", self.port))
        t0 = time.perf_counter()
        self.sock.sendall(version_bytes(self.port))
        deadline = time.monotonic() + timeout
        seen = set()
        while not {"version", "verack"} <= seen:
            for command in self.read_messages(deadline):
                seen.add(command)
        t1 = time.perf_counter()
        self.sock.sendall(VERACK)
        return t1 - t0

    def read_messages(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no version+verack from the agent in time")
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            raise TimeoutError("no version+verack from the agent in time")
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the agent closed the connection during the handshake")
        self.buffer += chunk
        commands = []
        while len(self.buffer) >= 24:
            if self.buffer[:4] != MAGIC:
                raise ConnectionError(f"wrong magic {self.buffer[:4].hex()}")
            length = struct.unpack_from("<I", self.buffer, 16)[0]
            if len(self.buffer) < 24 + length:
                break
            commands.append(self.buffer[4:16].rstrip(b"\0").decode("ascii"))
            self.buffer = self.buffer[24 + length:]
        return commands

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- the constellation


class Constellation:
    def __init__(self, build, datadir):
        self.build = build
        self.datadir = datadir
        self.mark = uuid.uuid4().hex
        self.p2p_port = free_port()
        self.rpc_port = free_port()
        self.process = None

    def start(self):
        args = [str(self.build / "supervisor" / "orreryd"), f"-datadir={self.datadir}", "-regtest",
                "-bind=127.0.0.1", f"-port={self.p2p_port}", f"-rpcport={self.rpc_port}",
                "-maxconnections=600", "-disablewallet"]
        env = dict(os.environ, **{MARK: self.mark})
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=env, start_new_session=True)

        def started():
            if self.process.poll() is not None:
                raise RuntimeError(f"orreryd exited with status {self.process.returncode} at start-up")
            return "All services started" in self.log()
        wait_for(started, 60, "'All services started' in debug.log")

    def log(self):
        path = self.datadir / "regtest" / "debug.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def status(self):
        result = subprocess.run([str(self.build / "cli" / "orrery-cli"), f"-datadir={self.datadir}", "-regtest",
                                 "-supervisor", "status"], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"orrery-cli -supervisor status failed: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def pids(self, role):
        """Pids of `role`; for p2p-agent, the agents serving a peer (spares are started ahead of need)."""
        return [e["pid"] for e in self.status() if e["role"] == role and e["pid"] and not e.get("state", "").startswith("spare")]

    def teardown(self):
        """SIGTERM orreryd and wait; SIGKILL its group and every marked process left; verify none survives."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                fail("orreryd did not stop within 90 s of SIGTERM; killing it")
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        left = processes_with_mark(self.mark, MARK)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            wait_for(lambda: not processes_with_mark(self.mark, MARK), 15,
                     "every process of the constellation to go")
        except TimeoutError:
            fail(f"processes survived the teardown: {processes_with_mark(self.mark, MARK)}")
            return
        if left:
            fail(f"processes outlived orreryd and had to be killed: {left}")
        out(f"teardown: orreryd exited with status {self.process.returncode}; no process of the run is left")


# ---------------------------------------------------------------- memory baseline


class Helpers:
    """Processes this script starts itself (not through orreryd)."""

    def __init__(self):
        self.procs = []

    def start(self, args):
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        self.procs.append(proc)
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            raise RuntimeError(f"{args[0]} did not start: {proc.stderr.read1(4096) if proc.poll() is not None else 'no answer'}")
        return proc

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdout, proc.stderr):
                stream.close()
        self.procs = []


def measure_idle_zmq(build, tmp):
    helpers = Helpers()
    binary = str(build / "tests" / "bench" / "constellation" / "idle_zmq_client")
    endpoint = f"ipc://{tmp}/idle_zmq.sock"
    try:
        helpers.start([binary, "bind", endpoint, "120"])
        client = helpers.start([binary, "connect", endpoint, "120"])
        time.sleep(1.0)  # the connection is up and idle
        return footprint(client.pid)
    finally:
        helpers.stop()


# ---------------------------------------------------------------- phases


def spares_all_ready(c):
    """True when every spare agent is ready and none is starting: the pool is full, as it is on a
    live node between peers."""
    states = [e.get("state", "") for e in c.status() if e["role"] == "p2p-agent"]
    spares = [s for s in states if s.startswith("spare")]
    return bool(spares) and all(s == "spare" for s in spares) and len(spares) == len(states)


def phase_handshakes(c, count, probe, trivial, budget, steady):
    """`count` handshakes, each right after one fork+exec (spawn_probe) and one posix_spawn (from here)
    of `trivial`, so that the baseline and the handshakes see the same load on a shared machine.
    steady: each connection comes once orreryd reports a ready spare agent (as on a real node, whose
    peers arrive seconds apart); otherwise back to back, faster than spares can be started."""
    for _ in range(10):  # warm-up, not counted: page cache, dynamic loader, the node's first peers
        probe.once()
        peer = Peer(c.p2p_port)
        try:
            peer.handshake(HANDSHAKE_TIMEOUT)
        finally:
            peer.close()
    times, fork_times, spawn_times, errors = [], [], [], []
    for _ in range(count):
        budget.check("the handshake phase")
        if steady:
            wait_for(lambda: spares_all_ready(c), 30, "every spare agent ready", interval=0.005)
        fork_times.append(probe.once())
        spawn_times.append(spawn_once_posix_spawn(trivial))
        peer = Peer(c.p2p_port)
        try:
            times.append(peer.handshake(HANDSHAKE_TIMEOUT))
        except (OSError, TimeoutError, ConnectionError) as e:
            errors.append(str(e))
        finally:
            peer.close()
    return times, fork_times, spawn_times, errors


def report_handshakes(steady, count, times, fork_times, spawn_times, errors):
    if steady:
        label = "steady (each peer arrives when the spare agents are all ready, as on a live node)"
    else:
        label = "back to back (peers arrive faster than spare agents start: most wait for an agent to start)"
    out(f"handshakes {label}:")
    base = statistics.median(fork_times)
    out(f"  baseline fork+exec+first reply of trivial_reply ({len(fork_times)} runs from spawn_probe, interleaved"
        f" with the handshakes): median {ms(base)}, p99 {ms(percentile(fork_times, 99))}; posix_spawn from"
        f" Python: median {ms(statistics.median(spawn_times))}, p99 {ms(percentile(spawn_times, 99))}")
    if errors:
        fail(f"{len(errors)} of {count} handshakes failed; first: {errors[0]}")
    if not times:
        return
    median = statistics.median(times)
    p99 = percentile(times, 99)
    ratio = median / base
    out(f"  accept->version+verack ({len(times)} connections): median {ms(median)}, p99 {ms(p99)},"
        f" max {ms(max(times))}")
    verdict = f"target <= {HANDSHAKE_TARGET:.0f}x: {'met' if ratio <= HANDSHAKE_TARGET else 'MISSED'}"
    out(f"  {ratio:.2f}x the trivial fork+exec median (p99 {p99 / percentile(fork_times, 99):.2f}x;"
        f" {median / statistics.median(spawn_times):.2f}x the posix_spawn median);"
        f" {verdict if steady else 'for comparison (the target is the steady case)'}")


def average(entries, key):
    return sum(e[key] for e in entries) / len(entries)


def report_agents(n, agents, zmq_base):
    total = average(agents, "total")
    out(f"idle agents at {n} peers ({len(agents)} measured): per agent Pss {average(agents, 'pss') / MIB:.3f} MiB"
        f" + page tables {average(agents, 'pte') / KIB:.0f} KiB + kernel stacks {average(agents, 'kstack') / KIB:.0f} KiB"
        f" ({average(agents, 'threads'):.1f} threads) = {total / MIB:.3f} MiB"
        f" (min {min(e['total'] for e in agents) / MIB:.3f}, max {max(e['total'] for e in agents) / MIB:.3f});"
        f" RSS {average(agents, 'rss') / MIB:.2f} MiB")
    own = average(agents, "own")
    out(f"  private memory (not shared) + page tables + kernel stacks: {own / MIB:.3f} MiB per agent,"
        f" {own / zmq_base['own']:.2f}x the bare client's {zmq_base['own'] / MIB:.3f} MiB (independent of sharing)")
    out(f"  with VmStk instead of kernel stacks: {(average(agents, 'pss') + average(agents, 'pte') + average(agents, 'vmstk')) / MIB:.3f} MiB"
        f" (VmStk {average(agents, 'vmstk') / KIB:.0f} KiB, the main thread's user stack mapping)")
    verdict = "met" if total <= AGENT_TARGET_MIB * MIB else "MISSED"
    out(f"  target <= {AGENT_TARGET_MIB} MiB per idle agent: {verdict}; "
        f"{total / zmq_base['total']:.2f}x the bare idle ZeroMQ client; "
        f"1,000 such agents: {total * 1000 / (1024 * MIB):.2f} GiB")
    return total


def report_growth(n, name, before, now):
    # Private memory, not Pss: the agents share orreryd's and the node's libraries, so their Pss
    # falls as agents come even when the process itself grows.
    per_peer = (now["own"] - before["own"]) / n
    out(f"{name} growth at {n} peers: {per_peer / KIB:.1f} KiB per peer (private memory + page tables + kernel stacks:"
        f" {before['own'] / MIB:.2f} -> {now['own'] / MIB:.2f} MiB); private {before['uss'] / MIB:.2f} -> {now['uss'] / MIB:.2f} MiB,"
        f" page tables {before['pte'] / KIB:.0f} -> {now['pte'] / KIB:.0f} KiB, threads {before['threads']} -> {now['threads']},"
        f" RSS {(now['rss'] - before['rss']) / n / KIB:.1f} KiB per peer, Pss {before['pss'] / MIB:.2f} -> {now['pss'] / MIB:.2f} MiB")


def phase_memory(c, targets, budget, tmp, limit_reason):
    node_pid = c.pids("node")[0]
    orreryd_pid = c.process.pid
    wait_for(lambda: not c.pids("p2p-agent"), 60, "the agents of the handshake phase to exit")
    time.sleep(1.0)
    before = {"orreryd": footprint(orreryd_pid), "node": footprint(node_pid)}
    peers = []
    reached = 0
    stop_reason = None
    try:
        for n in targets:
            if limit_reason:
                stop_reason = limit_reason
                break
            while len(peers) < n:
                if budget.left() < 60:
                    stop_reason = "the time budget ran out while connecting peers"
                    break
                peer = Peer(c.p2p_port)
                try:
                    peer.handshake(HANDSHAKE_TIMEOUT)
                except (OSError, TimeoutError, ConnectionError) as e:
                    peer.close()
                    stop_reason = f"peer {len(peers) + 1} failed: {e}"
                    break
                peers.append(peer)
            if stop_reason:
                break
            agents = wait_for(lambda: (lambda pids: pids if len(pids) >= n else None)(c.pids("p2p-agent")),
                              60, f"{n} agents in the supervisor's status")
            time.sleep(2.0)  # past the first ping and stats report: idle
            footprints = []
            for pid in agents:
                try:
                    footprints.append(footprint(pid))
                except OSError:
                    pass
            if len(footprints) != n:
                fail(f"{n} peers but {len(footprints)} agents readable")
            reached = n
            # The baseline now, while the agents run: its shared libraries are then shared as widely.
            zmq_base = measure_idle_zmq(c.build, tmp)
            out(f"baseline bare idle ZeroMQ client at {n} peers: Pss {zmq_base['pss'] / MIB:.3f} MiB + page tables"
                f" {zmq_base['pte'] / KIB:.0f} KiB + kernel stacks {zmq_base['kstack'] / KIB:.0f} KiB"
                f" ({zmq_base['threads']} threads) = {zmq_base['total'] / MIB:.3f} MiB; private"
                f" {zmq_base['uss'] / MIB:.3f} MiB, RSS {zmq_base['rss'] / MIB:.2f} MiB")
            report_agents(n, footprints, zmq_base)
            now = {"orreryd": footprint(orreryd_pid), "node": footprint(node_pid)}
            for name in ("orreryd", "node"):
                report_growth(n, name, before[name], now[name])
            if n != targets[-1]:
                threads_per_agent = average(footprints, "threads")
                limit_reason = threads_fit(targets[-1] - n, threads_per_agent)
    finally:
        for peer in peers:
            peer.close()
    if stop_reason:
        out(f"highest number of idle peers reached: {reached} (of {targets[-1]}): {stop_reason}")
        if not (limit_reason and stop_reason == limit_reason):
            fail(f"could not reach {targets[-1]} peers: {stop_reason}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=200)
    parser.add_argument("--peers", default="125,500")
    parser.add_argument("--budget", type=float, default=1000.0)
    options = parser.parse_args()
    targets = sorted(int(x) for x in options.peers.split(","))
    budget = Budget(options.budget)

    build = Path(os.environ.get("ORRERY_BUILD_DIR", Path(__file__).resolve().parents[3] / "build"))
    needed = [build / "supervisor" / "orreryd", build / "services" / "node" / "orrery-node",
              build / "services" / "p2p-agent" / "orrery-p2p-agent", build / "cli" / "orrery-cli",
              build / "tests" / "bench" / "constellation" / "trivial_reply",
              build / "tests" / "bench" / "constellation" / "spawn_probe",
              build / "tests" / "bench" / "constellation" / "idle_zmq_client"]
    missing = [str(p) for p in needed if not os.access(p, os.X_OK)]
    if missing:
        out(f"FAILURE: not built: {', '.join(missing)}")
        return 1
    out(f"constellation benchmark: build {build}; {os.cpu_count()} CPUs; kernel {os.uname().release}")
    limit_reason = check_limits(targets[-1])

    with tempfile.TemporaryDirectory(prefix="orrery-cbench-") as tmp:
        datadir = Path(tmp) / "datadir"
        datadir.mkdir()
        c = Constellation(build, datadir)
        try:
            c.start()
            out(f"orreryd {c.process.pid} on 127.0.0.1:{c.p2p_port}, datadir {datadir}")
            probe = SpawnProbe(str(needed[5]), str(needed[4]))
            try:
                series = [(steady, phase_handshakes(c, options.handshakes, probe, str(needed[4]), budget, steady))
                          for steady in (True, False)]
            finally:
                probe.close()
            for steady, (times, fork_times, spawn_times, errors) in series:
                report_handshakes(steady, options.handshakes, times, fork_times, spawn_times, errors)
            phase_memory(c, targets, budget, tmp, limit_reason)
        except (RuntimeError, TimeoutError, OSError) as e:
            fail(str(e))
        finally:
            c.teardown()
    out(f"{'FAILED: ' + '; '.join(failures) if failures else 'done'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
