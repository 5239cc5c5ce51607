"""A real HTTP server on 127.0.0.1 speaking the Anthropic Messages and OpenAI Chat Completions
wire protocols (JSON and SSE, usage blocks, the real error bodies and retry headers), driven by
a script of replies. The real SDKs talk to it through their base URL: only the network edge is
fake."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str | Callable[[dict[str, Any]], str]
    input_tokens: int = 1200
    output_tokens: int = 800
    cache_write: int = 0
    cache_read: int = 0
    truncated: bool = False  # stop at max_tokens / finish_reason "length"
    delay: float = 0.0  # seconds before the first byte (for timeouts)


@dataclass
class Failure:
    status: int
    kind: str  # Anthropic error type, or OpenAI error type
    message: str = "failure"
    code: str | None = None  # OpenAI error code
    headers: dict[str, str] = field(default_factory=dict)
    mid_stream: bool = False  # Anthropic: HTTP 200, then an `error` event inside the stream


Step = Reply | Failure


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class FakeProvider:
    def __init__(self, script: list[Step] | None = None, default: Step | None = None) -> None:
        self.script: list[Step] = list(script or [])
        self.default = default
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def next_step(self, received: Received) -> Step:
        with self._lock:
            self.received.append(received)
            if self.script:
                return self.script.pop(0)
        if self.default is None:
            return Failure(400, "invalid_request_error", "the test script is exhausted")
        return self.default

    @contextmanager
    def running(self) -> Iterator[FakeProvider]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                  daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            step = provider.next_step(received)
            anthropic = self.path.rstrip("/").endswith("/messages")
            if not anthropic and not self.path.rstrip("/").endswith("/chat/completions"):
                return self._json(404, {"error": {"message": f"no route {self.path}",
                                                  "type": "invalid_request_error"}})
            if isinstance(step, Failure) and not step.mid_stream:
                return self._json(step.status, _error_body(step, anthropic), step.headers)
            if isinstance(step, Reply) and step.delay:
                time.sleep(step.delay)
            if anthropic:
                return self._anthropic(step, body)
            return self._openai(step, body)

        # -- Anthropic Messages ---------------------------------------------------------
        def _anthropic(self, step: Step, body: dict[str, Any]) -> None:
            model = body.get("model", "")
            if not body.get("stream"):
                assert isinstance(step, Reply)
                return self._json(200, _anthropic_message(step, body, model, final=True))
            events: list[tuple[str, dict[str, Any]]] = []
            start = _anthropic_message(step, body, model, final=False) \
                if isinstance(step, Reply) else _anthropic_message(Reply(""), body, model, False)
            events.append(("message_start", {"type": "message_start", "message": start}))
            if isinstance(step, Failure):  # an overload in the middle of a stream
                events.append(("error", _error_body(step, anthropic=True)))
                return self._sse(events)
            text = _text(step, body)
            events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                                   "content_block": {"type": "text",
                                                                     "text": ""}}))
            events.append(("ping", {"type": "ping"}))
            for i in range(0, len(text), 400):
                events.append(("content_block_delta", {
                    "type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": text[i:i + 400]}}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
            events.append(("message_delta", {
                "type": "message_delta",
                "delta": {"stop_reason": "max_tokens" if step.truncated else "end_turn",
                          "stop_sequence": None},
                "usage": {"output_tokens": step.output_tokens}}))
            events.append(("message_stop", {"type": "message_stop"}))
            return self._sse(events)

        # -- OpenAI Chat Completions ----------------------------------------------------
        def _openai(self, step: Step, body: dict[str, Any]) -> None:
            assert isinstance(step, Reply)
            if body.get("stream"):
                return self._json(400, {"error": {"message": "this test server answers "
                                                  "stream=false only", "type":
                                                  "invalid_request_error"}})
            prompt = step.input_tokens + step.cache_read
            return self._json(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", ""), "system_fingerprint": "fp_test",
                "choices": [{"index": 0, "logprobs": None,
                             "message": {"role": "assistant", "content": _text(step, body),
                                         "refusal": None},
                             "finish_reason": "length" if step.truncated else "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": step.output_tokens,
                          "total_tokens": prompt + step.output_tokens,
                          "prompt_tokens_details": {"cached_tokens": step.cache_read,
                                                    "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0,
                                                        "audio_tokens": 0}},
            })

        # -- plumbing -------------------------------------------------------------------
        def _json(self, status: int, payload: dict[str, Any],
                  headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", "req_test")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, events: list[tuple[str, dict[str, Any]]]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.end_headers()
            for name, payload in events:
                self.wfile.write(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()
            self.close_connection = True

    return Handler


def _text(step: Reply, body: dict[str, Any]) -> str:
    return step.text(body) if callable(step.text) else step.text


def _anthropic_message(step: Reply, body: dict[str, Any], model: str,
                       final: bool) -> dict[str, Any]:
    return {
        "id": "msg_test", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": _text(step, body)}] if final else [],
        "stop_reason": ("max_tokens" if step.truncated else "end_turn") if final else None,
        "stop_sequence": None,
        "usage": {"input_tokens": step.input_tokens,
                  "cache_creation_input_tokens": step.cache_write,
                  "cache_read_input_tokens": step.cache_read,
                  "output_tokens": step.output_tokens if final else 1,
                  "service_tier": "standard"},
    }


def _error_body(failure: Failure, anthropic: bool) -> dict[str, Any]:
    if anthropic:
        return {"type": "error", "error": {"type": failure.kind, "message": failure.message},
                "request_id": "req_test"}
    return {"error": {"message": failure.message, "type": failure.kind, "param": None,
                      "code": failure.code}}


def user_prompt(body: dict[str, Any]) -> str:
    """The user message of a received request, in either protocol."""
    messages = body.get("messages", [])
    return next(m["content"] for m in messages if m["role"] == "user")
