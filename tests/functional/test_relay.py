"""Transaction relay across the agents (doc/relay.md): a transaction sent on one constellation reaches two
others by wtxid inv and getdata; a raw-socket peer speaking the protocol with python-bitcoinlib sends an
orphan before its parent, sets a feefilter that keeps a low-fee transaction from being announced to it,
and is disconnected for a consensus-invalid transaction but not for one that policy refuses."""
import hashlib
import struct

import pytest

from conftest import require_binaries, wait_for
from p2p_agent_fixture import Peer, frame, messages

from bitcoin.core import (COIN, COutPoint, CMutableTransaction, CTransaction, CTxIn, CTxInWitness, CTxOut,
                          CTxWitness, Hash, lx, b2lx)
from bitcoin.core.script import CScript, CScriptWitness, OP_0
from bitcoin.net import CInv

# P2WSH of OP_TRUE: anyone can spend it with the witness script alone, so the test needs no keys.
ADDRESS = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85"
P2WSH_OP_TRUE = CScript([OP_0, hashlib.sha256(b"\x51").digest()])
MSG_TX, MSG_WTX, MSG_WITNESS_TX = 1, 5, 1 | 1 << 30
# Inbound peers hear of transactions after exponential delays of mean 5 s: a read may wait that long and more.
TRICKLE_WAIT = 60


def spend(txid, vout, value, fee, outputs=((None, None),), inputs=None):
    """A transaction spending P2WSH(OP_TRUE) outputs (`txid`:`vout` worth `value` satoshis, or `inputs`) to one
    P2WSH(OP_TRUE) output of value - fee."""
    ins = inputs or [(txid, vout)]
    tx = CMutableTransaction([CTxIn(COutPoint(lx(t), n), nSequence=0xfffffffd) for t, n in ins],
                             [CTxOut(value - fee, P2WSH_OP_TRUE)])
    tx.wit = CTxWitness([CTxInWitness(CScriptWitness([b"\x51"])) for _ in ins])
    return CTransaction.from_tx(tx)


def wtxid(tx):
    return b2lx(Hash(tx.serialize()))


def coinbase(node, height):
    """The txid of the coinbase of the block at `height` (50 BTC to ADDRESS on regtest)."""
    return node.rpc("getblock", node.rpc("getblockhash", height))["tx"][0]


@pytest.fixture
def node(node_factory):
    require_binaries("node", "p2p-agent")
    daemon = node_factory.orreryd("a", extra_args=("-debug=net",)).start()
    daemon.rpc("generatetoaddress", 110, ADDRESS)  # coinbases 1..10 are mature
    return daemon


def connect(node):
    """A raw peer that negotiates wtxid relay (BIP339) before its verack."""
    peer = Peer(node.p2p_port, timeout=TRICKLE_WAIT)
    peer.handshake_wtxid(b"/relay-test/")
    wait_for(lambda: any(p["subver"] == "/relay-test/" for p in node.rpc("getpeerinfo")), what="the raw peer")
    return peer


def sync_with(peer, nonce):
    """A ping answered proves the agent has read (and passed on) everything we sent before it."""
    peer.send(messages.msg_ping(nonce=nonce))
    while True:
        msg = peer.receive()
        if not isinstance(msg, bytes) and msg.command == b"pong" and msg.nonce == nonce:
            return


def send_tx(peer, tx):
    peer.send_raw(frame(b"tx", tx.serialize()))


def test_a_transaction_sent_on_one_constellation_reaches_two_others_by_wtxid_inv_and_getdata(node_factory):
    require_binaries("node", "p2p-agent")
    a = node_factory.orreryd("a", extra_args=("-debug=net",)).start()
    a.rpc("generatetoaddress", 110, ADDRESS)
    tip = a.rpc("getbestblockhash")
    print("B dials A and C dials B: a line of three constellations")
    b = node_factory.orreryd("b", extra_args=(f"-connect=127.0.0.1:{a.p2p_port}", "-listen", "-debug=net")).start()
    c = node_factory.orreryd("c", extra_args=("-listen=0", f"-connect=127.0.0.1:{b.p2p_port}", "-debug=net")).start()
    wait_for(lambda: c.rpc("getbestblockhash") == tip, timeout=60, what="C synced")
    print("out of initial block download, each side tells the other its feefilter: the minimum relay fee")
    wait_for(lambda: [p["minfeefilter"] for p in b.rpc("getpeerinfo")] == [0.00001, 0.00001], timeout=30,
             what="feefilters of 1 sat/vB from A and C")
    assert all(p["relaytxes"] for p in b.rpc("getpeerinfo"))

    tx = spend(coinbase(a, 1), 0, 50 * COIN, 10_000)
    txid = a.rpc("sendrawtransaction", tx.serialize().hex())
    print(f"A took {txid}; B and C get it through their agents")
    wait_for(lambda: txid in c.rpc("getrawmempool"), timeout=60, what="the transaction in C's mempool")
    assert txid in b.rpc("getrawmempool")
    assert c.rpc("getmempoolentry", txid)["wtxid"] == wtxid(tx)
    print("by wtxid: A announced it with MSG_WTX, B asked for it by wtxid; B fetching it ended its unbroadcast state")
    a.wait_for_log("inv of 1 transactions (by wtxid) to peer=", since_start=True)
    b.wait_for_log("getdata of 1 transactions (by wtxid) to peer=", since_start=True)
    b.wait_for_log("AcceptToMemoryPool: peer=", since_start=True)
    assert a.rpc("getmempoolinfo")["unbroadcastcount"] == 0
    wait_for(lambda: "tx" in a.rpc("getpeerinfo")[0]["bytessent_per_msg"], what="A's agent counting the tx it sent")


def test_an_orphan_sent_before_its_parent_is_kept_its_parent_fetched_and_both_accepted(node):
    peer = connect(node)
    parent = spend(coinbase(node, 1), 0, 50 * COIN, 10_000)
    child = spend(b2lx(parent.GetTxid()), 0, 50 * COIN - 10_000, 10_000)
    print("the child first: the node keeps it as an orphan and asks us for the parent, by txid")
    send_tx(peer, child)
    getdata, _ = peer.receive_until(b"getdata")
    assert [(i.type, b2lx(i.hash)) for i in getdata.inv] == [(MSG_WITNESS_TX, b2lx(parent.GetTxid()))]
    node.wait_for_log(f"stored orphan tx {b2lx(child.GetTxid())}")
    assert node.rpc("getrawmempool") == []
    print("the parent arrives: it is accepted, and the orphan after it")
    send_tx(peer, parent)
    wait_for(lambda: sorted(node.rpc("getrawmempool")) == sorted([b2lx(parent.GetTxid()), b2lx(child.GetTxid())]),
             what="parent and child in the mempool")
    assert not peer.is_closed(timeout=0.2)
    peer.close()
    print("gettxout counts the mempool: the coin the parent spends is gone, the child's output is there")
    cb = coinbase(node, 1)
    assert node.rpc("gettxout", cb, 0) is None
    assert node.rpc("gettxout", cb, 0, False)["confirmations"] == 110
    out = node.rpc("gettxout", b2lx(child.GetTxid()), 0)
    assert out["confirmations"] == 0 and out["coinbase"] is False
    assert out["value"] == (50 * COIN - 20_000) / COIN
    assert node.rpc("gettxout", b2lx(parent.GetTxid()), 0) is None  # spent by the child
    assert node.rpc("gettxout", b2lx(child.GetTxid()), 0, False) is None


def test_a_feefilter_keeps_a_low_fee_transaction_from_being_announced_to_that_peer(node):
    peer = connect(node)
    peer.send_raw(frame(b"feefilter", struct.pack("<q", 10_000)))  # 10 sat/vB
    sync_with(peer, 11)
    wait_for(lambda: [p["minfeefilter"] for p in node.rpc("getpeerinfo")] == [0.0001], what="the peer's feefilter")
    low = spend(coinbase(node, 2), 0, 50 * COIN, 200)      # about 2 sat/vB
    high = spend(coinbase(node, 3), 0, 50 * COIN, 20_000)  # about 200 sat/vB
    node.rpc("sendrawtransaction", low.serialize().hex())
    node.rpc("sendrawtransaction", high.serialize().hex())
    print("the low-fee transaction entered first; every inv up to the one of the high-fee transaction lacks it")
    announced = []
    while wtxid(high) not in announced:
        inv, _ = peer.receive_until(b"inv")
        for item in inv.inv:
            assert item.type == MSG_WTX
            announced.append(b2lx(item.hash))
    assert wtxid(low) not in announced
    peer.close()


@pytest.mark.parametrize("case", ["outputs worth more than the inputs", "the same input twice"])
def test_a_consensus_invalid_transaction_disconnects_the_peer_and_is_not_relayed(node, case):
    peer = connect(node)
    cb = coinbase(node, 4)
    if case == "outputs worth more than the inputs":
        tx = spend(cb, 0, 60 * COIN, 0)  # spends 50 BTC, pays 60: the node's mempool finds it (bad-txns-in-belowout)
        expected = "bad-txns-in-belowout"
    else:
        tx = spend(None, None, 50 * COIN, 1000, inputs=[(cb, 0), (cb, 0)])  # the agent's CheckTransaction finds it
        expected = "bad-txns-inputs-duplicate"
    send_tx(peer, tx)
    print(f"{case}: the peer is dropped ({expected})")
    assert peer.is_closed()
    node.wait_for_log(expected)
    assert node.rpc("getrawmempool") == []
    wait_for(lambda: node.rpc("getpeerinfo") == [], what="the peer gone")


def test_a_transaction_refused_by_policy_does_not_disconnect_the_peer_and_is_not_asked_for_again(node):
    peer = connect(node)
    tx = spend(coinbase(node, 5), 0, 50 * COIN, 0)  # no fee: min relay fee not met
    send_tx(peer, tx)
    sync_with(peer, 21)
    node.wait_for_log(f"{b2lx(tx.GetTxid())} (wtxid={wtxid(tx)}) from peer=")
    node.wait_for_log("min relay fee not met")
    print("still connected: policy is not punished")
    sync_with(peer, 22)
    print("announcing it again brings no getdata: it is in the recently rejected filter")
    inv = messages.msg_inv()
    item = CInv()
    item.type, item.hash = MSG_WTX, lx(wtxid(tx))
    inv.inv = [item]
    peer.send(inv)
    # A new announcement of an unknown transaction goes after it; its getdata comes first if the rejected one
    # was not asked for.
    fresh = spend(coinbase(node, 6), 0, 50 * COIN, 10_000)
    item2 = CInv()
    item2.type, item2.hash = MSG_WTX, lx(wtxid(fresh))
    inv2 = messages.msg_inv()
    inv2.inv = [item2]
    peer.send(inv2)
    getdata, _ = peer.receive_until(b"getdata")
    assert [b2lx(i.hash) for i in getdata.inv] == [wtxid(fresh)]
    peer.close()


def test_with_blocksonly_the_node_asks_for_no_transactions_refuses_them_but_still_announces_its_own(node_factory):
    require_binaries("node", "p2p-agent")
    node = node_factory.orreryd("a", extra_args=("-debug=net", "-blocksonly")).start()
    node.rpc("generatetoaddress", 110, ADDRESS)
    peer = Peer(node.p2p_port, timeout=TRICKLE_WAIT)
    version = messages.msg_version(70016)
    version.nServices = 1 | 8
    version.addrTo.ip = "127.0.0.1"
    version.strSubVer = b"/relay-test/"
    peer.send(version)
    peer.send_raw(frame(b"wtxidrelay", b""))
    theirs, _ = peer.receive_until(b"version")
    print("its version message says relay=false")
    assert theirs.fRelay is False or theirs.fRelay == 0
    peer.receive_until(b"verack")
    peer.send(messages.msg_verack())
    peer.receive_until(b"sendheaders")
    wait_for(lambda: len(node.rpc("getpeerinfo")) == 1, what="the raw peer")
    print("a transaction of its own (sendrawtransaction) is still announced to us")
    tx = spend(coinbase(node, 7), 0, 50 * COIN, 10_000)
    node.rpc("sendrawtransaction", tx.serialize().hex())
    inv, seen = peer.receive_until(b"inv")
    assert [(i.type, b2lx(i.hash)) for i in inv.inv] == [(MSG_WTX, wtxid(tx))]
    assert b"feefilter" not in seen  # no feefilter with -blocksonly
    print("a transaction from us breaks the protocol: disconnected")
    send_tx(peer, spend(coinbase(node, 8), 0, 50 * COIN, 10_000))
    assert peer.is_closed()
    node.wait_for_log("transaction sent in violation of protocol")
