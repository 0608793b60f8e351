"""orrery-node's chainstate by hand: a chain from orrery-chaingen (every common output kind, signed, with
same-block spends and consolidations) imported with -loadblock and fully validated, then found again after a
restart, after -reindex and after -reindex-chainstate; a deleted chainstate/ is refused with the fix."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import require_binaries, tool_binary


def generate(tmp_path):
    binary = tool_binary("orrery-chaingen")
    if not binary.exists():
        pytest.skip(f"{binary} is not built")
    out = tmp_path / "chain.dat"
    fork = tmp_path / "chain-fork.dat"
    result = subprocess.run([str(binary), f"--out={out}", f"--fork-out={fork}", "--quiet", "--seed=11",
                             "--blocks=130", "--txs-per-block=10", "--fork-at=120", "--fork-length=5"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), out


def tip_line(node):
    lines = re.findall(r"Genesis \w+ \(regtest\), tip height (\d+), tip (\w+)", node.log())
    assert lines, node.log()
    height, tip = lines[-1]
    return int(height), tip


def test_an_imported_chain_survives_restart_reindex_and_reindex_chainstate(node_factory, tmp_path):
    require_binaries("node")
    summary, chain = generate(tmp_path)
    expected = (summary["height"], summary["main"]["tip"])

    print("-loadblock imports and validates every block before the node serves")
    node = node_factory.service("node", "node0", ["-nolisten", f"-loadblock={chain}"]).start()
    assert tip_line(node) == expected
    assert node.stop() == 0

    for extra in ([], ["-reindex-chainstate"], ["-reindex"], []):
        print(f"restart with {extra or 'no option'}: the same tip")
        node = node_factory.service("node", "node0", ["-nolisten", *extra]).start()
        assert tip_line(node) == expected
        assert node.stop() == 0

    print("a deleted chainstate/ is refused with the -reindex-chainstate fix")
    shutil.rmtree(node.net / "chainstate")
    node = node_factory.service("node", "node0", ["-nolisten"])
    node.start(wait=False)
    assert node.process.wait(timeout=30) == 3  # EXIT_NO_RESTART: orreryd would not restart it
    assert "-reindex-chainstate" in node.stderr
