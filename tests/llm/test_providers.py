"""Choosing the provider from --provider / --model / --base-url and the keys that are set."""

from __future__ import annotations

import pytest

from autoresearch.errors import UsageError
from autoresearch.llm.pricing import PriceTable
from autoresearch.llm.providers import resolve

MODELS = PriceTable.load({}).models_by_provider()


def pick(provider=None, model=None, base_url=None, **env):
    return resolve(provider, model, base_url, env, MODELS)


def test_no_key_and_nothing_named_means_no_provider():
    assert pick() is None


def test_the_first_key_set_picks_the_provider():
    endpoint = pick(OPENAI_API_KEY="o", DEEPSEEK_API_KEY="d")
    assert (endpoint.provider, endpoint.model, endpoint.api_key) == ("openai", "gpt-5.4", "o")
    endpoint = pick(ANTHROPIC_API_KEY="a", OPENAI_API_KEY="o")
    assert (endpoint.provider, endpoint.model) == ("anthropic", "claude-sonnet-4-6")


def test_the_model_picks_the_provider_that_serves_it():
    endpoint = pick(model="gemini-2.5-flash", ANTHROPIC_API_KEY="a", GEMINI_API_KEY="g")
    assert (endpoint.provider, endpoint.model, endpoint.api_key) == ("gemini", "gemini-2.5-flash",
                                                                    "g")
    assert endpoint.base_url.startswith("https://generativelanguage.googleapis.com")


def test_a_base_url_alone_means_an_openai_compatible_server_without_a_key():
    endpoint = pick(model="smollm2", base_url="http://127.0.0.1:8000/v1")
    assert endpoint.provider == "openai-compatible" and endpoint.api_key is None
    assert endpoint.base_url == "http://127.0.0.1:8000/v1"


def test_ollama_needs_no_key():
    endpoint = pick("ollama")
    assert endpoint.base_url == "http://localhost:11434/v1" and endpoint.api_key is None


@pytest.mark.parametrize(("args", "env", "message"), [
    (("nope",), {}, "unknown --provider 'nope'"),
    (("gemini",), {}, "GEMINI_API_KEY"),
    (("openai-compatible",), {}, "--model"),
    (("openai-compatible", "m"), {}, "--base-url"),
    ((None, "mystery-model"), {}, "cannot tell which provider"),
])
def test_bad_choices_say_what_to_do(args, env, message):
    with pytest.raises(UsageError, match=message):
        pick(*args, **env)


def test_the_key_never_shows_in_descriptions():
    endpoint = pick("anthropic", ANTHROPIC_API_KEY="sk-ant-secret")
    assert "sk-ant-secret" not in endpoint.describe() and "sk-ant-secret" not in repr(endpoint)
    assert "ANTHROPIC_API_KEY" in endpoint.describe()
