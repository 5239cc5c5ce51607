"""Sorting a provider's HTTP failures into 'retry' and 'stop with a clear message'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoresearch.errors import ProviderError
from autoresearch.llm.chat import RetryableError
from autoresearch.llm.providers import Endpoint
from autoresearch.llm.retry import parse_retry_after

RETRY_STATUSES = frozenset({408, 409, 429})
RETRY_ERROR_TYPES = frozenset({"overloaded_error", "rate_limit_error", "api_error",
                               "timeout_error", "server_error"})
QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})


def error_fields(body: object) -> tuple[str, str, str]:
    """(type, code, message) from the error bodies both protocols send."""
    error: Any = body.get("error", body) if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return "", "", str(body or "")[:300]
    return (str(error.get("type") or ""), str(error.get("code") or ""),
            str(error.get("message") or "")[:300])


def status_failure(endpoint: Endpoint, status: int, body: object,
                   headers: Mapping[str, str] | None) -> Exception:
    """The exception to raise for an HTTP error status (or an error event inside a stream)."""
    kind, code, message = error_fields(body)
    what = f"{status} {kind or code}".strip() + (f": {message}" if message else "")
    if code in QUOTA_CODES:
        return ProviderError(f"{endpoint.provider} says the account is out of quota ({what}); "
                             "add credit or choose another --provider")
    if status in RETRY_STATUSES or status >= 500 or kind in RETRY_ERROR_TYPES:
        return RetryableError(what, parse_retry_after(headers))
    if status == 401:
        source = endpoint.preset.key_env or "the key"
        return ProviderError(f"{endpoint.provider} rejected the API key from {source} ({what}); "
                             f"set a valid key in {source} or choose another --provider")
    if status == 403:
        return ProviderError(f"{endpoint.provider} denied access ({what}); check the key's "
                             "permissions or choose another --model")
    if status == 404:
        return ProviderError(f"{endpoint.provider} does not know model {endpoint.model!r} or "
                             f"the URL ({what}); check --model and --base-url")
    return ProviderError(f"{endpoint.provider} refused the request ({what}); check --model, "
                         "--max-tokens and --base-url")
