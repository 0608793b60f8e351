"""The node's storage as a bitcoind user meets it, through orreryd and the RPC:
a mined chain read back and found again after a restart, -blocksdir, -prune,
-txindex, -stopatheight, and a full or read-only disk stopping Orrery cleanly
(one line, no restart loop) without corrupting anything.

The full and read-only disks are real: a tiny tmpfs or a read-only bind mount
in a private mount namespace (`unshare --mount`) that only the tested orreryd
and its services see."""
import os
import shutil
import subprocess

import pytest

from conftest import Process, RpcError, require_binaries, wait_for


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
        "headers": [node.rpc("getblockheader", node.rpc("getblockhash", h)) for h in range(count + 1)],
        "chain": {k: v for k, v in node.rpc("getblockchaininfo").items() if k != "size_on_disk"},
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
    node.rpc("stop")
    assert stopped(node) == 0
    node.start()
    assert chain_snapshot(node) == before


# A regtest P2WPKH address (BIP173's test vector) for blocks whose coins nobody spends.
ADDRESS = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"

# Runs its arguments in a private mount namespace with a tmpfs of $SIZE over $DIR, filled first with what $SAVE
# holds; when the command ends, copies the tmpfs back to $SAVE (the tmpfs dies with the namespace) and exits with
# the command's status.
TMPFS_WRAPPER = r'''
mount -t tmpfs -o "size=$SIZE" tmpfs "$DIR" || exit 97
cp -a "$SAVE/." "$DIR/" || exit 98
"$@" &
child=$!
trap 'kill -TERM $child' TERM INT
wait $child
status=$?
wait $child 2>/dev/null && status=$?
umount "$DIR/regtest/blocks" 2>/dev/null  # a read-only mount a test laid over the blocks
cp -a "$DIR/." "$SAVE/"
exit $status
'''


def in_private_tmpfs(process, directory, size, save):
    """Makes `process` run inside `unshare --mount` with a tmpfs of `size` over `directory`, which starts with
    the content of `save` and is copied back there once the process ends. Skips when this environment cannot
    make mount namespaces."""
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {directory}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a private mount namespace here: {probe.stderr.strip()}")
    save.mkdir(exist_ok=True)
    process.env.update(DIR=str(directory), SIZE=size, SAVE=str(save))
    process.args = ["unshare", "--mount", "sh", "-c", TMPFS_WRAPPER, "tmpfs-wrapper", *process.args]


def test_a_full_disk_stops_the_node_cleanly_and_a_restart_with_space_finds_a_consistent_chain(node_factory, tmp_path):
    require_binaries("node", "wallet", "gui-bridge")
    small = tmp_path / "small-disk"
    small.mkdir()
    saved = tmp_path / "saved-blocks"
    node = node_factory.orreryd(extra_args=[f"-blocksdir={small}"])
    in_private_tmpfs(node, small, "256k", saved)
    node.start()
    print("a first stop flushes the chainstate (the block files are on the small disk, the block index in the")
    print("datadir as bitcoind keeps it)")
    flushed = node.rpc("generatetoaddress", 110, ADDRESS)
    node.rpc("stop")
    assert stopped(node) == 0
    node.start()
    assert node.rpc("getbestblockhash") == flushed[-1]
    mined = 110
    error = None
    while mined < 5000:
        try:
            mined += len(node.rpc("generatetoaddress", 50, ADDRESS))
        except (RpcError, OSError) as e:
            error = e
            break
    print(f"mined {mined} blocks before: {error}")
    assert error is not None, "a 256 KiB disk held 5000 blocks"
    assert mined > 110
    print("the node stops, says why in one line, and orreryd stops Orrery instead of restarting it")
    assert stopped(node) == 1
    log = node.log()[node.log_offset:]
    fatal = [line for line in log.splitlines() if "A fatal internal error occurred" in line]
    assert len(fatal) == 1, fatal
    assert "No space left on device" in fatal[0] and str(small) in fatal[0], fatal[0]
    assert f"stopped on an error a restart cannot fix: Cannot write to {small}" in node.stderr, node.stderr
    assert "No space left on device; stopping Orrery" in node.stderr
    assert "restarting it" not in log

    print("with room (the blocks copied to a normal folder), a restart finds a consistent chain")
    node.args = node.args[node.args.index("tmpfs-wrapper") + 1:]
    node.args = [a if not a.startswith("-blocksdir=") else f"-blocksdir={saved}" for a in node.args]
    node.start()
    height = node.rpc("getblockcount")
    assert 110 <= height <= mined
    tip = node.rpc("getbestblockhash")
    assert node.rpc("getblockhash", 110) == flushed[-1]
    stats = node.rpc("gettxoutsetinfo")
    assert (stats["height"], stats["bestblock"]) == (height, tip)
    for h in range(height + 1):
        node.rpc("getblock", node.rpc("getblockhash", h), 2)
    assert node.rpc("verifychain", 4, 0) is True
    node.rpc("generatetoaddress", 5, ADDRESS)
    assert node.rpc("getblockcount") == height + 5

    assert_same_utxo_set_as_a_fresh_import(node_factory, node, tmp_path)


def assert_same_utxo_set_as_a_fresh_import(node_factory, node, tmp_path):
    """A fresh node that imports `node`'s active chain (-loadblock) reaches the same tip and UTXO set."""
    height = node.rpc("getblockcount")
    blocks_file = tmp_path / "blocks.dat"
    magic = bytes.fromhex("fabfb5da")
    with open(blocks_file, "wb") as out:
        for h in range(1, height + 1):
            data = bytes.fromhex(node.rpc("getblock", node.rpc("getblockhash", h), 0))
            out.write(magic + len(data).to_bytes(4, "little") + data)
    fresh = node_factory.orreryd("fresh", extra_args=[f"-loadblock={blocks_file}"]).start()
    wait_for(lambda: fresh.rpc("getblockcount") == height, 30, "the import")
    expected = fresh.rpc("gettxoutsetinfo")
    actual = node.rpc("gettxoutsetinfo")
    assert (actual["bestblock"], actual["hash_serialized_3"]) == (expected["bestblock"], expected["hash_serialized_3"])
    fresh.stop()


def test_a_full_chainstate_disk_during_a_flush_stops_the_node_and_a_restart_repairs_the_coins(node_factory,
                                                                                               tmp_path):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd()
    chainstate = node.net / "chainstate"
    chainstate.mkdir(parents=True)
    saved = tmp_path / "saved-chainstate"
    in_private_tmpfs(node, chainstate, "128k", saved)
    node.start()
    mined = 0
    error = None
    while mined < 5000:
        try:
            mined += len(node.rpc("generatetoaddress", 50, ADDRESS))
            node.rpc("gettxoutsetinfo")  # flushes the coins, as Core's does
        except (RpcError, OSError) as e:
            error = e
            break
    print(f"mined {mined} blocks before: {error}")
    assert error is not None, "a 128 KiB chainstate disk held the coins of 5000 blocks"
    assert stopped(node) == 1
    log = node.log()[node.log_offset:]
    fatal = [line for line in log.splitlines() if "A fatal internal error occurred" in line]
    assert len(fatal) == 1 and "No space left on device" in fatal[0] and str(chainstate) in fatal[0], fatal
    assert "restarting it" not in log

    print("with room (the coins database copied to a normal folder), a restart finds a consistent chain")
    node.args = node.args[node.args.index("tmpfs-wrapper") + 1:]
    shutil.copytree(saved, chainstate, dirs_exist_ok=True)
    node.start()
    height = node.rpc("getblockcount")
    assert 0 < height <= mined
    stats = node.rpc("gettxoutsetinfo")
    assert (stats["height"], stats["bestblock"]) == (height, node.rpc("getbestblockhash"))
    assert node.rpc("verifychain", 4, 0) is True
    node.rpc("generatetoaddress", 5, ADDRESS)
    assert_same_utxo_set_as_a_fresh_import(node_factory, node, tmp_path)


# Runs its arguments in a private mount namespace where $DIR is bound read-only onto itself.
READ_ONLY_WRAPPER = r'''
mount --bind "$DIR" "$DIR" && mount -o remount,ro,bind "$DIR" "$DIR" || exit 97
exec "$@"
'''


def read_only(process, directory):
    """Makes `directory` read-only for `process`: a read-only bind mount in a private mount namespace when this
    test runs as root (root ignores file modes), else chmod (undone by `writable`)."""
    if os.geteuid() != 0:
        for path in [directory, *directory.rglob("*")]:
            if path.is_dir():
                path.chmod(0o555)
        return
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", READ_ONLY_WRAPPER, "probe", "true"],
                           env=dict(os.environ, DIR=str(directory)), capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot bind a folder read-only in a private mount namespace here: {probe.stderr.strip()}")
    process.env["DIR"] = str(directory)
    process.args = ["unshare", "--mount", "sh", "-c", READ_ONLY_WRAPPER, "read-only-wrapper", *process.args]


def writable(process, directory):
    """Undoes `read_only`."""
    if os.geteuid() != 0:
        for path in [directory, *directory.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        return
    process.args = process.args[process.args.index("read-only-wrapper") + 1:]


def node_start_refused(node):
    """Runs orreryd's command line to its end, expecting exit status 1 before it serves anything."""
    Process.start(node)  # without waiting for a ready line
    assert stopped(node) == 1


def stopped(node, timeout=30):
    wait_for(lambda: node.process.poll() is not None, timeout, "orreryd to stop")
    return node.process.returncode


def test_a_read_only_blocks_folder_refuses_the_start_in_one_line_and_corrupts_nothing(node_factory, tmp_path):
    require_binaries("node", "wallet", "gui-bridge")
    blocks = tmp_path / "blocks-disk"
    blocks.mkdir()
    node = node_factory.orreryd(extra_args=[f"-blocksdir={blocks}"])
    node.start()
    node.rpc("generatetoaddress", 30, ADDRESS)
    before = chain_snapshot(node)
    node.rpc("stop")
    assert stopped(node) == 0

    print("read-only: the node names the folder and the reason once, and orreryd stops Orrery")
    read_only(node, blocks)
    node.start(wait_all=False)
    assert stopped(node) == 1
    log = node.log()[node.log_offset:]
    errors = [line for line in log.splitlines() if "[node:" in line and "Error:" in line]
    assert len(errors) == 1, errors  # logged once, though the node also says it on its stderr
    assert "Read-only file system" in errors[0] or "Permission denied" in errors[0], errors[0]
    assert str(blocks) in errors[0] and "-reindex" not in errors[0], errors[0]
    assert node.stderr.splitlines()[-1].endswith(errors[0].split("Error: ", 1)[1] + "; stopping Orrery")
    assert "restarting it" not in log

    writable(node, blocks)

    print("a read-only datadir: orreryd refuses to start in one line on stderr")
    read_only(node, node.datadir)
    node_start_refused(node)
    lines = node.stderr.splitlines()
    refusal = lines[-1]
    assert refusal.startswith("Error: ") and str(node.datadir) in refusal, lines
    assert "Read-only file system" in refusal or "Permission denied" in refusal, refusal
    writable(node, node.datadir)

    print("writable again: the same chain")
    node.start()
    assert chain_snapshot(node) == before


def test_a_blocks_folder_turning_read_only_while_mining_stops_the_node_cleanly(node_factory, tmp_path):
    require_binaries("node", "wallet", "gui-bridge")
    if os.geteuid() != 0:
        pytest.skip("remounting a folder read-only under a running node needs root")
    disk = tmp_path / "blocks-disk"
    disk.mkdir()
    saved = tmp_path / "saved-blocks"
    node = node_factory.orreryd(extra_args=[f"-blocksdir={disk}"])
    in_private_tmpfs(node, disk, "16m", saved)
    node.start()
    flushed = node.rpc("generatetoaddress", 20, ADDRESS)
    node.rpc("gettxoutsetinfo")  # flushes the chainstate, as Core's does

    print("the blocks folder turns read-only under the running node (a read-only mount laid over it; the node opens")
    print("a block file for each write)")
    remount = subprocess.run(["nsenter", f"--target={node.process.pid}", "--mount", "mount", "-t", "tmpfs", "-o",
                              "ro,size=64k", "tmpfs", str(disk / "regtest" / "blocks")], capture_output=True, text=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot enter the node's mount namespace here: {remount.stderr.strip()}")
    with pytest.raises((RpcError, OSError)):
        for _ in range(100):
            node.rpc("generatetoaddress", 10, ADDRESS)
    assert stopped(node) == 1
    log = node.log()[node.log_offset:]
    fatal = [line for line in log.splitlines() if "A fatal internal error occurred" in line]
    assert len(fatal) == 1 and "Read-only file system" in fatal[0] and str(disk) in fatal[0], fatal
    assert "restarting it" not in log

    print("writable again: a consistent chain that mines on")
    node.args = node.args[node.args.index("tmpfs-wrapper") + 1:]
    node.args = [a if not a.startswith("-blocksdir=") else f"-blocksdir={saved}" for a in node.args]
    node.start()
    height = node.rpc("getblockcount")
    assert height >= 20 and node.rpc("getblockhash", 20) == flushed[-1]
    stats = node.rpc("gettxoutsetinfo")
    assert stats["height"] == height and stats["bestblock"] == node.rpc("getbestblockhash")
    assert node.rpc("verifychain", 4, 0) is True
    node.rpc("generatetoaddress", 3, ADDRESS)
    assert node.rpc("getblockcount") == height + 3


def test_blocksdir_keeps_the_blocks_apart_from_the_chainstate_across_a_restart(node_factory, tmp_path):
    require_binaries("node", "wallet", "gui-bridge")
    blocksdir = tmp_path / "elsewhere"
    blocksdir.mkdir()
    node = node_factory.orreryd(extra_args=[f"-blocksdir={blocksdir}"]).start()
    node.rpc("generatetoaddress", 12, ADDRESS)
    before = chain_snapshot(node)
    node.rpc("stop")
    assert stopped(node) == 0
    blocks = blocksdir / "regtest" / "blocks"
    assert (blocks / "blk00000.dat").stat().st_size > 0 and (blocks / "rev00000.dat").stat().st_size > 0
    assert (node.net / "chainstate" / "CURRENT").exists()
    assert not list(node.net.glob("blocks/blk*.dat")) and not (blocksdir / "regtest" / "chainstate").exists()
    print("the block index stays in the datadir, as bitcoind keeps it: only blk/rev files move")
    assert (node.net / "blocks" / "index" / "CURRENT").exists()
    assert not (blocks / "index").exists()
    node.start()
    assert chain_snapshot(node) == before


def test_pruned_blocks_answer_bitcoinds_error_and_stay_pruned_after_a_restart(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd(extra_args=["-prune=1", "-fastprune"]).start()
    info = node.rpc("getblockchaininfo")
    assert info["pruned"] is True and info["pruneheight"] == 0 and info["automatic_pruning"] is False
    hashes = node.rpc("generatetoaddress", 1000, ADDRESS)
    files = sorted(p.name for p in (node.net / "blocks").glob("blk*.dat"))
    assert len(files) >= 3, files  # 64 KiB files (-fastprune)
    print("pruneblockchain keeps Core's last 288 blocks whatever the height asked")
    pruned_to = node.rpc("pruneblockchain", 900)
    assert 0 < pruned_to <= 1000 - 288
    info = node.rpc("getblockchaininfo")
    assert info["pruned"] is True and info["pruneheight"] == pruned_to + 1
    assert not (node.net / "blocks" / files[0]).exists()
    error = raises_rpc(-1, node.rpc, "getblock", hashes[0])
    assert error.message == "Block not available (pruned data)"
    assert node.rpc("getblockheader", hashes[0])["height"] == 1
    assert node.rpc("getblock", hashes[-1])["height"] == 1000
    stats = node.rpc("gettxoutsetinfo")

    node.rpc("stop")
    assert stopped(node) == 0
    node.start()
    info = node.rpc("getblockchaininfo")
    assert info["pruned"] is True and info["pruneheight"] == pruned_to + 1 and info["blocks"] == 1000
    assert raises_rpc(-1, node.rpc, "getblock", hashes[0]).message == "Block not available (pruned data)"
    assert node.rpc("gettxoutsetinfo")["hash_serialized_3"] == stats["hash_serialized_3"]

    print("-prune below 550 MiB (other than 1) is bitcoind's error")
    node.rpc("stop")
    assert stopped(node) == 0
    node.args = [a for a in node.args if a != "-prune=1"] + ["-prune=100"]
    Process.start(node)
    assert stopped(node) == 1
    assert node.stderr.splitlines()[-1].endswith(
        "stopped on an error a restart cannot fix: Prune configured below the minimum of 550 MiB.  Please use a "
        "higher number.; stopping Orrery")


TXINDEX_HINT = ("No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction "
                "queries. Use gettransaction for wallet transactions.")


def test_getrawtransaction_finds_any_transaction_with_txindex_and_gives_cores_hint_without(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd().start()
    hashes = node.rpc("generatetoaddress", 10, ADDRESS)
    coinbase = node.rpc("getblock", hashes[4])["tx"][0]
    error = raises_rpc(-5, node.rpc, "getrawtransaction", coinbase)
    assert error.message == TXINDEX_HINT
    raw = node.rpc("getrawtransaction", coinbase, 0, hashes[4])

    print("-txindex on the same datadir indexes the blocks already there")
    node.rpc("stop")
    assert stopped(node) == 0
    node.args.append("-txindex")
    node.start()
    found = wait_for(lambda: try_rpc(node, "getrawtransaction", coinbase), 30, "the txindex to catch up")
    assert found == raw
    verbose = node.rpc("getrawtransaction", coinbase, 1)
    assert verbose["txid"] == coinbase and verbose["blockhash"] == hashes[4] and verbose["confirmations"] == 6
    newer = node.rpc("generatetoaddress", 1, ADDRESS)[0]
    newer_coinbase = node.rpc("getblock", newer)["tx"][0]
    assert wait_for(lambda: try_rpc(node, "getrawtransaction", newer_coinbase, 1), 10)["blockhash"] == newer
    assert (node.net / "indexes" / "txindex").is_dir()


def try_rpc(node, method, *params):
    """The call's result, or None when it fails."""
    try:
        return node.rpc(method, *params)
    except RpcError:
        return None


def test_stopatheight_stops_orrery_cleanly_at_that_height(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd(extra_args=["-stopatheight=7"]).start()
    try:
        node.rpc("generatetoaddress", 10, ADDRESS)
    except (RpcError, OSError):
        pass  # the node may stop before it answers
    assert stopped(node) == 0
    log = node.log()[node.log_offset:]
    assert "Shutdown requested: reached -stopatheight" in log and "node (pid" in log and "asks to stop Orrery" in log
    assert "restarting it" not in log
    node.args.remove("-stopatheight=7")
    node.start()
    # Like Core's, generatetoaddress stops mining once the shutdown is asked, at block 7.
    assert node.rpc("getblockcount") == 7
    assert log.count("Shutdown requested: reached -stopatheight") == 1


def test_checkblocks_finds_at_start_a_corrupted_block_the_normal_load_does_not_read(node_factory):
    require_binaries("node", "wallet", "gui-bridge")
    node = node_factory.orreryd().start()
    hashes = node.rpc("generatetoaddress", 30, ADDRESS)
    victim = hashes[19]  # height 20, ten below the tip: beyond the 6 blocks checked by default
    raw = bytes.fromhex(node.rpc("getblock", victim, 0))
    node.rpc("stop")
    assert stopped(node) == 0

    print("the coinbase's lock time of block 20 changes on disk: the block still parses and its header (its hash)")
    print("is intact; only its merkle root no longer matches")
    blk = node.net / "blocks" / "blk00000.dat"
    data = bytearray(blk.read_bytes())
    at = data.find(raw)
    assert at > 0 and data.find(raw, at + 1) == -1
    data[at + len(raw) - 4] ^= 1
    blk.write_bytes(bytes(data))

    print("bitcoind's default check (the last 6 blocks at level 3) does not reach it: the node starts")
    node.start()
    assert node.rpc("getblockcount") == 30
    node.rpc("stop")
    assert stopped(node) == 0

    print("-checkblocks=20: found at start, one clear error, and orreryd stops Orrery instead of restarting it")
    plain = list(node.args)
    node.args = plain + ["-checkblocks=20"]
    node.start(wait_all=False)
    assert stopped(node) == 1
    log = node.log()[node.log_offset:]
    assert f"VerifyDB(): *** found bad block at 20, hash={victim} (bad-txnmrklroot" in log, log[-3000:]
    errors = [line for line in log.splitlines() if "[node:" in line and "Error:" in line]
    assert errors and "Corrupted block database detected" in errors[0] and "-reindex" in errors[0], errors
    assert "Corrupted block database detected" in node.stderr
    assert "restarting it" not in log

    print("-checklevel=0 only reads the blocks, as bitcoind's level 0: the same 20 blocks pass")
    node.args = plain + ["-checkblocks=20", "-checklevel=0"]
    node.start()
    assert node.rpc("getblockcount") == 30
