"""Block sync across constellations on loopback (doc/sync.md): headers first, blocks in parallel from the
agents, announcements of new tips, a reorganization to a longer chain mined elsewhere, and a sync that
carries on from another peer when the agent it was downloading through is SIGKILLed."""
import os
import signal

from conftest import require_binaries, wait_for

ADDRESS_A = "bcrt1qft5p2uhsdcdc3l2ua4ap5qqfg4pjaqlp250x7us7a8qqhrxrxfsqseac85"
ADDRESS_B = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def mine(node, count, address=ADDRESS_A):
    """Mines in rounds of at most 500 (one RPC call each) and returns the tip's hash."""
    while count > 0:
        step = min(count, 500)
        node.rpc("generatetoaddress", step, address)
        count -= step
    return node.rpc("getbestblockhash")


def wait_for_tip(node, tip, timeout=120):
    wait_for(lambda: node.rpc("getbestblockhash") == tip, timeout=timeout, what=f"tip {tip}")


def test_a_chain_of_more_than_one_headers_message_syncs_headers_first_and_new_blocks_follow(node_factory):
    require_binaries("node", "p2p-agent")
    a = node_factory.orreryd("a", extra_args=("-debug=net",)).start()
    print("A mines 2,100 blocks: more than one headers message (2,000) and two download windows (1,024)")
    tip = mine(a, 2100)
    print("B dials A and syncs: getheaders twice, then the blocks")
    b = node_factory.orreryd("b", extra_args=("-listen=0", f"-connect=127.0.0.1:{a.p2p_port}",
                                              "-debug=net")).start()
    wait_for_tip(b, tip)
    info = b.rpc("getblockchaininfo")
    assert info["blocks"] == 2100 and info["headers"] == 2100
    assert info["initialblockdownload"] is False  # the tip is minutes old
    assert info["verificationprogress"] > 0.99
    print("B's view of A: it has every header and block B has, nothing is in flight")
    wait_for(lambda: b.rpc("getpeerinfo")[0]["synced_blocks"] == 2100, what="synced_blocks")
    peer = b.rpc("getpeerinfo")[0]
    assert peer["synced_headers"] == 2100
    assert peer["inflight"] == []
    b.wait_for_log("2000 headers from peer=0, last at height 2000", since_start=True)

    print("A mines three more: it announces them and B fetches them")
    tip = mine(a, 3)
    wait_for_tip(b, tip, timeout=30)


def test_a_longer_chain_mined_on_another_constellation_reorganizes_the_first(node_factory):
    require_binaries("node", "p2p-agent")
    a = node_factory.orreryd("a", extra_args=("-debug=net",)).start()
    b = node_factory.orreryd("b", extra_args=("-debug=net",)).start()
    print("apart, A mines 10 blocks and B mines 15 to another address: two branches from genesis")
    a_tip = mine(a, 10, ADDRESS_A)
    b_tip = mine(b, 15, ADDRESS_B)
    assert a_tip != b_tip
    print("B dials A: A learns of the branch with more work and reorganizes to it; B keeps its own")
    b.rpc("addnode", f"127.0.0.1:{a.p2p_port}", "onetry")
    wait_for_tip(a, b_tip, timeout=60)
    assert b.rpc("getbestblockhash") == b_tip
    tips = {t["hash"]: t["status"] for t in a.rpc("getchaintips")}
    assert tips[b_tip] == "active"
    assert tips[a_tip] == "valid-fork"
    print("A mines 10 more on B's chain and B, now behind, follows A back")
    tip = mine(a, 10, ADDRESS_A)
    wait_for_tip(b, tip, timeout=60)


def test_an_agent_sigkilled_mid_sync_leaves_its_blocks_to_the_other_peer(node_factory):
    require_binaries("node", "p2p-agent")
    a = node_factory.orreryd("a").start()
    tip = mine(a, 2000)
    b = node_factory.orreryd("b", extra_args=(f"-connect=127.0.0.1:{a.p2p_port}", "-listen")).start()
    wait_for_tip(b, tip)
    print("C dials both A and B and downloads from both")
    c = node_factory.orreryd("c", extra_args=("-listen=0", "-debug=net")).start()
    # Dialled once C is up, so that the sync starts now and not while orreryd was still starting.
    for target in (a, b):
        c.rpc("addnode", f"127.0.0.1:{target.p2p_port}", "onetry")
    wait_for(lambda: any(p["inflight"] for p in c.rpc("getpeerinfo")), timeout=60, what="blocks in flight")
    peers = c.rpc("getpeerinfo")
    victim = max(peers, key=lambda p: len(p["inflight"]))
    height = c.rpc("getblockcount")
    print(f"SIGKILL the agent of peer {victim['id']} ({victim['addr']}) with {len(victim['inflight'])} blocks in "
          f"flight, at height {height}")
    os.kill(victim["agent_pid"], signal.SIGKILL)
    assert height < 2000, "the sync was over before the agent died: nothing proven"
    c.wait_for_log(f"Peer {victim['id']} ({victim['addr']}) disconnected: agent {victim['agent_pid']} went away")
    print("the blocks it held are asked from the other peer, and the sync completes")
    wait_for_tip(c, tip)
