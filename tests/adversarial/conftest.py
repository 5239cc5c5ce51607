"""Shared pieces of the adversarial suite: attack files, expectations, a host-side server."""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
# Attack files hard-code this port (they have no other way to learn it); the server binds a free
# one and the attack's code gets it substituted, since any fixed port can be taken on a CI
# machine (Ray in the other xdist worker took two in a row).
HOST_PORT = 28431
_EXPECT = re.compile(r"^# expect: (?P<status>[a-z]+)(?:/(?P<failure>[a-z_]+))?", re.M)


@dataclass(frozen=True)
class Attack:
    path: Path
    status: str
    failure: str | None

    @property
    def name(self) -> str:
        return self.path.stem


def attacks(folder: str) -> list[Attack]:
    found = []
    for path in sorted((HERE / folder).glob("*.py")):
        match = _EXPECT.search(path.read_text())
        assert match, f"{path} lacks an '# expect:' line"
        found.append(Attack(path, match["status"], match["failure"]))
    return found


class HostServer:
    """A TCP server on the host's loopback that records whatever reaches it."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0), reuse_port=False)
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(1)
                try:
                    while chunk := conn.recv(65536):
                        self.received += chunk
                except OSError:
                    pass

    def code(self, attack: Attack) -> str:
        """The attack's source, aimed at this server's port."""
        return attack.path.read_text().replace(str(HOST_PORT), str(self.port))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="session")
def host_server() -> Iterator[HostServer]:
    server = HostServer()
    yield server
    server.close()


def daemon_alive(marker: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False


@pytest.fixture(scope="session")
def small_fashion_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir holding made-up Fashion-MNIST-format data, prepared by the real loader."""
    from autoresearch.tasks.fashion_mnist import data

    from ..images.conftest import fashion_files

    root = tmp_path_factory.mktemp("attack-fashion")
    data.prepare(root / "cache", offline=True,
                 system_dir=fashion_files(root / "system", train=400, test=100))
    return root / "cache"


@pytest.fixture()
def outside_cache() -> Iterator[Path]:
    """A cache dir outside /tmp and the homes (in the current directory: the repository)."""
    path = Path(tempfile.mkdtemp(prefix=".autoresearch-test-cache-", dir=Path.cwd()))
    yield path
    shutil.rmtree(path, ignore_errors=True)
