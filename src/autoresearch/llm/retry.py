"""Retries with exponential backoff around any ChatModel, honouring the provider's retry-after.

The SDKs' own retries are switched off (max_retries=0) so that every retry is reported on the
live line and a provider asking for a very long wait stops the run instead of stalling it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from autoresearch.errors import ProviderError
from autoresearch.llm.chat import ChatModel, ChatRequest, Completion, RetryableError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 60.0
    #: A provider asking to wait longer than this stops the run (it resumes later).
    max_retry_after: float = 300.0

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.max_delay, self.base_delay * 2 ** (failures - 1)) * rng.uniform(0.75, 1.0)


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


class RetryingChat:
    def __init__(self, inner: ChatModel, policy: RetryPolicy | None = None,
                 notify: Callable[[str], None] = log.warning,
                 sleep: Callable[[float], None] = time.sleep, seed: int = 0) -> None:
        self.inner, self.policy = inner, policy or RetryPolicy()
        self.notify, self.sleep = notify, sleep
        self.provider, self.model = inner.provider, inner.model
        self._rng = random.Random(seed)

    def complete(self, request: ChatRequest) -> Completion:
        attempts = self.policy.attempts
        for attempt in range(1, attempts + 1):
            try:
                return replace(self.inner.complete(request), attempts=attempt)
            except RetryableError as exc:
                if attempt == attempts:
                    raise ProviderError(
                        f"{self.provider} still failing after {attempts} attempts ({exc}); "
                        "finished experiments are saved: run the same command later to resume"
                    ) from None
                if exc.retry_after is not None and exc.retry_after > self.policy.max_retry_after:
                    raise ProviderError(
                        f"{self.provider} asks to wait {exc.retry_after:.0f}s ({exc}); finished "
                        "experiments are saved: run the same command later to resume"
                    ) from None
                wait = self.policy.delay(attempt, exc.retry_after, self._rng)
                self.notify(f"{self.provider}: {exc}; retrying in {wait:.1f}s "
                            f"(attempt {attempt + 1}/{attempts})")
                self.sleep(wait)
        raise AssertionError("unreachable")
