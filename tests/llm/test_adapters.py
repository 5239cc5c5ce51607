"""The real `anthropic` and `openai` SDKs against a local server speaking their wire protocols."""

from __future__ import annotations

import time

import pytest

from autoresearch.errors import ProviderError
from autoresearch.llm import ChatRequest, RetryPolicy, connect, resolve
from autoresearch.llm.pricing import PriceTable

from .fake_provider import Failure, FakeProvider, Reply

KEY = "sk-test-dummy-key-0123456789"
REQUEST = ChatRequest(system="You are a test.", user="Say hi.", max_tokens=512)
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=5)


def chat(provider: FakeProvider, name: str, *, policy: RetryPolicy = FAST, timeout: float = 10,
         notes: list[str] | None = None, sleeps: list[float] | None = None,
         model: str | None = None):
    env = {f"{name.upper().replace('-', '_')}_API_KEY": KEY, "OPENAI_API_KEY": KEY}
    base = provider.url if name == "anthropic" else provider.url + "/v1"
    endpoint = resolve(name, model, base, env, PriceTable.load({}).models_by_provider())
    assert endpoint is not None
    model_ = connect(endpoint, timeout=timeout, policy=policy,
                     notify=(notes if notes is not None else []).append)
    if sleeps is not None:
        model_.sleep = sleeps.append  # type: ignore[attr-defined]
    return model_


def test_anthropic_streams_a_reply_with_usage_and_caches_the_system_prompt(provider):
    provider.script = [Reply("hello " * 300, input_tokens=1500, output_tokens=612,
                             cache_write=2048, cache_read=0)]
    completion = chat(provider, "anthropic").complete(REQUEST)
    assert completion.text == "hello " * 300 and not completion.truncated
    assert completion.stop_reason == "end_turn" and completion.model == "claude-sonnet-4-6"
    tokens = completion.tokens
    assert (tokens.input, tokens.output, tokens.cache_write, tokens.cache_read) == (1500, 612,
                                                                                   2048, 0)
    assert completion.raw_usage["cache_creation_input_tokens"] == 2048
    sent = provider.received[0]
    # SDK versions differ on the header (x-api-key, or a bearer token): either carries the key
    assert sent.path == "/v1/messages"
    assert KEY in (sent.headers.get("x-api-key", ""), sent.headers.get("authorization", "")[7:])
    assert sent.body["stream"] is True and sent.body["max_tokens"] == 512
    assert sent.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent.body["messages"] == [{"role": "user", "content": "Say hi."}]


def test_anthropic_529_then_success_honours_retry_after(provider):
    provider.script = [Failure(529, "overloaded_error", "Overloaded", headers={"retry-after": "2"}),
                       Failure(200, "overloaded_error", "Overloaded", mid_stream=True),
                       Reply("ok")]
    notes: list[str] = []
    sleeps: list[float] = []
    completion = chat(provider, "anthropic", notes=notes, sleeps=sleeps).complete(REQUEST)
    assert completion.text == "ok" and completion.attempts == 3
    assert sleeps[0] == 2.0 and 0 < sleeps[1] <= 0.05  # retry-after, then backoff
    assert "529 overloaded_error" in notes[0] and "attempt 2/3" in notes[0]
    assert len(provider.received) == 3


def test_a_real_retry_after_wait_happens(provider):
    provider.script = [Failure(429, "rate_limit_error", "slow down",
                               headers={"retry-after-ms": "600"}), Reply("ok")]
    started = time.monotonic()
    assert chat(provider, "anthropic").complete(REQUEST).text == "ok"
    assert time.monotonic() - started >= 0.6


def test_anthropic_401_is_a_clear_stop_naming_the_key_variable(provider):
    provider.script = [Failure(401, "authentication_error", "invalid x-api-key")]
    with pytest.raises(ProviderError) as caught:
        chat(provider, "anthropic").complete(REQUEST)
    message = str(caught.value)
    assert "ANTHROPIC_API_KEY" in message and "401 authentication_error" in message
    assert KEY not in message and len(provider.received) == 1  # not retried


def test_persistent_overload_gives_up_after_the_attempts(provider):
    provider.default = Failure(500, "api_error", "Internal server error")
    with pytest.raises(ProviderError, match="still failing after 3 attempts"):
        chat(provider, "anthropic").complete(REQUEST)
    assert len(provider.received) == 3


def test_a_long_retry_after_stops_instead_of_stalling(provider):
    provider.script = [Failure(429, "rate_limit_error", "quota window",
                               headers={"retry-after": "3600"})]
    with pytest.raises(ProviderError, match="asks to wait 3600s"):
        chat(provider, "anthropic").complete(REQUEST)


def test_timeout_is_retried(provider):
    provider.script = [Reply("late", delay=1.5), Reply("on time")]
    completion = chat(provider, "anthropic", timeout=0.5).complete(REQUEST)
    assert completion.text == "on time" and completion.attempts == 2


def test_truncation_is_reported(provider):
    provider.script = [Reply('{"code": "import harn', truncated=True)]
    completion = chat(provider, "anthropic").complete(REQUEST)
    assert completion.truncated and completion.stop_reason == "max_tokens"


@pytest.mark.parametrize(("name", "param"), [
    ("openai", "max_completion_tokens"), ("gemini", "max_tokens"), ("openrouter", "max_tokens"),
    ("together", "max_tokens"), ("deepseek", "max_tokens"), ("ollama", "max_tokens"),
    ("openai-compatible", "max_tokens"),
])
def test_openai_compatible_presets(provider, name, param):
    provider.script = [Reply("hi", input_tokens=900, output_tokens=40, cache_read=300)]
    model = "my-model" if name == "openai-compatible" else None
    completion = chat(provider, name, model=model).complete(REQUEST)
    assert completion.text == "hi" and completion.stop_reason == "stop"
    # prompt_tokens counts the cached ones; the categories must not overlap
    assert (completion.tokens.input, completion.tokens.cache_read) == (900, 300)
    sent = provider.received[0]
    assert sent.path == "/v1/chat/completions" and sent.body[param] == 512
    assert sent.body["messages"][0] == {"role": "system", "content": "You are a test."}
    expected = "Bearer not-needed" if name == "ollama" else f"Bearer {KEY}"
    assert sent.headers["authorization"] == expected


def test_openai_quota_exhausted_is_not_retried(provider):
    provider.script = [Failure(429, "insufficient_quota", "You exceeded your current quota",
                               code="insufficient_quota")]
    with pytest.raises(ProviderError, match="out of quota"):
        chat(provider, "openai").complete(REQUEST)
    assert len(provider.received) == 1


def test_openai_rate_limit_then_success_and_unknown_model(provider):
    provider.script = [Failure(429, "requests", "Rate limit reached", code="rate_limit_exceeded",
                               headers={"retry-after": "0"}),
                       Reply("fine"),
                       Failure(404, "invalid_request_error", "The model does not exist",
                               code="model_not_found")]
    model = chat(provider, "openai")
    assert model.complete(REQUEST).text == "fine"
    with pytest.raises(ProviderError, match=r"does not know model 'gpt-5\.4'"):
        model.complete(REQUEST)


def test_openai_length_finish_is_truncation(provider):
    provider.script = [Reply("partial", truncated=True)]
    assert chat(provider, "deepseek").complete(REQUEST).truncated


def test_connection_refused_is_retried_then_reported(provider):
    env = {"ANTHROPIC_API_KEY": KEY}
    endpoint = resolve("anthropic", None, "http://127.0.0.1:9", env, {})
    assert endpoint is not None
    with pytest.raises(ProviderError, match="connection failed"):
        connect(endpoint, timeout=2, policy=FAST, notify=lambda _: None).complete(REQUEST)
