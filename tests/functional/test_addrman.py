"""The address book and automatic outbound connections on loopback (doc/addrman.md): -seednode fetches
addresses then lets go, a node fills outbound slots from its book, peers.dat survives a restart and a
SIGKILL, a damaged peers.dat is set aside, a raw peer is answered getaddr once and dropped for an addr
message of 1,001 entries; with eight full-relay peers the node opens two block-relay-only connections (no
transactions, no addresses) and then feelers, each to a listening python-bitcoinlib peer."""
import struct
import time
from collections import Counter

from conftest import free_port, require_binaries, wait_for
from p2p_agent_fixture import Listener, Peer, frame
from block_builder import COIN, COutPoint, p2sh_op_true_address, spend

from bitcoin.core import lx

MSG_TX, MSG_BLOCK = 1, 2


def book_total(node):
    return node.rpc("getaddrmaninfo")["all_networks"]["total"]


def addr_payload(entries):
    """An addr (version 1) payload of (ip, port) pairs, IPv4, seen just now, NODE_NETWORK | NODE_WITNESS."""
    out = bytes([len(entries)]) if len(entries) < 253 else b"\xfd" + struct.pack("<H", len(entries))
    for ip, port in entries:
        out += struct.pack("<IQ", int(time.time()), 9) + bytes(10) + b"\xff\xff"
        out += bytes(int(x) for x in ip.split(".")) + struct.pack(">H", port)
    return out


def test_a_seed_node_is_asked_for_addresses_and_let_go(node_factory):
    require_binaries("node", "p2p-agent")
    seed = node_factory.orreryd("seed", extra_args=("-debug=net",)).start()
    print("the seed knows 20 addresses (nothing listens there); getaddr gives 23 % of them")
    for _ in range(20):
        assert seed.rpc("addpeeraddress", "127.0.0.1", free_port()) == {"success": True}
    node = node_factory.orreryd("n", extra_args=(f"-seednode=127.0.0.1:{seed.p2p_port}", "-debug=net")).start()
    node.wait_for_log("New addr-fetch peer connected", since_start=True)
    node.wait_for_log("addrfetch connection completed", since_start=True)
    wait_for(lambda: len(node.rpc("getnodeaddresses", 0)) == 20 * 23 // 100, what="the seed's addresses")
    assert all(a["network"] == "ipv4" and a["address"] == "127.0.0.1" for a in node.rpc("getnodeaddresses", 0))
    wait_for(lambda: not any(p["connection_type"] == "addr-fetch" for p in node.rpc("getpeerinfo")),
             what="the addr-fetch peer gone")


def test_a_node_fills_its_outbound_slots_from_its_address_book(node_factory):
    require_binaries("node", "p2p-agent")
    peers = [node_factory.orreryd(f"p{i}").start() for i in range(3)]
    node = node_factory.orreryd("n", extra_args=("-debug=net",)).start()
    print("three listening constellations in the book, each port its own network group on regtest")
    for peer in peers:
        assert node.rpc("addpeeraddress", "127.0.0.1", peer.p2p_port)["success"]
    wait_for(lambda: len(node.rpc("getpeerinfo")) == 3, timeout=30, what="three outbound peers")
    infos = node.rpc("getpeerinfo")
    assert {p["connection_type"] for p in infos} == {"outbound-full-relay"}
    assert {p["addr"] for p in infos} == {f"127.0.0.1:{p.p2p_port}" for p in peers}
    print("the connections worked: the addresses moved to the tried table")
    wait_for(lambda: node.rpc("getaddrmaninfo")["ipv4"]["tried"] == 3, what="three tried addresses")


def test_peers_dat_survives_a_restart_and_a_sigkill_and_a_damaged_one_is_set_aside(node_factory):
    require_binaries("node", "p2p-agent")
    node = node_factory.orreryd("n", extra_args=("-maxconnections=0",)).start()
    ports = [free_port() for _ in range(3)]
    for port in ports:
        assert node.rpc("addpeeraddress", "127.0.0.1", port)["success"]
    assert node.rpc("addpeeraddress", "127.0.0.1", ports[0], True) == {"success": False,
                                                                        "error": "failed-adding-to-new"}
    assert node.rpc("addpeeraddress", "127.0.0.2", free_port(), True) == {"success": True}
    assert node.rpc("getaddrmaninfo")["ipv4"] == {"new": 3, "tried": 1, "total": 4}
    print("a clean restart reads them back")
    node.stop()
    node.start()
    assert node.rpc("getaddrmaninfo")["ipv4"] == {"new": 3, "tried": 1, "total": 4}
    print("an address added just before the node is SIGKILLed is there when orreryd restarts it")
    assert node.rpc("addpeeraddress", "127.0.0.1", free_port())["success"]
    old_pid = node.kill("node")
    wait_for(lambda: [e for e in node.entries("node") if e["pid"] not in (0, old_pid)], timeout=30,
             what="the node restarted")
    wait_for(lambda: _answers(node), timeout=30, what="the restarted node's RPC")
    assert book_total(node) == 5
    print("a damaged peers.dat is moved aside and the node starts with an empty book")
    node.stop()
    peers_dat = node.datadir / "regtest" / "peers.dat"
    data = bytearray(peers_dat.read_bytes())
    data[20] ^= 0xff
    peers_dat.write_bytes(bytes(data))
    node.start()
    node.wait_for_log("Error: invalid or corrupt peers.dat (checksum mismatch)", since_start=True)
    assert (node.datadir / "regtest" / "peers.dat.bad").exists()
    assert book_total(node) == 0


def _answers(node):
    try:
        node.rpc("getaddrmaninfo")
        return True
    except Exception:
        return False


def test_a_raw_peer_gets_one_getaddr_answer_and_is_dropped_for_1001_addresses(node_factory):
    require_binaries("node", "p2p-agent")
    node = node_factory.orreryd("n", extra_args=("-debug=net",)).start()
    for _ in range(10):
        assert node.rpc("addpeeraddress", "127.0.0.1", free_port())["success"]
    peer = Peer(node.p2p_port)
    peer.handshake()
    wait_for(lambda: len(node.rpc("getpeerinfo")) == 1, what="the peer in getpeerinfo")
    print("getaddr: 23 % of ten addresses, as addr (the peer did not send sendaddrv2)")
    peer.send_raw(frame(b"getaddr", b""))
    answer, _ = peer.receive_until(b"addr")
    assert len(answer.addrs) == 2
    print("a second getaddr on the connection is ignored: the ping behind it is answered, no addr before")
    peer.send_raw(frame(b"getaddr", b""))
    peer.send_raw(frame(b"ping", struct.pack("<Q", 7)))
    _, before = peer.receive_until(b"pong")
    assert b"addr" not in before
    print("one address the peer announces lands in the book (the rate limit lets one through)")
    peer.send_raw(frame(b"addr", addr_payload([("127.0.0.1", 4444)])))
    wait_for(lambda: book_total(node) == 11, what="the announced address in the book")
    assert node.rpc("getpeerinfo")[0]["addr_processed"] == 1
    print("an addr message of 1,001 entries is misbehaviour: the agent drops the peer")
    peer.send_raw(frame(b"addr", addr_payload([("1.2.3.4", 8333)] * 1001)))
    assert peer.is_closed()
    node.wait_for_log("addr message size = 1001; disconnecting but not discouraging local peer")
    wait_for(lambda: node.rpc("getpeerinfo") == [], what="the peer gone")


def fill_outbound_slots(node_factory):
    """An orreryd whose book holds ten listening peers: it dials eight full-relay and two block-relay-only
    connections. Returns the node, the listeners and getpeerinfo by port."""
    require_binaries("node", "p2p-agent")
    listeners = [Listener() for _ in range(10)]
    node = node_factory.orreryd("n", extra_args=("-debug=net",)).start()
    for listener in listeners:
        assert node.rpc("addpeeraddress", "127.0.0.1", listener.port)["success"]
    wait_for(lambda: Counter(p["connection_type"] for p in node.rpc("getpeerinfo")) ==
             {"outbound-full-relay": 8, "block-relay-only": 2}, timeout=60, what="8 full-relay and 2 block-relay-only")
    by_port = {int(p["addr"].rsplit(":", 1)[1]): p for p in node.rpc("getpeerinfo")}
    return node, listeners, by_port


def test_two_block_relay_only_peers_hear_of_blocks_but_not_of_transactions_or_addresses(node_factory):
    node, listeners, by_port = fill_outbound_slots(node_factory)
    block_only = [li for li in listeners if by_port[li.port]["connection_type"] == "block-relay-only"]
    full = [li for li in listeners if li not in block_only]
    print("the node's version asks the block-relay-only peers not to send transactions (relay=0)")
    wait_for(lambda: all(li.version is not None for li in listeners), what="every version")
    assert [li.version.fRelay for li in block_only] == [False, False]
    assert all(li.version.fRelay for li in full)
    assert [(by_port[li.port]["relaytxes"], by_port[li.port]["addr_relay_enabled"]) for li in block_only] == \
        [(False, False)] * 2
    print("the full-relay peers are asked for addresses")
    wait_for(lambda: all(li.received(b"getaddr") for li in full), what="getaddr to every full-relay peer")

    print("a transaction: every full-relay peer hears of it")
    node.rpc("generatetoaddress", 101, p2sh_op_true_address())
    coinbase = node.rpc("getblock", node.rpc("getblockhash", 1))["tx"][0]
    txid = node.rpc("sendrawtransaction", spend(COutPoint(lx(coinbase), 0), 50 * COIN - 10_000).serialize().hex())
    wait_for(lambda: all((MSG_TX, lx(txid)) in li.invs for li in full), timeout=60, what="the tx inv at every full")
    print("a block with it: the block-relay-only peers hear of the block, and by then the transaction is gone "
          "from the mempool, never announced to them")
    block = node.rpc("generatetoaddress", 1, p2sh_op_true_address())[0]
    assert txid in node.rpc("getblock", block)["tx"]
    wait_for(lambda: all((MSG_BLOCK, lx(block)) in li.invs for li in block_only), what="the block inv")
    for listener in block_only:
        assert not any(kind == MSG_TX for kind, _ in listener.invs)
        assert not listener.received(b"getaddr")
    for listener in listeners:
        listener.close()


def test_with_every_slot_full_a_feeler_tries_a_new_address_and_leaves_after_the_handshake(node_factory):
    node, listeners, _ = fill_outbound_slots(node_factory)
    feeler = Listener(hold=True)
    assert node.rpc("addpeeraddress", "127.0.0.1", feeler.port)["success"]
    wait_for(lambda: node.rpc("getaddrmaninfo")["ipv4"]["tried"] == 10, what="the ten peers' addresses tried")
    assert node.rpc("getaddrmaninfo")["ipv4"]["new"] == 1
    print("feelers follow the mockable clock as Core's: 18 minutes on, one is due")
    node.rpc("setmocktime", int(time.time()) + 18 * 60)
    wait_for(lambda: any(p["connection_type"] == "feeler" and p["addr"] == f"127.0.0.1:{feeler.port}"
                         for p in node.rpc("getpeerinfo")), timeout=30, what="a feeler to the new address")
    wait_for(lambda: feeler.version is not None, what="the feeler's version")
    assert not feeler.version.fRelay
    print("once the handshake proves the address works, the feeler leaves and the address is tried")
    feeler.release.set()
    assert feeler.closed.wait(30)
    node.wait_for_log("feeler connection completed")
    wait_for(lambda: node.rpc("getaddrmaninfo")["ipv4"]["tried"] == 11, what="the feeler's address tried")
    assert len(node.rpc("getpeerinfo")) == 10
    for listener in listeners + [feeler]:
        listener.close()
