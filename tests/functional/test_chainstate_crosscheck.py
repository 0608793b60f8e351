"""The node's chainstate (services/node/validation and storage, opened in-process by tests/tools/chainstate_tool
as orrery-node opens it) against an independent replay of the same generated chain (chain_file.py on
python-bitcoinlib, digests in plain Python): -loadblock, a reorganization to a longer side branch, -reindex
and -reindex-chainstate end at the tip and with the hash_serialized_3 and muhash the replay computes; a deleted
chainstate/ and a truncated blk00000.dat stop the start with one error naming the file and the option that
repairs it, and that option repairs it."""
import json
import logging
import shutil
import subprocess

import pytest

pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")

from conftest import tool_binary  # noqa: E402
import chain_file  # noqa: E402

log = logging.getLogger("chainstate_crosscheck")

FORK_AT = 140


def open_chainstate(datadir, *args, expect_ok=True):
    binary = tool_binary("chainstate_tool")
    if not binary.exists():
        pytest.skip(f"{binary} is not built")
    result = subprocess.run([str(binary), f"--datadir={datadir}", "--par=2", *map(str, args)], capture_output=True,
                            text=True, timeout=300)
    if not expect_ok:
        assert result.returncode == 2, f"the start should fail: {result.stdout[-2000:]} {result.stderr}"
        return result.stderr
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def replay_digests(main_raw, side_raw):
    """(tip, height, hash_serialized_3, muhash) after the main branch and after the side branch."""
    replay = chain_file.ChainReplay()
    fork_point = None
    for raw in main_raw:
        replay.apply(raw, check_signatures=False)
        if replay.height == FORK_AT:
            fork_point = replay.copy()
    for raw in side_raw:
        fork_point.apply(raw, check_signatures=False)
    return [(r.tip[::-1].hex(), r.height, *r.digests()) for r in (replay, fork_point)]


def as_tuple(state):
    return state["tip"], state["height"], state["hash_serialized_3"], state["muhash"]


def test_the_chainstate_agrees_with_an_independent_replay_through_reorg_and_rebuilds(tmp_path):
    summary, main_file, side_file, main_hex, side_hex = chain_file.run_chaingen(
        tmp_path, "--seed=31", "--blocks=150", "--txs-per-block=25", f"--fork-at={FORK_AT}", "--fork-length=15")
    main_raw = [bytes.fromhex(h) for h in main_hex]
    side_raw = [bytes.fromhex(h) for h in side_hex]
    log.info("replaying %d + %d blocks independently", len(main_raw), len(side_raw))
    after_main, after_side = replay_digests(main_raw, side_raw)
    expected = chain_file.expected_tips(main_raw, side_raw, FORK_AT)
    datadir = tmp_path / "node"

    log.info("-loadblock imports the main branch")
    assert as_tuple(open_chainstate(datadir, f"--loadblock={main_file}")) == after_main
    log.info("reopening finds the same state")
    assert as_tuple(open_chainstate(datadir)) == after_main
    log.info("-loadblock of the longer side branch reorganizes to it")
    assert as_tuple(open_chainstate(datadir, f"--loadblock={side_file}")) == after_side

    for option in ("--reindex", "--reindex-chainstate"):
        log.info("%s rebuilds the same state", option)
        assert as_tuple(open_chainstate(datadir, option)) == after_side
    log.info("with a tiny cache that flushes all along, -reindex-chainstate still ends the same")
    assert as_tuple(open_chainstate(datadir, "--reindex-chainstate", "--dbcache=1")) == after_side

    log.info("a deleted chainstate/ is named, with -reindex-chainstate as the fix")
    shutil.rmtree(datadir / "chainstate")
    error = open_chainstate(datadir, expect_ok=False)
    assert "chainstate" in error and "-reindex-chainstate" in error
    assert as_tuple(open_chainstate(datadir, "--reindex-chainstate")) == after_side

    log.info("a truncated blk00000.dat is named, with -reindex as the fix")
    blk = datadir / "blocks" / "blk00000.dat"
    with open(blk, "r+b") as f:
        f.truncate(blk.stat().st_size // 2)
    error = open_chainstate(datadir, expect_ok=False)
    assert "blk00000.dat" in error and "-reindex" in error
    state = open_chainstate(datadir, "--reindex")
    tip, height, serialized, _ = as_tuple(state)
    log.info("-reindex recovered %d blocks from what the file still holds", height)
    assert 100 < height < 150
    assert expected[tip] == (height, serialized), "the recovered state is the replay's at that block"
