"""Provider presets and the choice of one from --provider / --model / --base-url / the env.

Two wire protocols cover every provider: Anthropic Messages and OpenAI Chat Completions (which
Gemini, OpenRouter, Together, DeepSeek, Ollama, vLLM and llama.cpp servers also speak).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from autoresearch.errors import UsageError


@dataclass(frozen=True)
class Preset:
    name: str
    protocol: str  # "anthropic" or "openai"
    key_env: str | None  # the environment variable holding the key
    default_model: str | None
    base_url: str | None = None  # None: the SDK's default (it honours *_BASE_URL env vars)
    key_required: bool = True
    max_tokens_param: str = "max_tokens"  # OpenAI's reasoning models take only the newer name


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("anthropic", "anthropic", "ANTHROPIC_API_KEY", "claude-sonnet-4-6"),
    Preset("openai", "openai", "OPENAI_API_KEY", "gpt-5.4",
           max_tokens_param="max_completion_tokens"),
    Preset("gemini", "openai", "GEMINI_API_KEY", "gemini-2.5-pro",
           "https://generativelanguage.googleapis.com/v1beta/openai/"),
    Preset("openrouter", "openai", "OPENROUTER_API_KEY", "anthropic/claude-sonnet-4.6",
           "https://openrouter.ai/api/v1"),
    Preset("together", "openai", "TOGETHER_API_KEY", "meta-llama/Llama-3.3-70B-Instruct-Turbo",
           "https://api.together.xyz/v1"),
    Preset("deepseek", "openai", "DEEPSEEK_API_KEY", "deepseek-chat", "https://api.deepseek.com"),
    Preset("ollama", "openai", None, "qwen2.5-coder:7b", "http://localhost:11434/v1",
           key_required=False),
    # vLLM, llama.cpp and any other server speaking Chat Completions at --base-url.
    Preset("openai-compatible", "openai", "OPENAI_API_KEY", None, key_required=False),
)}

#: Order in which a set key picks the provider when none is named.
AUTO_ORDER = ("anthropic", "openai", "gemini", "openrouter", "together", "deepseek")


@dataclass(frozen=True)
class Endpoint:
    """A resolved provider: what to call, where, and with which key (never stored or shown)."""

    preset: Preset
    model: str
    base_url: str | None
    api_key: str | None

    @property
    def provider(self) -> str:
        return self.preset.name

    def describe(self) -> str:
        where = f" at {self.base_url}" if self.base_url else ""
        key = f", key from {self.preset.key_env}" if self.api_key else ", no key"
        return f"{self.provider} {self.model}{where}{key}"

    def __repr__(self) -> str:  # keep the key out of tracebacks and logs
        return f"Endpoint({self.describe()})"


def resolve(provider: str | None, model: str | None, base_url: str | None,
            env: Mapping[str, str], models_by_provider: Mapping[str, set[str]]) -> Endpoint | None:
    """The endpoint asked for, or None when nothing names one and no key is set."""
    preset = _choose(provider, model, base_url, env, models_by_provider)
    if preset is None:
        return None
    key = env.get(preset.key_env) if preset.key_env else None
    if preset.key_required and not key:
        raise UsageError(f"--provider {preset.name} needs the environment variable "
                         f"{preset.key_env} set to an API key")
    chosen_model = model or preset.default_model
    if not chosen_model:
        raise UsageError(f"--provider {preset.name} has no default model; pass --model NAME "
                         "(the name the server expects)")
    url = base_url or preset.base_url
    if preset.name == "openai-compatible" and not url and not env.get("OPENAI_BASE_URL"):
        raise UsageError("--provider openai-compatible needs --base-url URL (e.g. "
                         "http://localhost:8000/v1)")
    return Endpoint(preset, chosen_model, url, key)


def _choose(provider: str | None, model: str | None, base_url: str | None,
            env: Mapping[str, str], models_by_provider: Mapping[str, set[str]]) -> Preset | None:
    if provider is not None:
        if provider not in PRESETS:
            raise UsageError(f"unknown --provider {provider!r}; choose one of "
                             f"{', '.join(PRESETS)}")
        return PRESETS[provider]
    if model is not None:
        owners = [p for p in AUTO_ORDER if model in models_by_provider.get(p, set())]
        if owners:
            with_key = [p for p in owners if env.get(PRESETS[p].key_env or "")]
            return PRESETS[(with_key or owners)[0]]
    if base_url is not None:
        return PRESETS["openai-compatible"]
    for name in AUTO_ORDER:
        if env.get(PRESETS[name].key_env or ""):
            return PRESETS[name]
    if model is not None:
        raise UsageError(f"cannot tell which provider serves --model {model!r}; pass "
                         f"--provider ({', '.join(PRESETS)})")
    return None
