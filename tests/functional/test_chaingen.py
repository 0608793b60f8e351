"""orrery-chaingen's chains, checked by an independent reader (chain_file.py on python-bitcoinlib):
every block parses and re-serializes, merkle roots and witness commitments hold, every input spends an
existing earlier output, coinbases mature and pay no more than subsidy and fees, ECDSA signatures verify;
the mix of output kinds is there; a seed always gives the same bytes; the side branch forks where asked."""
import json
import logging
import subprocess

import pytest

pytest.importorskip("bitcoin", reason="python3-bitcoinlib is not installed")

from conftest import tool_binary  # noqa: E402
import chain_file  # noqa: E402

log = logging.getLogger("chaingen")


def chaingen(tmp_path, *args, name="chain"):
    binary = tool_binary("orrery-chaingen")
    if not binary.exists():
        pytest.skip(f"{binary} is not built")
    out = tmp_path / f"{name}.dat"
    fork = tmp_path / f"{name}-fork.dat"
    hex_out = tmp_path / f"{name}.hex"
    result = subprocess.run([str(binary), f"--out={out}", f"--fork-out={fork}", f"--hex-out={hex_out}", "--quiet",
                             *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), out, fork, hex_out


def test_a_generated_chain_is_valid_to_an_independent_reader(tmp_path):
    log.info("generating 140 blocks with 25 transactions each and a 15-block side branch at 125")
    summary, out, fork, hex_out = chaingen(tmp_path, "--seed=7", "--blocks=140", "--txs-per-block=25",
                                           "--fork-at=125", "--fork-length=15")
    blocks = chain_file.read_stream(out)
    assert len(blocks) == 140 == summary["height"]
    assert [bytes.fromhex(line) for line in hex_out.read_text().split()] == blocks

    log.info("replaying the main branch against python-bitcoinlib and a UTXO set of our own")
    replay = chain_file.ChainReplay()
    fork_point = None
    for raw in blocks:
        replay.apply(raw)
        if replay.height == 125:
            fork_point = replay.copy()
    assert replay.tip[::-1].hex() == summary["main"]["tip"]
    assert replay.transactions == summary["main"]["transactions"]
    assert replay.inputs == summary["main"]["inputs"]
    log.info("signatures verified by kind: %s", replay.signatures_checked)
    for kind in ("p2pkh", "p2wpkh", "p2sh_p2wpkh", "p2wsh_2of3"):
        assert replay.signatures_checked.get(kind, 0) > 10, f"{kind} inputs are in the chain"
    assert replay.signatures_checked.get("p2tr_unchecked", 0) > 10, "taproot inputs are in the chain"
    main = summary["main"]
    assert main["inputs_by_type"]["p2tr_keypath"] > 0 and main["inputs_by_type"]["p2tr_scriptpath"] > 0
    assert main["outputs_by_type"]["op_return"] > 0
    assert main["same_block_spends"] > 0
    assert main["consolidations"] > 0

    log.info("replaying the side branch from the fork point")
    side = chain_file.read_stream(fork)
    assert len(side) == 15
    for raw in side:
        fork_point.apply(raw)
    assert fork_point.height == 140
    assert fork_point.tip[::-1].hex() == summary["side"]["tip"]
    assert fork_point.digests() != replay.digests(), "the branches end in different UTXO sets"


def test_a_seed_always_gives_the_same_chain_and_another_seed_another(tmp_path):
    _, first, _, _ = chaingen(tmp_path, "--seed=3", "--blocks=110", "--txs-per-block=5", name="a")
    _, again, _, _ = chaingen(tmp_path, "--seed=3", "--blocks=110", "--txs-per-block=5", name="b")
    _, other, _, _ = chaingen(tmp_path, "--seed=4", "--blocks=110", "--txs-per-block=5", name="c")
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_targets_extend_the_chain_until_reached(tmp_path):
    summary, out, _, _ = chaingen(tmp_path, "--seed=5", "--blocks=101", "--txs-per-block=40",
                                  "--target-inputs=1500", "--no-check")
    assert summary["main"]["inputs"] >= 1500
    assert len(chain_file.read_stream(out)) == summary["height"] > 101
