"""Block sync with an implementation independent of Orrery: a peer written with python-bitcoinlib's
message classes over a plain socket fetches headers, blocks and inventories from a constellation, hands it
a block of its own by headers then block, and misbehaves in the ways Core punishes (doc/sync.md)."""
import time

import pytest

from conftest import require_binaries, wait_for
from p2p_agent_fixture import Peer, frame, messages, msg_headers_core
from block_builder import REGTEST_BITS, solve

from bitcoin.core import (COIN, COutPoint, CBlock, CMutableTransaction, CTransaction, CTxIn, CTxOut,
                          lx, b2lx)
from bitcoin.core.script import CScript, OP_TRUE
from bitcoin.net import CBlockLocator, CInv

ADDRESS = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85"
MSG_BLOCK = 2
MSG_WITNESS_BLOCK = 2 | 1 << 30


@pytest.fixture(autouse=True)
def core_headers(monkeypatch):
    monkeypatch.setitem(messages.messagemap, b"headers", msg_headers_core)


@pytest.fixture
def node(node_factory):
    require_binaries("node", "p2p-agent")
    daemon = node_factory.orreryd("a", extra_args=("-debug=net",)).start()
    daemon.rpc("generatetoaddress", 20, ADDRESS)
    return daemon


def connect(node):
    peer = Peer(node.p2p_port)
    peer.handshake()
    wait_for(lambda: len(node.rpc("getpeerinfo")) == 1, what="the peer in getpeerinfo")
    return peer


def make_block(node, height_in_coinbase=None, bad_merkle=False, duplicate_tx=False):
    """A block on the node's tip paying to OP_TRUE, with a BIP34 height (or a wrong one); with `bad_merkle`
    its header commits to other transactions; with `duplicate_tx` its last transaction comes twice, which
    leaves the merkle root unchanged (CVE-2012-2459)."""
    tip = node.rpc("getblockheader", node.rpc("getbestblockhash"))
    height = tip["height"] + 1
    coinbase = CMutableTransaction([CTxIn(COutPoint(), CScript([height_in_coinbase or height, b"sync"]))],
                                   [CTxOut(50 * COIN, CScript([OP_TRUE]))])
    vtx = [CTransaction.from_tx(coinbase)]
    if duplicate_tx:
        for n in range(2):  # three transactions: the merkle tree pads the odd one out by repeating it
            spend = CMutableTransaction([CTxIn(COutPoint(b"\x77" * 32, n), CScript([OP_TRUE]))],
                                        [CTxOut(COIN, CScript([OP_TRUE]))])
            vtx.append(CTransaction.from_tx(spend))
    merkle = CBlock(vtx=vtx).calc_merkle_root()
    if bad_merkle:
        merkle = b"\x01" * 32
    if duplicate_tx:
        vtx.append(vtx[-1])
    header = solve(0x20000000, lx(tip["hash"]), merkle, max(tip["mediantime"] + 1, int(time.time())), REGTEST_BITS)
    block = CBlock(header.nVersion, header.hashPrevBlock, header.hashMerkleRoot, header.nTime, header.nBits,
                   header.nNonce)
    # Past python-bitcoinlib's constructor, which refuses transactions that do not match the header.
    object.__setattr__(block, "vtx", tuple(vtx))
    return block


def send_headers(peer, headers):
    msg = msg_headers_core()
    msg.headers = headers
    peer.send(msg)


def test_an_independent_peer_fetches_headers_blocks_and_inventories(node):
    peer = connect(node)
    hashes = [node.rpc("getblockhash", h) for h in range(21)]
    print("the node's agent asks us for headers from its best header's parent (Core's locator)")
    getheaders, _ = peer.receive_until(b"getheaders")
    assert b2lx(getheaders.locator.vHave[0]) == hashes[19]
    assert b2lx(getheaders.locator.vHave[-1]) == hashes[0]

    print("our getheaders from genesis: 20 headers back, each the node's")
    request = messages.msg_getheaders()
    request.locator = CBlockLocator()
    request.locator.vHave = [lx(hashes[0])]
    peer.send(request)
    headers, _ = peer.receive_until(b"headers")
    assert [b2lx(h.GetHash()) for h in headers.headers] == hashes[1:]

    print("getdata for a witness block and a plain one: both come from the node's block files")
    getdata = messages.msg_getdata()
    for kind, height in ((MSG_WITNESS_BLOCK, 5), (MSG_BLOCK, 6)):
        inv = CInv()
        inv.type, inv.hash = kind, lx(hashes[height])
        getdata.inv.append(inv)
    peer.send(getdata)
    first, _ = peer.receive_until(b"block")
    second, _ = peer.receive_until(b"block")
    assert b2lx(first.block.GetHash()) == hashes[5]
    assert b2lx(second.block.GetHash()) == hashes[6]
    assert first.block.serialize().hex() == node.rpc("getblock", hashes[5], 0)

    print("getdata for a block the node does not have: notfound")
    missing = CInv()
    missing.type, missing.hash = MSG_WITNESS_BLOCK, b"\x11" * 32
    getdata = messages.msg_getdata()
    getdata.inv = [missing]
    peer.send(getdata)
    notfound, _ = peer.receive_until(b"notfound")
    assert notfound.inv[0].hash == b"\x11" * 32

    print("the legacy path: getblocks from genesis is answered by an inv of the 20 blocks")
    getblocks = messages.msg_getblocks()
    getblocks.locator = CBlockLocator()
    getblocks.locator.vHave = [lx(hashes[0])]
    peer.send(getblocks)
    inv, _ = peer.receive_until(b"inv")
    assert [b2lx(i.hash) for i in inv.inv] == hashes[1:]
    peer.close()


def test_getblocks_past_500_blocks_continues_with_an_inv_of_the_tip(node):
    tip = node.rpc("generatetoaddress", 500, ADDRESS)[-1]  # 520 blocks in all
    peer = connect(node)
    getblocks = messages.msg_getblocks()
    getblocks.locator = CBlockLocator()
    getblocks.locator.vHave = [lx(node.rpc("getblockhash", 0))]
    peer.send(getblocks)
    inv, _ = peer.receive_until(b"inv")
    assert len(inv.inv) == 500
    assert b2lx(inv.inv[-1].hash) == node.rpc("getblockhash", 500)
    print("fetching the last of the 500 brings an inv of the tip: Core's hashContinue")
    getdata = messages.msg_getdata()
    item = CInv()
    item.type, item.hash = MSG_BLOCK, inv.inv[-1].hash
    getdata.inv = [item]
    peer.send(getdata)
    block, _ = peer.receive_until(b"block")
    assert block.block.GetHash() == inv.inv[-1].hash
    announced, _ = peer.receive_until(b"inv")
    assert [b2lx(i.hash) for i in announced.inv] == [tip]
    peer.close()


def test_a_block_from_an_independent_peer_is_fetched_by_headers_then_getdata_and_connected(node):
    peer = connect(node)
    block = make_block(node)
    print(f"we announce block {b2lx(block.GetHash())} by its header")
    send_headers(peer, [block.get_header()])
    getdata, _ = peer.receive_until(b"getdata")
    assert [(i.type, i.hash) for i in getdata.inv] == [(MSG_WITNESS_BLOCK, block.GetHash())]
    reply = messages.msg_block()
    reply.block = block
    peer.send(reply)
    wait_for(lambda: node.rpc("getbestblockhash") == b2lx(block.GetHash()), what="our block is the tip")
    assert node.rpc("getpeerinfo")[0]["synced_headers"] == 21
    print("the node announces the next tip to us by headers, as we asked with sendheaders")
    peer.send_raw(frame(b"sendheaders", b""))
    peer.send(messages.msg_ping(nonce=77))  # the pong proves the agent has read our sendheaders
    wait_for(lambda: peer.receive_until(b"pong")[0].nonce == 77, what="our pong")
    tip = node.rpc("generatetoaddress", 1, ADDRESS)[0]
    announced, _ = peer.receive_until(b"headers")
    assert [b2lx(h.GetHash()) for h in announced.headers] == [tip]
    peer.close()


def test_headers_that_do_not_connect_are_answered_with_a_getheaders(node):
    peer = connect(node)
    peer.receive_until(b"getheaders")  # the one every new peer gets
    orphan = solve(0x20000000, b"\x22" * 32, b"\x33" * 32, int(time.time()), REGTEST_BITS)
    send_headers(peer, [orphan])
    print("Core 28 fills the gap with a getheaders and does not punish")
    getheaders, _ = peer.receive_until(b"getheaders")
    assert b2lx(getheaders.locator.vHave[0]) == node.rpc("getbestblockhash")
    assert not peer.is_closed(timeout=0.5)


@pytest.mark.parametrize("case", ["non-continuous headers", "block with a wrong merkle root",
                                  "block with a duplicated transaction", "block with a wrong BIP34 height"])
def test_a_peer_sending_invalid_headers_or_blocks_is_disconnected(node, case):
    peer = connect(node)
    if case == "non-continuous headers":
        first = make_block(node).get_header()
        stray = solve(0x20000000, b"\x44" * 32, b"\x55" * 32, int(time.time()), REGTEST_BITS)
        send_headers(peer, [first, stray])
        expected = "non-continuous headers sequence"
    elif case == "block with a wrong merkle root":
        msg = messages.msg_block()
        msg.block = make_block(node, bad_merkle=True)
        peer.send(msg)
        expected = "bad-txnmrklroot"
    elif case == "block with a duplicated transaction":
        msg = messages.msg_block()
        msg.block = make_block(node, duplicate_tx=True)
        peer.send(msg)
        expected = "bad-txns-duplicate"
    else:
        msg = messages.msg_block()
        msg.block = make_block(node, height_in_coinbase=1000)
        peer.send(msg)
        expected = "bad-cb-height"
    print(f"{case}: the peer is dropped ({expected}) and the node carries on")
    assert peer.is_closed()
    node.wait_for_log(expected)
    assert node.rpc("getblockcount") == 20
    wait_for(lambda: node.rpc("getpeerinfo") == [], what="the peer gone from getpeerinfo")
