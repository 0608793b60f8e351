"""Reads the systemd units of deploy/systemd/ as systemd would, and lays them on this machine
for a test: the command of each unit comes from its own ExecStart= line, never from a copy.

What a test changes, and only that (`Layout.command`): the absolute paths the units name are
moved under a short temporary root (/usr/bin/orrery-X becomes the build's binary, /var/lib/,
/run/ and /etc/orrery/ move under the root), and the service users the units name in
-ipcallow (orrery-node, orrery-wallet, ...) become the user running the test, since the test
runs every service as one user. The folders systemd would make (StateDirectory=,
RuntimeDirectory= with their modes) are made the same way."""
import getpass
import os
import re
import shlex
import shutil
import socket
import tempfile
from pathlib import Path

from conftest import SOURCE_ROOT, build_dir

UNITS_DIR = SOURCE_ROOT / "deploy" / "systemd"
BINARY_DIR = {"orrery-node": "services/node", "orrery-wallet": "services/wallet",
              "orrery-gui-bridge": "services/gui-bridge", "orrery-p2p-agent": "services/p2p-agent",
              "orrery-cli": "cli"}
SERVICE_USERS = ("orrery-node", "orrery-wallet", "orrery-gui-bridge", "orrery-p2p")


def read_unit(path):
    """{section: [(key, value), ...]} with backslash-newline continuations joined, comments dropped."""
    sections = {}
    current = None
    logical = ""
    for raw in Path(path).read_text().splitlines():
        if not logical and (raw.lstrip().startswith(("#", ";")) or not raw.strip()):
            continue
        if raw.endswith("\\"):
            logical += raw[:-1] + " "
            continue
        line = (logical + raw).strip()
        logical = ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def unit_value(unit, section, key, default=None):
    """The last value of `key` (systemd: a later assignment wins for single-valued settings)."""
    values = [v for k, v in unit.get(section, []) if k == key]
    return values[-1] if values else default


def unit_values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def parse_seconds(text):
    """systemd's time span for the forms the units use: "60", "60s", "5min"."""
    match = re.fullmatch(r"(\d+)\s*(s|sec|min)?", text)
    assert match, f"cannot read the time span {text!r}"
    return int(match.group(1)) * (60 if match.group(2) == "min" else 1)


class Layout:
    """A short temporary root standing for /, where the units' folders are made."""

    def __init__(self):
        # Short: ipc:// paths must fit in a Unix socket address (108 bytes).
        self.root = Path(tempfile.mkdtemp(prefix="orrery-units-", dir="/tmp"))
        self.user = getpass.getuser()
        (self.root / "etc" / "orrery").mkdir(parents=True)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def conf(self):
        return self.root / "etc" / "orrery" / "orrery.conf"

    def write_conf(self, extra):
        """deploy/systemd/orrery.conf with `extra` lines appended (the chain, the ports)."""
        self.conf.write_text((UNITS_DIR / "orrery.conf").read_text() + "\n" + extra)

    def rewrite(self, word):
        for name, folder in BINARY_DIR.items():
            if word == f"/usr/bin/{name}":
                return str(build_dir() / folder / name)
        word = re.sub(r"(?<![\w.])/(var/lib|run|etc/orrery)/", lambda m: f"{self.root}/{m.group(1)}/", word)
        if word.startswith("-ipcallow="):
            role, _, user = word[len("-ipcallow="):].rpartition(":")
            assert user in SERVICE_USERS, f"{word}: a user the units do not create"
            word = f"-ipcallow={role}:{self.user}"
        return word

    def command(self, unit_name):
        """The unit's ExecStart= as a list of arguments, moved under the root; makes its folders."""
        unit = read_unit(UNITS_DIR / unit_name)
        exec_start = unit_values(unit, "Service", "ExecStart")
        assert len(exec_start) == 1, f"{unit_name}: one ExecStart= expected"
        for key, mode_key in (("StateDirectory", "StateDirectoryMode"), ("RuntimeDirectory", "RuntimeDirectoryMode")):
            base = "var/lib" if key == "StateDirectory" else "run"
            mode = int(unit_value(unit, "Service", mode_key, "0755"), 8)
            for name in (unit_value(unit, "Service", key) or "").split():
                folder = self.root / base / name
                folder.mkdir(parents=True, exist_ok=True)
                os.chmod(folder, mode)
        return [self.rewrite(word) for word in shlex.split(exec_start[0])]


class NotifySocket:
    """The socket systemd listens on for sd_notify (NOTIFY_SOCKET): a Unix datagram socket this test binds."""

    def __init__(self, path):
        self.path = Path(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)
        self.messages = []

    def received(self):
        """Every datagram so far, each as its list of KEY=VALUE lines."""
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode().split("\n"))
            except BlockingIOError:
                return self.messages

    def count(self, line):
        return sum(1 for message in self.received() if line in message)

    def close(self):
        self.sock.close()
