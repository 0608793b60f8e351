"""orreryd as a user runs it: start, status, signals, a second instance, stop."""
import json
import signal

from conftest import wait_for


def test_status_lists_orreryd_with_its_pid(node_factory):
    daemon = node_factory.orreryd().start()
    status = json.loads(daemon.cli("-supervisor", "status").stdout)
    assert status[0]["role"] == "orreryd"
    assert status[0]["pid"] == daemon.process.pid
    assert status[0]["rss_bytes"] > 0
    # The datadir layout: private run/ and keys/ folders.
    assert (daemon.net / "run").stat().st_mode & 0o777 == 0o700
    assert (daemon.net / "keys").stat().st_mode & 0o777 == 0o700
    assert f"[orreryd:{daemon.process.pid}]" in daemon.log()


def test_sigterm_stops_cleanly_with_exit_code_zero(node_factory):
    daemon = node_factory.orreryd().start()
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=10) == 0
    assert "Shutdown done" in daemon.log()
    assert not (daemon.net / "run" / "supervisor.sock").exists()


def test_sighup_reopens_the_log_after_rotation(node_factory):
    daemon = node_factory.orreryd().start()
    log = daemon.net / "debug.log"
    log.rename(daemon.net / "debug.log.1")
    daemon.process.send_signal(signal.SIGHUP)
    wait_for(lambda: log.exists() and "Reopened debug.log" in log.read_text(), what="a new debug.log")


def test_a_second_orreryd_on_the_same_datadir_is_refused(node_factory):
    first = node_factory.orreryd("shared").start()
    result = node_factory.orreryd("shared").run(timeout=10)
    assert result.returncode == 1
    assert "probably already running" in result.stderr
    assert first.process.poll() is None


def test_cli_stop_shuts_orreryd_down(node_factory):
    daemon = node_factory.orreryd().start()
    assert "Orrery stopping" in daemon.cli("-supervisor", "stop").stdout
    assert daemon.process.wait(timeout=10) == 0


def test_cli_explains_when_orreryd_is_not_running(node_factory):
    daemon = node_factory.orreryd()
    (daemon.net).mkdir(parents=True)
    result = daemon.cli("-supervisor", "status", check=False)
    assert result.returncode == 1
    assert "not running" in result.stderr


def test_unknown_option_and_bad_config_are_clear_errors(node_factory):
    daemon = node_factory.orreryd()
    result = daemon.run("-bogus", timeout=10)
    assert result.returncode == 1
    assert "Invalid parameter -bogus" in result.stderr
    (daemon.datadir / "orrery.conf").write_text("[regtest]\nnodebug\n")
    result = daemon.run(timeout=10)
    assert result.returncode == 1
    assert "parse error on line 2" in result.stderr
