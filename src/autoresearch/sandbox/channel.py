"""The control channel between a seed run and the parent: framed messages on a socket pair.

Nothing that crosses it from the run is trusted: the run can forge any message. It carries
what only matters to the run itself (its loss curve, its step count, its own failure) and the
two events the parent times by its own clock: the request for the training data (the training
clock starts) and the hand-over of the trained model (it stops). The metric never crosses it:
the evaluator computes it from the handed-over model.

A frame is a 4-byte length, a JSON header, and ``header["payload"]`` bytes after it.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_LENGTH = struct.Struct("!I")
MAX_HEADER_BYTES = 1 << 20
MAX_PAYLOAD_BYTES = 4 << 30


class ChannelClosed(Exception):
    """The other side went away, or sent something that is not a frame."""


def pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def send(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    body = json.dumps({**header, "payload": len(payload)}).encode()
    sock.sendall(_LENGTH.pack(len(body)) + body)
    if payload:
        sock.sendall(payload)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ChannelClosed("the channel closed mid-frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    """The next frame; raises ChannelClosed at the end or on anything malformed."""
    try:
        first = sock.recv(_LENGTH.size, socket.MSG_WAITALL)
    except OSError as exc:
        raise ChannelClosed(str(exc)) from exc
    if len(first) < _LENGTH.size:
        raise ChannelClosed("the channel closed")
    (size,) = _LENGTH.unpack(first)
    if size > MAX_HEADER_BYTES:
        raise ChannelClosed(f"a frame header of {size} bytes")
    try:
        header = json.loads(_exactly(sock, size))
        length = int(header.get("payload", 0))
    except (ValueError, AttributeError, TypeError) as exc:
        raise ChannelClosed(f"a malformed frame: {exc}") from exc
    if not isinstance(header, dict) or not 0 <= length <= MAX_PAYLOAD_BYTES:
        raise ChannelClosed("a malformed frame")
    return header, _exactly(sock, length) if length else b""


def send_fd(sock: socket.socket, header: dict[str, Any], fd: int) -> None:
    """A small header with a file descriptor attached (parent -> run)."""
    body = json.dumps(header).encode()
    socket.send_fds(sock, [_LENGTH.pack(len(body)) + body], [fd])


def receive_fd(sock: socket.socket) -> tuple[dict[str, Any], int]:
    data, fds, _, _ = socket.recv_fds(sock, MAX_HEADER_BYTES, 1)
    if len(data) < _LENGTH.size or not fds:
        raise ChannelClosed("expected a descriptor from the parent")
    (size,) = _LENGTH.unpack(data[: _LENGTH.size])
    body = data[_LENGTH.size :]
    if len(body) < size:
        body += _exactly(sock, size - len(body))
    return json.loads(body), fds[0]
