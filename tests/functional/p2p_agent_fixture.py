"""A peer written with python-bitcoinlib (an implementation of the protocol
independent of Orrery's), for the tests that connect to orreryd's P2P port,
and a listening one for the tests where the node dials out."""
import hashlib
import io
import socket
import struct
import threading
import time

import pytest

bitcoin = pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")
from bitcoin import messages  # noqa: E402
from bitcoin.core import CBlock  # noqa: E402
from bitcoin.core.serialize import VectorSerializer  # noqa: E402

bitcoin.SelectParams("regtest")
REGTEST_MAGIC = bytes.fromhex("fabfb5da")


class Peer:
    """A plain TCP peer speaking the protocol with python-bitcoinlib."""

    def __init__(self, port, timeout=10, host="127.0.0.1"):
        # python-bitcoinlib's network is process-wide and other test modules switch it:
        # every peer selects regtest (its message start bytes) for itself.
        bitcoin.SelectParams("regtest")
        self.sock = socket.create_connection((host, port), timeout=timeout)
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

    def receive_frame(self):
        """The next message as (command, whole frame bytes), undecoded."""
        self._fill(24)
        length = struct.unpack("<I", self.buffer[16:20])[0]
        self._fill(24 + length)
        frame, self.buffer = self.buffer[:24 + length], self.buffer[24 + length:]
        return frame[4:16].split(b"\0", 1)[0], frame

    def receive(self):
        """The next message (python-bitcoinlib object, or the command bytes for
        commands python-bitcoinlib does not know, such as wtxidrelay)."""
        command, frame = self.receive_frame()
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

    def handshake_wtxid(self, user_agent):
        """Our version, then wtxidrelay (BIP339) before our verack; returns once the agent's handshake is done."""
        version = messages.msg_version(70016)
        version.nServices = 1 | 8
        version.nStartingHeight = 0
        version.addrTo.ip = "127.0.0.1"
        version.strSubVer = user_agent
        self.send(version)
        self.send_raw(frame(b"wtxidrelay", b""))
        self.receive_until(b"verack")
        self.send(messages.msg_verack())
        self.receive_until(b"sendheaders")

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


class msg_headers_core(messages.msg_headers):
    """headers as Core puts them on the wire: each header followed by a transaction count (0).
    python-bitcoinlib's own msg_headers leaves the count out."""

    @classmethod
    def msg_deser(cls, f, protover=messages.PROTO_VERSION):
        c = cls()
        c.headers = [b.get_header() for b in VectorSerializer.stream_deserialize(CBlock, f)]
        return c

    def msg_ser(self, f):
        VectorSerializer.stream_serialize(CBlock, [CBlock(h.nVersion, h.hashPrevBlock, h.hashMerkleRoot, h.nTime,
                                                          h.nBits, h.nNonce) for h in self.headers], f)


class Listener:
    """A listening peer for a node to dial: one at a time, it answers the node's version with its own and a
    verack (after `release` is set: a test may hold a handshake to look at the connection first), answers
    pings, and records the node's version and every command it sends (`commands`, `invs` as (type, hash))."""

    def __init__(self, hold=False):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.port = self.server.getsockname()[1]
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.version = None
        self.commands = []
        self.invs = []
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.server.accept()
        except OSError:
            return  # closed before anyone came
        self.connected.set()
        peer = Peer.__new__(Peer)
        peer.sock, peer.buffer = conn, b""
        bitcoin.SelectParams("regtest")
        try:
            self.version, _ = peer.receive_until(b"version")
            self.release.wait(60)
            version = messages.msg_version(70016)
            version.nServices = 1 | 8
            version.nTime = int(time.time())
            version.nStartingHeight = 0
            version.strSubVer = b"/listener/"
            peer.send(version)
            peer.send(messages.msg_verack())
            conn.settimeout(None)
            while True:
                command, data = peer.receive_frame()
                with self.lock:
                    self.commands.append(command)
                if command == b"ping":
                    ping = messages.MsgSerializable.stream_deserialize(io.BytesIO(data))
                    peer.send(messages.msg_pong(nonce=ping.nonce))
                elif command == b"inv":
                    inv = messages.MsgSerializable.stream_deserialize(io.BytesIO(data))
                    with self.lock:
                        self.invs += [(i.type, i.hash) for i in inv.inv]
        except (OSError, ConnectionError):
            pass
        finally:
            conn.close()
            self.closed.set()

    def received(self, command):
        with self.lock:
            return command in self.commands

    def close(self):
        self.server.close()
        self.release.set()

def frame(command, payload, magic=REGTEST_MAGIC):
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return magic + command.ljust(12, b"\0") + struct.pack("<I", len(payload)) + checksum + payload


__all__ = ["Listener", "Peer", "frame", "messages", "msg_headers_core"]
