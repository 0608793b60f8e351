"""Rebuilding from the block files with real processes under orreryd: -loadblock imports a generated chain
(and then its longer side branch, which reorganizes the node), -reindex and -reindex-chainstate reach the same
tip (and, when the node serves gettxoutsetinfo, the same UTXO hash, which must be the one an independent replay
computes: chain_file.py); a deleted chainstate/ and a truncated block file stop the node with one clear error
that names the file and the option that repairs it, and that option repairs it."""
import logging

import pytest

pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")

from conftest import RpcError, require_binaries, wait_for  # noqa: E402
import chain_file  # noqa: E402

log = logging.getLogger("reindex")

FORK_AT = 140
ARGS = ["-disablewallet"]


def start(node_factory, *extra):
    return node_factory.orreryd("node", extra_args=[*ARGS, *extra]).start()


def state(daemon, expected):
    """(tip, height); checks the UTXO hash against the replay's when the node serves gettxoutsetinfo."""
    tip, height = daemon.rpc("getbestblockhash"), daemon.rpc("getblockcount")
    assert tip in expected and expected[tip][0] == height, "the tip is a block of the chain, at its height"
    try:
        info = daemon.rpc("gettxoutsetinfo")
    except RpcError as e:
        if e.code != -32601:
            raise
        log.info("gettxoutsetinfo is not served yet: the UTXO hash is checked in test_chainstate_crosscheck.py")
    else:
        assert (info["bestblock"], info["hash_serialized_3"]) == (tip, expected[tip][1])
    return tip, height


def refused_start(node_factory, *extra):
    """Starts orreryd expecting the node to refuse its datadir; returns what was logged once orreryd gave up."""
    daemon = node_factory.orreryd("node", extra_args=[*ARGS, "-restartintensity=0", *extra])
    daemon.start(wait_all=False)
    wait_for(lambda: daemon.process.poll() is not None, 60, "orreryd to give up on the node")
    assert daemon.process.returncode != 0
    return daemon.log()[daemon.log_offset:]


def test_loadblock_reindex_and_reindex_chainstate_agree_and_damage_is_named(node_factory, tmp_path):
    require_binaries("node", "gui-bridge")
    summary, main_file, side_file, main_hex, side_hex = chain_file.run_chaingen(
        tmp_path, "--seed=21", "--blocks=150", "--txs-per-block=20", f"--fork-at={FORK_AT}", "--fork-length=15")
    expected = chain_file.expected_tips([bytes.fromhex(h) for h in main_hex], [bytes.fromhex(h) for h in side_hex],
                                        FORK_AT)

    log.info("-loadblock imports the generated chain before the RPC answers")
    daemon = start(node_factory, f"-loadblock={main_file}")
    assert state(daemon, expected) == (summary["main"]["tip"], 150)
    daemon.stop()

    log.info("-loadblock of the longer side branch reorganizes the node")
    daemon = start(node_factory, f"-loadblock={side_file}")
    side_tip = (summary["side"]["tip"], FORK_AT + 15)
    assert state(daemon, expected) == side_tip
    daemon.stop()

    for option in ("-reindex", "-reindex-chainstate"):
        log.info("%s reaches the same tip", option)
        daemon = start(node_factory, option)
        assert state(daemon, expected) == side_tip
        daemon.stop()

    net = daemon.datadir / "regtest"
    log.info("a deleted chainstate/ is named, with -reindex-chainstate as the fix")
    for path in sorted((net / "chainstate").iterdir()):
        path.unlink()
    (net / "chainstate").rmdir()
    text = refused_start(node_factory)
    assert "chainstate" in text and "-reindex-chainstate" in text, text[-3000:]
    daemon = start(node_factory, "-reindex-chainstate")
    assert state(daemon, expected) == side_tip
    daemon.stop()

    log.info("a truncated blk00000.dat is named, with -reindex as the fix")
    blk = net / "blocks" / "blk00000.dat"
    with open(blk, "r+b") as f:
        f.truncate(blk.stat().st_size // 2)
    text = refused_start(node_factory)
    assert "blk00000.dat" in text and "-reindex" in text, text[-3000:]
    daemon = start(node_factory, "-reindex")
    tip, height = state(daemon, expected)
    log.info("-reindex recovered %d blocks from what the file still holds", height)
    assert 100 < height < 150
    daemon.stop()
