"""Helpers for the p2p-agent functional tests: an orreryd that listens for
peers, and a peer written with python-bitcoinlib (an implementation of the
protocol independent of Orrery's)."""
import io
import signal
import subprocess
import socket
import struct
import time
import hashlib

import pytest

from conftest import Orreryd, wait_for

bitcoin = pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")
from bitcoin import messages  # noqa: E402

bitcoin.SelectParams("regtest")
REGTEST_MAGIC = bytes.fromhex("fabfb5da")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_listening_orreryd(orreryd_factory, name="node0"):
    """Starts orreryd with a P2P listener on a free port. Returns (daemon, None),
    or (None, why) when orreryd cannot accept peers yet."""
    daemon = orreryd_factory(name, ["-listen"])
    # The shared fixture gives orreryd a free port on loopback; add them if it did not.
    ports = [a.split("=", 1)[1] for a in daemon.args if a.startswith("-port=")]
    if ports:
        port = int(ports[-1])
    else:
        port = free_port()
        daemon.args += [f"-port={port}", "-bind=127.0.0.1"]
    daemon.process = subprocess.Popen(daemon.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            return None, f"orreryd cannot listen for peers yet: {daemon.process.stderr.read().strip()[:200]}"
        # Ready when a whole handshake works: orreryd listens before its node is up.
        try:
            probe = Peer(port, timeout=2)
            try:
                probe.handshake()
            finally:
                probe.close()
            daemon.p2p_port = port
            print(f"orreryd accepts peers on 127.0.0.1:{port}")
            return daemon, None
        except (OSError, ConnectionError, AssertionError):
            time.sleep(0.2)
    daemon.stop()
    return None, "orreryd started but nothing accepts connections on its -port"


class AgentTestHost:
    """orrery-p2p-agent-testhost: accepts TCP peers and spawns a real agent for
    each, registered with a stand-in PeerHost. Used while orreryd cannot."""

    def __init__(self, build, datadir, agent_args=()):
        self.binary = build / "services" / "p2p-agent" / "orrery-p2p-agent-testhost"
        self.agent = build / "services" / "p2p-agent" / "orrery-p2p-agent"
        self.datadir = datadir
        self.agent_args = agent_args
        self.process = None

    def available(self):
        return self.binary.exists() and self.agent.exists()

    def start(self):
        self.stderr_path = self.datadir / "testhost.log"
        self.stderr = open(self.stderr_path, "w")
        args = [str(self.binary), f"-datadir={self.datadir}", f"-agent={self.agent}", "-port=0"]
        args += [f"-agentarg={a}" for a in self.agent_args]
        print("starting orrery-p2p-agent-testhost")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("listening 127.0.0.1:"), line
        self.p2p_port = int(line.rsplit(":", 1)[1])
        return self

    def log(self):
        return self.stderr_path.read_text()

    def wait_for_log(self, text, timeout=10.0):
        wait_for(lambda: text in self.log(), timeout, f"'{text}' in the testhost log")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.process.communicate()
            self.stderr.close()


class Peer:
    """A plain TCP peer speaking the protocol with python-bitcoinlib."""

    def __init__(self, port, timeout=10):
        # python-bitcoinlib's network is process-wide and other test modules switch it:
        # every peer selects regtest (its message start bytes) for itself.
        bitcoin.SelectParams("regtest")
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send(self, msg):
        self.sock.sendall(msg.to_bytes())

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the agent closed the connection")
            self.buffer += chunk

    def receive(self):
        """The next message (python-bitcoinlib object, or the command bytes for
        commands python-bitcoinlib does not know, such as wtxidrelay)."""
        self._fill(24)
        length = struct.unpack("<I", self.buffer[16:20])[0]
        self._fill(24 + length)
        frame, self.buffer = self.buffer[:24 + length], self.buffer[24 + length:]
        command = frame[4:16].split(b"\0", 1)[0]
        if command not in messages.messagemap:
            return command
        return messages.MsgSerializable.stream_deserialize(io.BytesIO(frame))

    def receive_until(self, command):
        """Reads messages until one with `command`; returns it and the commands seen before it."""
        seen = []
        while True:
            msg = self.receive()
            name = msg if isinstance(msg, bytes) else msg.command
            if name == command:
                return msg, seen
            seen.append(name)

    def handshake(self, user_agent=b"/python-bitcoinlib-test/"):
        """Our version first (we are the outbound side), then the agent's answers."""
        version = messages.msg_version(70016)
        version.nServices = 1 | 8
        version.nTime = int(time.time())
        version.nNonce = 0x1234567890
        version.strSubVer = user_agent
        version.nStartingHeight = 0
        version.addrTo.ip = "127.0.0.1"
        self.send(version)
        theirs, before = self.receive_until(b"version")
        assert before == []
        _, between = self.receive_until(b"verack")
        assert between == [b"wtxidrelay", b"sendaddrv2"], between
        self.send(messages.msg_verack())
        _, after = self.receive_until(b"sendheaders")
        return theirs

    def is_closed(self, timeout=10):
        """True once the agent has closed the connection."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def frame(command, payload, magic=REGTEST_MAGIC):
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return magic + command.ljust(12, b"\0") + struct.pack("<I", len(payload)) + checksum + payload


__all__ = ["Peer", "AgentTestHost", "frame", "start_listening_orreryd", "wait_for", "messages", "Orreryd"]
