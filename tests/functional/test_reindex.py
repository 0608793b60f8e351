"""Rebuilding from the block files: -loadblock imports a generated chain, -reindex and -reindex-chainstate
reach the same tip and UTXO hash (checked against an independent replay, chain_file.py); a truncated block
file and a deleted chainstate/ stop the node with one clear error that names the file and the fix, and that
fix works."""
import logging
import os
import shutil

import pytest

pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")

from conftest import require_binaries, wait_for  # noqa: E402
import chain_file  # noqa: E402

log = logging.getLogger("reindex")

FORK_AT = 140
ARGS = ["-disablewallet"]


def start(node_factory, *extra):
    daemon = node_factory.orreryd("node", extra_args=[*ARGS, *extra]).start()
    chain_file.require_rpc(daemon, "gettxoutsetinfo")
    return daemon


def state(daemon):
    info = daemon.rpc("gettxoutsetinfo")
    return daemon.rpc("getbestblockhash"), daemon.rpc("getblockcount"), info["hash_serialized_3"]


def refused_start(node_factory, *extra):
    """Starts orreryd expecting the node to refuse its datadir; returns debug.log's text once orreryd gave up."""
    daemon = node_factory.orreryd("node", extra_args=[*ARGS, "-restartintensity=0", *extra])
    daemon.start(wait_all=False)
    wait_for(lambda: daemon.process.poll() is not None, 60, "orreryd to give up on the node")
    assert daemon.process.returncode != 0
    return daemon.log()[daemon.log_offset:]


def test_loadblock_reindex_and_reindex_chainstate_agree_and_damage_is_named(node_factory, tmp_path):
    require_binaries("node", "gui-bridge")
    summary, main_file, _, main_hex, side_hex = chain_file.run_chaingen(
        tmp_path, "--seed=21", "--blocks=150", "--txs-per-block=20", f"--fork-at={FORK_AT}", "--fork-length=15")
    expected = chain_file.expected_tips([bytes.fromhex(h) for h in main_hex], [bytes.fromhex(h) for h in side_hex],
                                        FORK_AT)

    log.info("-loadblock imports the generated chain before the RPC answers")
    daemon = start(node_factory, f"-loadblock={main_file}")
    tip, height, digest = state(daemon)
    assert height == 150 and tip == summary["main"]["tip"]
    assert digest == expected[tip][1]

    log.info("the longer side branch reorganizes the node")
    for block in side_hex:
        daemon.rpc("submitblock", block)
    tip, height, digest = state(daemon)
    assert tip == summary["side"]["tip"] and height == FORK_AT + 15 and digest == expected[tip][1]
    daemon.stop()

    for option in ("-reindex", "-reindex-chainstate"):
        log.info("%s reaches the same tip and UTXO hash", option)
        daemon = start(node_factory, option)
        assert state(daemon) == (tip, height, digest)
        daemon.stop()

    blocks_dir = daemon.datadir / "regtest" / "blocks"
    log.info("a deleted chainstate/ is named with -reindex-chainstate as the fix")
    shutil.rmtree(daemon.datadir / "regtest" / "chainstate")
    text = refused_start(node_factory)
    assert "chainstate" in text and "-reindex-chainstate" in text
    daemon = start(node_factory, "-reindex-chainstate")
    assert state(daemon) == (tip, height, digest)
    daemon.stop()

    log.info("a truncated blk00000.dat is named with -reindex as the fix")
    blk = blocks_dir / "blk00000.dat"
    size = blk.stat().st_size
    with open(blk, "r+b") as f:
        f.truncate(size // 2)
    text = refused_start(node_factory)
    assert str(blk) in text or "blk00000.dat" in text
    assert "-reindex" in text

    log.info("-reindex recovers what the file still holds, consistently")
    daemon = start(node_factory, "-reindex")
    tip, height, digest = state(daemon)
    assert tip in expected and expected[tip] == (height, digest)
    assert 100 < height < 150
    daemon.stop()
    assert os.path.exists(blk)
