"""The node's storage as a bitcoind user meets it, through orreryd and the RPC:
a mined chain read back and found again after a restart, -blocksdir, -prune,
-txindex, and a full or read-only disk stopping the node cleanly without
corrupting it."""
import json

import pytest

from conftest import RpcError, require_binaries, wait_for


def raises_rpc(code, call, *args, **kwargs):
    with pytest.raises(RpcError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def chain_snapshot(node):
    """What a restart must not change: the tip, the UTXO set's digests and every block as getblock shows it."""
    count = node.rpc("getblockcount")
    stats = node.rpc("gettxoutsetinfo")
    return {
        "count": count,
        "best": node.rpc("getbestblockhash"),
        "hash_serialized_3": stats["hash_serialized_3"],
        "muhash": node.rpc("gettxoutsetinfo", "muhash")["muhash"],
        "txouts": stats["txouts"],
        "total_amount": stats["total_amount"],
        "blocks": [node.rpc("getblock", node.rpc("getblockhash", h), 2) for h in range(count + 1)],
    }


def test_a_mined_chain_is_read_back_and_found_again_after_a_restart(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd().start()
    node.rpc("createwallet", "miner")
    address = node.rpc("getnewaddress", wallet="miner")
    hashes = node.rpc("generatetoaddress", 101, address)
    assert len(hashes) == 101
    assert node.rpc("getblockcount") == 101
    assert node.rpc("getbestblockhash") == hashes[-1]
    assert [node.rpc("getblockhash", h) for h in range(1, 102)] == hashes
    block = node.rpc("getblock", hashes[0])
    assert block["height"] == 1 and block["confirmations"] == 101 and block["nextblockhash"] == hashes[1]
    header = node.rpc("getblockheader", hashes[-1])
    assert header["height"] == 101 and header["previousblockhash"] == hashes[-2]
    coinbase = node.rpc("getblock", hashes[0], 2)["tx"][0]
    assert coinbase["vout"][0]["scriptPubKey"]["address"] == address
    stats = node.rpc("gettxoutsetinfo")
    assert stats["height"] == 101 and stats["bestblock"] == hashes[-1]
    before = chain_snapshot(node)

    print("stop through the RPC, start again on the same datadir")
    assert node.rpc("stop") is not None
    assert wait_for(lambda: node.process.poll() is not None, 30, "orreryd to exit") is not None
    assert node.process.returncode == 0
    node.start()
    assert chain_snapshot(node) == before
