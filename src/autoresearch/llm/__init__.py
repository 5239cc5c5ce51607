"""LLM access: provider presets, one adapter per wire protocol, retries, prices, prompts."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable

from autoresearch.errors import UsageError
from autoresearch.llm.chat import ChatModel, ChatRequest, Completion, RetryableError, TokenCounts
from autoresearch.llm.pricing import Price, PriceTable
from autoresearch.llm.providers import PRESETS, Endpoint, Preset, resolve
from autoresearch.llm.retry import RetryingChat, RetryPolicy

__all__ = ["PRESETS", "ChatModel", "ChatRequest", "Completion", "Endpoint", "Preset", "Price",
           "PriceTable", "RetryPolicy", "RetryableError", "RetryingChat", "TokenCounts",
           "connect", "resolve", "sdk_installed"]

DEFAULT_TIMEOUT = 600.0  # seconds per call; a whole script can take minutes to write


def sdk_installed(endpoint: Endpoint) -> bool:
    return importlib.util.find_spec(endpoint.preset.protocol) is not None


def connect(endpoint: Endpoint, *, timeout: float = DEFAULT_TIMEOUT,
            policy: RetryPolicy | None = None,
            notify: Callable[[str], None] | None = None) -> ChatModel:
    """The adapter for the endpoint's wire protocol, wrapped in retries."""
    try:
        if endpoint.preset.protocol == "anthropic":
            from autoresearch.llm._anthropic import AnthropicChat as Adapter
        else:
            from autoresearch.llm._openai import OpenAIChat as Adapter  # type: ignore[assignment]
    except ImportError as exc:
        raise UsageError(f"the {endpoint.preset.protocol} SDK is not installed ({exc.name}); "
                         "run pip install 'autoresearch[llm]'") from None
    return RetryingChat(Adapter(endpoint, timeout), policy,
                        notify=notify or logging.getLogger(__name__).warning)
