"""Serving the dashboard: checks made before binding, then uvicorn in the foreground."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from autoresearch.errors import UsageError
from autoresearch.ui.dashboard.app import create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Fail with one clear line now rather than a uvicorn traceback after start-up."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); pass --port "
                             "with a free port or --host with an address of this machine"
                             ) from None


def serve(storage: str | Path, host: str, port: int, task: str | None = None,
          refresh_seconds: float = 5.0) -> None:
    import uvicorn

    check_port(host, port)
    uvicorn.run(create_app(storage, task, refresh_seconds), host=host, port=port,
                log_level="warning", access_log=False)
