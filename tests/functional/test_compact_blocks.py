"""BIP152 compact blocks across the agents (doc/compact_blocks.md): two constellations where the receiver
picks its high-bandwidth peer and rebuilds new blocks from its mempool (no getblocktxn), then asks for the
one transaction it lacks by getblocktxn; and an independent peer (python-bitcoinlib's framing, the BIP152
messages serialized here by hand) that checks the short ids with its own SipHash-2-4, asks for missing
transactions and fetches a compact block in low-bandwidth mode."""
import hashlib
import io
import struct

from conftest import require_binaries, wait_for
from p2p_agent_fixture import frame, messages
from test_relay import ADDRESS, coinbase, connect, node, spend, sync_with  # noqa: F401 (node is a fixture)

from bitcoin.core import COIN, CTransaction, lx
from bitcoin.net import CInv

MASK64 = (1 << 64) - 1
MSG_BLOCK, MSG_CMPCT_BLOCK = 2, 4


def siphash24(k0, k1, data):
    """SipHash-2-4 from the paper (Aumasson, Bernstein 2012), independent of Orrery's C++."""
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rotl(x, b):
        return ((x << b) | (x >> (64 - b))) & MASK64

    def sipround():
        v[0] = (v[0] + v[1]) & MASK64
        v[1] = rotl(v[1], 13) ^ v[0]
        v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK64
        v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & MASK64
        v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & MASK64
        v[1] = rotl(v[1], 17) ^ v[2]
        v[2] = rotl(v[2], 32)

    tail = len(data) % 8
    words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data) - tail, 8)]
    words.append(int.from_bytes(data[len(data) - tail:], "little") | (len(data) & 0xFF) << 56)
    for m in words:
        v[3] ^= m
        sipround()
        sipround()
        v[0] ^= m
    v[2] ^= 0xFF
    for _ in range(4):
        sipround()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def short_id(header, nonce, wtxid_bytes):
    """BIP152: SipHash-2-4 keyed by SHA256(header || nonce), of the wtxid, low 48 bits."""
    key = hashlib.sha256(header + struct.pack("<Q", nonce)).digest()
    k0, k1 = struct.unpack("<QQ", key[:16])
    return siphash24(k0, k1, wtxid_bytes) & 0xFFFFFFFFFFFF


def compact_size(stream):
    n = stream.read(1)[0]
    return n if n < 253 else int.from_bytes(stream.read({253: 2, 254: 4, 255: 8}[n]), "little")


def write_compact_size(n):
    return bytes([n]) if n < 253 else b"\xfd" + struct.pack("<H", n)


def parse_cmpctblock(payload):
    """(header, nonce, short ids, [(index, tx)]) as BIP152 lays them out; prefilled indexes made absolute."""
    stream = io.BytesIO(payload)
    header = stream.read(80)
    nonce = struct.unpack("<Q", stream.read(8))[0]
    ids = [int.from_bytes(stream.read(6), "little") for _ in range(compact_size(stream))]
    prefilled, index = [], -1
    for _ in range(compact_size(stream)):
        index += compact_size(stream) + 1
        prefilled.append((index, CTransaction.stream_deserialize(stream)))
    assert stream.read() == b"", "trailing bytes after the cmpctblock"
    return header, nonce, ids, prefilled


def receive_raw(peer, command):
    """Reads frames until one with `command`; returns its payload (python-bitcoinlib knows no BIP152)."""
    while True:
        peer._fill(24)
        length = struct.unpack("<I", peer.buffer[16:20])[0]
        peer._fill(24 + length)
        raw, peer.buffer = peer.buffer[:24 + length], peer.buffer[24 + length:]
        if raw[4:16].split(b"\0", 1)[0] == command:
            return raw[24:]


def sendcmpct(high_bandwidth):
    return frame(b"sendcmpct", bytes([1 if high_bandwidth else 0]) + struct.pack("<Q", 2))


def received(node, peer_index, command):
    return node.rpc("getpeerinfo")[peer_index]["bytesrecv_per_msg"].get(command, 0)


def sent(node, peer_index, command):
    return node.rpc("getpeerinfo")[peer_index]["bytessent_per_msg"].get(command, 0)


def test_siphash_of_the_test_matches_the_papers_vector():
    # Appendix A of the SipHash paper: key 00..0f, message 00..0e.
    k0, k1 = struct.unpack("<QQ", bytes(range(16)))
    assert siphash24(k0, k1, bytes(range(15))) == 0xA129CA6149BE45E5


def test_new_blocks_arrive_as_compact_blocks_rebuilt_from_the_mempool_or_completed_by_getblocktxn(node_factory):
    require_binaries("node", "p2p-agent")
    a = node_factory.orreryd("a", extra_args=("-debug=net", "-listen")).start()
    a.rpc("generatetoaddress", 110, ADDRESS)
    tip = a.rpc("getbestblockhash")
    print("B dials A; its minimum relay fee (20 sat/vB) keeps cheap transactions out of its mempool")
    b = node_factory.orreryd("b", extra_args=(f"-connect=127.0.0.1:{a.p2p_port}", "-minrelaytxfee=0.0002",
                                              "-debug=net")).start()
    wait_for(lambda: b.rpc("getbestblockhash") == tip, timeout=60, what="B synced")
    print("B took A's last block first, outside initial download: A becomes its high-bandwidth peer")
    wait_for(lambda: b.rpc("getpeerinfo")[0]["bip152_hb_to"], what="B asking A for high-bandwidth mode")
    wait_for(lambda: a.rpc("getpeerinfo")[0]["bip152_hb_from"], what="A told by B")
    assert not a.rpc("getpeerinfo")[0]["bip152_hb_to"] and not b.rpc("getpeerinfo")[0]["bip152_hb_from"]

    rich = spend(coinbase(a, 1), 0, 50 * COIN, 20_000)
    txid = a.rpc("sendrawtransaction", rich.serialize().hex())
    wait_for(lambda: txid in b.rpc("getrawmempool"), timeout=60, what="the transaction in B's mempool")
    print("A mines it: B gets the block as an unsolicited cmpctblock and rebuilds it from its mempool")
    block = a.rpc("generatetoaddress", 1, ADDRESS)[0]
    wait_for(lambda: b.rpc("getbestblockhash") == block, timeout=30, what="B at A's new block")
    b.wait_for_log(f"reconstructed block {block} from its compact block: 1 prefilled, 1 from the mempool")
    a.wait_for_log(f"sending header-and-ids {block} to peer=")
    assert txid not in b.rpc("getrawmempool")

    cheap = spend(coinbase(a, 2), 0, 50 * COIN, 200)
    cheap_txid = a.rpc("sendrawtransaction", cheap.serialize().hex())
    print("a cheap transaction stays in A's mempool alone; the next block lacks it at B")
    block = a.rpc("generatetoaddress", 1, ADDRESS)[0]
    wait_for(lambda: b.rpc("getbestblockhash") == block, timeout=30, what="B at the block with the cheap transaction")
    b.wait_for_log(f"getblocktxn of 1 transactions of block {block} to peer=")
    a.wait_for_log(f"blocktxn of 1 transactions of block {block} to peer=")
    b.wait_for_log(f"reconstructed block {block} with 1 transactions from blocktxn")
    assert cheap_txid in b.rpc("getblock", block)["tx"]
    print("the agents counted the messages as bitcoind does")
    wait_for(lambda: received(b, 0, "cmpctblock") > 0 and sent(b, 0, "getblocktxn") > 0
             and received(b, 0, "blocktxn") > 0, timeout=15, what="B's agent counting cmpctblock and blocktxn")
    wait_for(lambda: sent(a, 0, "cmpctblock") > 0 and received(a, 0, "sendcmpct") > 0, timeout=15,
             what="A's agent counting them")


def test_an_independent_peer_checks_the_short_ids_asks_for_transactions_and_fetches_a_compact_block(node):
    peer = connect(node)
    offer = receive_raw(peer, b"sendcmpct")
    assert offer == b"\x00" + struct.pack("<Q", 2), "version 2, low bandwidth first"
    print("we ask for high-bandwidth compact blocks (version 2)")
    peer.send_raw(sendcmpct(True))
    sync_with(peer, 11)
    wait_for(lambda: node.rpc("getpeerinfo")[0]["bip152_hb_from"], what="the node knowing we asked")

    tx = spend(coinbase(node, 1), 0, 50 * COIN, 10_000)
    node.rpc("sendrawtransaction", tx.serialize().hex())
    block_hash = node.rpc("generatetoaddress", 1, ADDRESS)[0]
    print("the new block comes unasked as a cmpctblock: coinbase prefilled, our transaction by short id")
    header, nonce, ids, prefilled = parse_cmpctblock(receive_raw(peer, b"cmpctblock"))
    assert hashlib.sha256(hashlib.sha256(header).digest()).digest() == lx(block_hash)
    block = node.rpc("getblock", block_hash, 2)
    assert [(i, t.GetTxid()) for i, t in prefilled] == [(0, lx(block["tx"][0]["txid"]))]
    assert ids == [short_id(header, nonce, lx(t["hash"])) for t in block["tx"][1:]]
    assert ids == [short_id(header, nonce, tx.GetHash())]  # python-bitcoinlib's GetHash is the wtxid

    print("we ask for the transaction at position 1 by getblocktxn and get it by blocktxn")
    peer.send_raw(frame(b"getblocktxn", lx(block_hash) + write_compact_size(1) + write_compact_size(1)))
    answer = io.BytesIO(receive_raw(peer, b"blocktxn"))
    assert answer.read(32) == lx(block_hash)
    assert compact_size(answer) == 1
    assert CTransaction.stream_deserialize(answer).serialize() == tx.serialize()

    print("back to low bandwidth: the next block is announced, and we fetch it with getdata MSG_CMPCT_BLOCK")
    peer.send_raw(sendcmpct(False))
    sync_with(peer, 12)
    wait_for(lambda: not node.rpc("getpeerinfo")[0]["bip152_hb_from"], what="the node knowing")
    block_hash = node.rpc("generatetoaddress", 1, ADDRESS)[0]
    while True:  # transaction invs may come first
        inv, _ = peer.receive_until(b"inv")
        blocks = [(i.type, i.hash) for i in inv.inv if i.type == MSG_BLOCK]
        if blocks:
            break
    assert blocks == [(MSG_BLOCK, lx(block_hash))]
    getdata = messages.msg_getdata()
    getdata.inv = [CInv()]
    getdata.inv[0].type, getdata.inv[0].hash = MSG_CMPCT_BLOCK, lx(block_hash)
    peer.send(getdata)
    header, nonce, ids, prefilled = parse_cmpctblock(receive_raw(peer, b"cmpctblock"))
    assert hashlib.sha256(hashlib.sha256(header).digest()).digest() == lx(block_hash)
    assert ids == [] and [i for i, _ in prefilled] == [0]
