"""orrery-p2p-agent against a real constellation: a peer written with
python-bitcoinlib connects to orreryd's P2P port, completes the handshake and
a ping with the agent orreryd spawns for it, and each way of misbehaving gets
that peer dropped while the node and the other peers carry on.

With ORRERY_P2P_AGENT_TESTHOST=1 the same scenarios run against
tests/tools/orrery-p2p-agent-testhost, which accepts the connections, spawns
the real agents and plays the node's PeerHost."""
import os
import re
import struct

import pytest

from conftest import TestHost, wait_for
from p2p_agent_fixture import Peer, frame, messages


@pytest.fixture
def listening(node_factory):
    if not os.environ.get("ORRERY_P2P_AGENT_TESTHOST"):
        # The real constellation is what these tests are about: never fall back silently.
        return node_factory.orreryd("node0", ["-listen"]).start()
    host = node_factory.testhost()
    if not host.available():
        pytest.skip("ORRERY_P2P_AGENT_TESTHOST is set and orrery-p2p-agent-testhost is not built")
    print("ORRERY_P2P_AGENT_TESTHOST is set: using orrery-p2p-agent-testhost")
    return host.start()


def test_a_bitcoinlib_peer_completes_the_handshake_and_a_ping(listening):
    peer = Peer(listening.p2p_port)
    print("handshake with the agent")
    theirs = peer.handshake()
    assert theirs.nVersion == 70016
    assert theirs.strSubVer.startswith(b"/Orrery:")
    print("the agent pings at once to measure latency; we answer")
    ping, _ = peer.receive_until(b"ping")
    peer.send(messages.msg_pong(nonce=ping.nonce))
    print("our ping is answered with its nonce")
    peer.send(messages.msg_ping(nonce=424242))
    pong, _ = peer.receive_until(b"pong")
    assert pong.nonce == 424242
    if isinstance(listening, TestHost):
        listening.wait_for_log("handshakeDone peer=1 version=70016 subver=/python-bitcoinlib-test/")
        listening.wait_for_log("reportStats peer=1 ping=")
    peer.close()


# What the peer sends, and what the agent's log line says about it.
MISBEHAVIOURS = {
    "garbage": (lambda: b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "wrong network magic 47455420"),
    "wrong magic": (lambda: frame(b"verack", b"", magic=bytes.fromhex("f9beb4d9")), "wrong network magic f9beb4d9"),
    "bad checksum": (lambda: frame(b"ping", struct.pack("<Q", 1))[:20] + b"\0\0\0\0" + struct.pack("<Q", 1),
                     "bad checksum for message 'ping'"),
    "oversized length": (lambda: bytes.fromhex("fabfb5da") + b"block".ljust(12, b"\0") +
                         struct.pack("<I", 4_000_001) + b"\0" * 4, "announces 4000001 payload bytes"),
    "message before version": (lambda: messages.msg_ping(nonce=1).to_bytes(),
                               "'ping' message before the version message"),
}


@pytest.mark.parametrize("case", sorted(MISBEHAVIOURS))
def test_a_misbehaving_peer_is_dropped_and_others_carry_on(listening, case):
    send, reason = MISBEHAVIOURS[case]
    print("a well-behaved peer connects first")
    good = Peer(listening.p2p_port)
    good.handshake()
    print(f"a second peer sends {case}")
    bad = Peer(listening.p2p_port)
    bad.send_raw(send())
    assert bad.is_closed(timeout=10), f"the agent kept a peer that sent {case}"
    bad.close()
    print("the agent logged why, and exited by itself rather than by a signal")
    listening.wait_for_log(reason)
    assert "killed by signal" not in listening.log()
    print("the first peer still answers, and a new one still gets in")
    good.send(messages.msg_ping(nonce=99))
    assert good.receive_until(b"pong")[0].nonce == 99
    fresh = Peer(listening.p2p_port)
    fresh.handshake()
    fresh.close()
    good.close()


def test_a_second_version_drops_the_peer(listening):
    peer = Peer(listening.p2p_port)
    peer.handshake()
    version = messages.msg_version(70016)
    peer.send(version)
    assert peer.is_closed(timeout=10)
    listening.wait_for_log("second version message")
    peer.close()


def test_when_the_node_goes_away_the_agent_drops_its_peer_and_exits(listening):
    if not isinstance(listening, TestHost):
        pytest.skip("needs the stand-in node, which the test may kill")
    peer = Peer(listening.p2p_port)
    peer.handshake()
    listening.wait_for_log("handshakeDone peer=1")
    pid = int(re.search(r"registerAgent peer=1 pid=(\d+)", listening.log()).group(1))
    print("the node dies without a word")
    listening.process.kill()
    listening.process.wait()
    print("the agent notices at its next report, closes the peer and exits")
    assert peer.is_closed(timeout=15)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "the agent to exit")
    assert "cannot report to the node" in listening.log()
    peer.close()
