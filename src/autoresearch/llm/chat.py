"""The one small interface every wire protocol adapter implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ChatRequest:
    """One call: a static system part (cacheable) and the user message that changes each time."""

    system: str
    user: str
    max_tokens: int


@dataclass(frozen=True)
class TokenCounts:
    """Billing categories, disjoint: `input` excludes the tokens written to or read from a cache."""

    input: int = 0
    output: int = 0
    cache_write: int = 0
    cache_read: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    truncated: bool  # the model stopped at max_tokens: the reply is incomplete
    stop_reason: str
    model: str  # the model name the provider answered with
    tokens: TokenCounts
    raw_usage: dict[str, Any] = field(default_factory=dict)  # as the provider sent it
    attempts: int = 1


class ChatModel(Protocol):
    provider: str
    model: str

    def complete(self, request: ChatRequest) -> Completion:
        """The reply, RetryableError for a passing failure, or ProviderError for a lasting one."""
        ...


class RetryableError(Exception):
    """A failure worth retrying (rate limit, overload, 5xx, timeout, dropped connection)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
