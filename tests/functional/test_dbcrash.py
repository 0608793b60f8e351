"""Crash safety, as Bitcoin Core's feature_dbcrash.py proves it: a node with a tiny coins cache and tiny
write batches is fed a generated chain (with a longer side branch that reorganizes it, and then
invalidateblock/reconsiderblock reorganizations back and forth) while it is killed with SIGKILL at random
moments, at least 20 times (5 times on a shorter chain in the variant the sanitizer build runs too). orreryd restarts it each time; after every restart its tip must be a block of the
chain, its height that block's, and gettxoutsetinfo's hash_serialized_3 the one an independent replay of the
chain (chain_file.py) computes for that block (checked once the node serves gettxoutsetinfo). At the end a node
that never crashed agrees as well.

The kill moments are random (seeded, but timing makes them land differently each run); what is asserted is not."""
import logging
import random
import threading
import time

import pytest

pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")

from conftest import RpcError, require_binaries, wait_for  # noqa: E402
import chain_file  # noqa: E402

log = logging.getLogger("dbcrash")

# The full scenario (GCC build): 265 blocks, a 25-block side branch from 250 (longer than the 15 main blocks it
# replaces: submitting it reorganizes the node), 20 kills. Each block carries 30 never-spent 2,000-byte outputs:
# 60 KB of coins a block fill the 4 MiB cache every ~60 blocks, so the node flushes (in 64 KiB batches) several
# times while it is being killed.
FULL = dict(kills=20, main_blocks=265, fork_at=250, side_blocks=25, ballast="30:2000", txs_per_block=40)
# The reduced one, which the sanitizer build runs too: fewer blocks and kills, but twice the ballast, so the cache
# still fills every ~30 blocks and kills still land in flushes; spends from block 101 on, and a side branch that
# still reorganizes the node.
REDUCED = dict(kills=5, main_blocks=112, fork_at=102, side_blocks=14, ballast="60:2000", txs_per_block=10)
CRASH_ARGS = ["-dbcache=4", "-dbbatchsize=65536", "-disablewallet", "-restartintensity=1000", "-restartperiod=1"]


class Feeder(threading.Thread):
    """Submits blocks, then flips the side branch's first block invalid and valid again, until told to
    stop or the node dies under it (any RPC failure ends the thread)."""

    def __init__(self, daemon, blocks, flip):
        super().__init__(daemon=True)
        self.node = daemon
        self.blocks = blocks
        self.flip = flip
        self.stop = threading.Event()
        self.submitted = 0

    def run(self):
        try:
            for block in self.blocks:
                if self.stop.is_set():
                    return
                self.node.rpc("submitblock", block)
                self.submitted += 1
            while self.flip and not self.stop.is_set():
                self.node.rpc("invalidateblock", self.flip)
                self.node.rpc("reconsiderblock", self.flip)
        except Exception:  # the node was killed mid-call: expected
            return


def node_answers(daemon):
    try:
        daemon.rpc("getblockcount")
        return True
    except Exception:
        return False


def check_consistent(daemon, expected, what):
    """The tip is a block of the chain at its height, and (once the node serves gettxoutsetinfo) the UTXO set's
    hash_serialized_3 is the replay's for that block."""
    tip = daemon.rpc("getbestblockhash")
    assert tip in expected, f"{what}: the tip {tip} is not a block of the chain"
    height, digest = expected[tip]
    assert daemon.rpc("getblockcount") == height, f"{what}: height and tip disagree"
    info = utxo_info(daemon)
    if info is not None:
        assert info["bestblock"] == tip and info["height"] == height, f"{what}: gettxoutsetinfo is at another block"
        assert info["hash_serialized_3"] == digest, f"{what}: the UTXO set at {height} differs from the replay's"
    return tip, height


def utxo_info(daemon):
    """gettxoutsetinfo, or None while the node does not serve it."""
    try:
        return daemon.rpc("gettxoutsetinfo")
    except RpcError as e:
        if e.code != -32601:
            raise
        return None


def reconsider_branch(daemon, block_hash):
    """Undoes an invalidateblock a kill may have left behind. False when the node has no reconsiderblock."""
    try:
        daemon.rpc("reconsiderblock", block_hash)
    except RpcError as e:
        if e.code == -32601:
            return False
        if e.code != -5:  # -5: the node has not seen the block yet
            raise
    return True


def remaining_blocks(tip, main_hashes, side_hashes, main_hex, side_hex):
    """What to submit after a restart: the main blocks above the tip, then the side branch (resubmitting a
    block the node has is harmless, and one it lost in the crash must come again)."""
    if tip in main_hashes:
        return main_hex[main_hashes.index(tip) + 1:] + side_hex
    if tip in side_hashes:
        return side_hex[side_hashes.index(tip) + 1:]
    return main_hex + side_hex


@pytest.mark.heavy
def test_the_node_survives_20_sigkills_while_connecting_and_reorganizing(node_factory, tmp_path):
    run_crash_scenario(node_factory, tmp_path, **FULL)


def test_the_node_survives_5_sigkills_on_a_short_chain_with_a_reorganization(node_factory, tmp_path):
    run_crash_scenario(node_factory, tmp_path, **REDUCED)


def run_crash_scenario(node_factory, tmp_path, kills, main_blocks, fork_at, side_blocks, ballast, txs_per_block):
    require_binaries("node", "gui-bridge")
    log.info("generating %d blocks and a %d-block side branch from %d", main_blocks, side_blocks, fork_at)
    summary, _, _, main_hex, side_hex = chain_file.run_chaingen(
        tmp_path, "--seed=11", f"--blocks={main_blocks}", f"--txs-per-block={txs_per_block}", f"--fork-at={fork_at}",
        f"--fork-length={side_blocks}", f"--ballast={ballast}", "--no-check")
    main_raw = [bytes.fromhex(h) for h in main_hex]
    side_raw = [bytes.fromhex(h) for h in side_hex]
    log.info("replaying the chain to know every tip's UTXO hash (%d transactions)", summary["main"]["transactions"])
    expected = chain_file.expected_tips(main_raw, side_raw, fork_at)
    main_hashes = [chain_file.CBlock.deserialize(b).GetHash()[::-1].hex() for b in main_raw]
    side_hashes = [chain_file.CBlock.deserialize(b).GetHash()[::-1].hex() for b in side_raw]

    daemon = node_factory.orreryd("crashing", extra_args=CRASH_ARGS).start()
    chain_file.require_rpc(daemon, "submitblock", main_hex[0])
    if utxo_info(daemon) is None:
        log.info("gettxoutsetinfo is not served yet: only tips are checked (test_chainstate_crosscheck.py checks "
                 "the chainstate's UTXO hash)")
    rng = random.Random(20260105)
    flip_available = True
    for kill in range(1, kills + 1):
        tip = daemon.rpc("getbestblockhash")
        blocks = remaining_blocks(tip, main_hashes, side_hashes, main_hex, side_hex)
        feeder = Feeder(daemon, blocks, side_hashes[0] if flip_available else None)
        feeder.start()
        time.sleep(rng.uniform(0.05, 0.8))
        pid = daemon.kill("node")
        feeder.stop.set()
        feeder.join(30)
        log.info("kill %d: node pid %d killed after %d submitted blocks", kill, pid, feeder.submitted)
        wait_for(lambda: any(e["pid"] not in (0, pid) for e in daemon.entries("node")), 60,
                 "orreryd to restart the node")
        wait_for(lambda: node_answers(daemon), 60, "the restarted node to answer RPC")
        tip, height = check_consistent(daemon, expected, f"after kill {kill}")
        log.info("kill %d: restarted at height %d, consistent", kill, height)
        if kill == 1 and not blocks:
            pytest.fail("the chain was fed entirely before the first kill")
        flip_available = reconsider_branch(daemon, side_hashes[0]) and flip_available

    log.info("feeding what is left without kills")
    reconsider_branch(daemon, side_hashes[0])
    tip = daemon.rpc("getbestblockhash")
    for block in remaining_blocks(tip, main_hashes, side_hashes, main_hex, side_hex):
        daemon.rpc("submitblock", block)
    tip, height = check_consistent(daemon, expected, "at the end")
    assert tip == side_hashes[-1] and height == fork_at + side_blocks

    log.info("a node that never crashed reaches the same tip and UTXO hash")
    reference = node_factory.orreryd("reference", extra_args=["-disablewallet"]).start()
    for block in main_hex + side_hex:
        reference.rpc("submitblock", block)
    assert reference.rpc("getbestblockhash") == tip
    if utxo_info(daemon) is not None:
        assert utxo_info(reference)["hash_serialized_3"] == utxo_info(daemon)["hash_serialized_3"]
