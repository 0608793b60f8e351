"""bitcoind's ZMQ notifications as a subscriber written for bitcoind sees them
(python3-zmq SUB sockets): orreryd with -zmqpub* options, the gui-bridge
publishing what it hears over its Chain subscription to the node. Mined blocks
and a reorganization through invalidateblock/reconsiderblock arrive in
bitcoind's order, three frames each, with gap-free per-topic sequence numbers."""
import struct

import pytest

from conftest import free_port, require_binaries

zmq = pytest.importorskip("zmq")
bitcoin = pytest.importorskip("bitcoin")
from bitcoin.core import CBlock, CTransaction, b2lx  # noqa: E402


class Subscriber:
    """One SUB socket on `address`, subscribed to `topics`; checks each topic's sequence numbers."""

    def __init__(self, context, address, topics):
        self.socket = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.RCVTIMEO, 10000)
        for topic in topics:
            self.socket.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.socket.connect(address)
        self.next_sequence = {}

    def receive(self, timeout_ms=10000):
        """(topic, body) of the next message; asserts three frames and the topic's next sequence number."""
        self.socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
        frames = self.socket.recv_multipart()
        assert len(frames) == 3, frames
        topic, body, sequence = frames[0].decode(), frames[1], frames[2]
        assert len(sequence) == 4
        number, = struct.unpack("<I", sequence)
        if topic in self.next_sequence:
            assert number == self.next_sequence[topic], (topic, number, self.next_sequence[topic])
        self.next_sequence[topic] = number + 1
        return topic, body

    def expect(self, *expected):
        """Receives len(expected) messages and checks each (topic, body) pair; a body of None is not checked.
        Returns the bodies."""
        bodies = []
        for topic, body in expected:
            got_topic, got_body = self.receive()
            assert got_topic == topic, (got_topic, topic)
            if body is not None:
                assert got_body == body, (topic, got_body.hex(), body.hex())
            bodies.append(got_body)
        return bodies


def block_txs(node, block_hash):
    """(txid bytes in display order, raw tx bytes) of each transaction of a block."""
    block = node.rpc("getblock", block_hash, 2)
    return [(bytes.fromhex(tx["txid"]), bytes.fromhex(tx["hex"])) for tx in block["tx"]]


def expect_connected(subscriber, node, block_hash, tip=True):
    """What a connected block publishes: each tx's hashtx and rawtx, and (as the new tip) hashblock, rawblock."""
    for txid, raw in block_txs(node, block_hash):
        subscriber.expect(("hashtx", txid), ("rawtx", raw))
    if tip:
        _, raw_block = subscriber.expect(("hashblock", bytes.fromhex(block_hash)), ("rawblock", None))
        assert b2lx(CBlock.deserialize(raw_block).GetHash()) == block_hash
        assert raw_block.hex() == node.rpc("getblock", block_hash, 0)


@pytest.fixture
def zmq_node(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    blocks_address = f"tcp://127.0.0.1:{free_port()}"
    sequence_address = f"tcp://127.0.0.1:{free_port()}"
    node = node_factory.orreryd(extra_args=[
        f"-zmqpubhashblock={blocks_address}", f"-zmqpubhashtx={blocks_address}", f"-zmqpubrawblock={blocks_address}",
        f"-zmqpubrawtx={blocks_address}", f"-zmqpubsequence={sequence_address}", "-zmqpubrawtxhwm=5000"]).start()
    context = zmq.Context()
    blocks = Subscriber(context, blocks_address, ["hashblock", "hashtx", "rawblock", "rawtx"])
    sequence = Subscriber(context, sequence_address, ["sequence"])
    address = node.rpc("getnewaddress")
    # A SUB socket joins some time after connect: mine until both subscribers hear a block, then start clean.
    for _ in range(50):
        node.rpc("generatetoaddress", 1, address)
        try:
            while blocks.receive(timeout_ms=200)[0] != "rawblock":
                pass
            while sequence.receive(timeout_ms=200)[0] != "sequence":
                pass
            break
        except zmq.Again:
            continue
    else:
        pytest.fail("the subscribers never heard a block")
    # Drain what the warm-up blocks left, so each test starts at a block boundary.
    while True:
        try:
            blocks.receive(timeout_ms=300)
        except zmq.Again:
            break
    while True:
        try:
            sequence.receive(timeout_ms=300)
        except zmq.Again:
            break
    yield node, address, blocks, sequence
    blocks.socket.close(0)
    sequence.socket.close(0)
    context.term()


def test_getzmqnotifications_lists_each_topic_as_bitcoind(zmq_node):
    node, _, _, _ = zmq_node
    notifications = node.rpc("getzmqnotifications")
    blocks = notifications[0]["address"]
    assert [n["type"] for n in notifications] == ["pubhashblock", "pubhashtx", "pubrawblock", "pubrawtx",
                                                  "pubsequence"]
    assert all(n["address"] == blocks for n in notifications[:4])
    assert notifications[4]["address"] != blocks
    assert [n["hwm"] for n in notifications] == [1000, 1000, 1000, 5000, 1000]


def test_each_mined_block_publishes_its_transactions_then_itself(zmq_node):
    node, address, blocks, sequence = zmq_node
    hashes = node.rpc("generatetoaddress", 3, address)
    for block_hash in hashes:
        expect_connected(blocks, node, block_hash)
        sequence.expect(("sequence", bytes.fromhex(block_hash) + b"C"))
    coinbase = CTransaction.deserialize(block_txs(node, hashes[0])[0][1])
    assert coinbase.is_coinbase()


def test_a_reorg_publishes_every_block_and_transaction_in_order(zmq_node):
    node, address, blocks, sequence = zmq_node
    a1, a2 = node.rpc("generatetoaddress", 2, address)
    for block_hash in (a1, a2):
        expect_connected(blocks, node, block_hash)
        sequence.expect(("sequence", bytes.fromhex(block_hash) + b"C"))

    print("invalidateblock a1: a2 then a1 leave, each with its transactions; no new tip is announced")
    node.rpc("invalidateblock", a1)
    for block_hash in (a2, a1):
        for txid, raw in block_txs(node, block_hash):
            blocks.expect(("hashtx", txid), ("rawtx", raw))
        sequence.expect(("sequence", bytes.fromhex(block_hash) + b"D"))

    print("one block on the other branch (to another address: the same block as a1 would be invalid)")
    b1, = node.rpc("generatetoaddress", 1, node.rpc("getnewaddress"))
    expect_connected(blocks, node, b1)
    sequence.expect(("sequence", bytes.fromhex(b1) + b"C"))

    print("reconsiderblock a1: the longer branch wins back in one step; only its tip is announced")
    node.rpc("reconsiderblock", a1)
    assert node.rpc("getbestblockhash") == a2
    for txid, raw in block_txs(node, b1):
        blocks.expect(("hashtx", txid), ("rawtx", raw))
    expect_connected(blocks, node, a1, tip=False)
    expect_connected(blocks, node, a2)
    sequence.expect(("sequence", bytes.fromhex(b1) + b"D"), ("sequence", bytes.fromhex(a1) + b"C"),
                    ("sequence", bytes.fromhex(a2) + b"C"))
    print("the next block's messages come next: nothing else was published between")
    c1, = node.rpc("generatetoaddress", 1, address)
    expect_connected(blocks, node, c1)
    sequence.expect(("sequence", bytes.fromhex(c1) + b"C"))
