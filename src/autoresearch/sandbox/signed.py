"""Signed result lines (HMAC-signed JSON on an inherited pipe), used by the tabular workers.

The child signs with a key it read from its spec (then deleted); the parent accepts only lines
whose signature verifies, so printing, or writing garbage into the pipe, forges nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any


def signer(fd: int, key: bytes) -> Callable[[dict[str, Any]], None]:
    stream = os.fdopen(fd, "wb", buffering=0)

    def send(message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        tag = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
        stream.write(b"\n" + tag + b" " + body + b"\n")

    return send


class SignedReader(threading.Thread):
    """Drains the result pipe; keeps only lines that carry a valid signature."""

    def __init__(self, fd: int, key: bytes, cap: int = 4 * 1024 * 1024) -> None:
        super().__init__(daemon=True)
        self.fd, self.key, self.cap = fd, key, cap
        self.messages: list[dict[str, Any]] = []

    def run(self) -> None:
        buffer = b""
        with os.fdopen(self.fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer = (buffer + chunk)[-self.cap :]
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._accept(line)
        self._accept(buffer)

    def _accept(self, line: bytes) -> None:
        tag, _, body = line.partition(b" ")
        expected = hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()
        if body and hmac.compare_digest(tag, expected):
            try:
                message = json.loads(body)
            except ValueError:
                return
            # When it arrived, by our clock: the candidate cannot fake that.
            message["received_at"] = time.monotonic()
            self.messages.append(message)

    def last(self, *kinds: str) -> dict[str, Any] | None:
        found = [m for m in self.messages if m.get("kind") in kinds]
        return found[-1] if found else None
