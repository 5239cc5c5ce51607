"""Anthropic Messages API through the official SDK, streamed (replies are whole scripts)."""

from __future__ import annotations

import anthropic

from autoresearch.errors import ProviderError
from autoresearch.llm._errors import status_failure
from autoresearch.llm.chat import ChatRequest, Completion, RetryableError, TokenCounts
from autoresearch.llm.providers import Endpoint


class AnthropicChat:
    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        self.endpoint = endpoint
        self.provider, self.model = endpoint.provider, endpoint.model
        self._client = anthropic.Anthropic(api_key=endpoint.api_key, base_url=endpoint.base_url,
                                           timeout=timeout, max_retries=0)

    def complete(self, request: ChatRequest) -> Completion:
        # The static part is marked for prompt caching: it is the same on every call of a run.
        system = [{"type": "text", "text": request.system,
                   "cache_control": {"type": "ephemeral"}}]
        try:
            with self._client.messages.stream(
                model=self.model, max_tokens=request.max_tokens, system=system,  # type: ignore[arg-type]
                messages=[{"role": "user", "content": request.user}],
            ) as stream:
                message = stream.get_final_message()
        except anthropic.APIStatusError as exc:
            raise status_failure(self.endpoint, exc.status_code, exc.body,
                                 exc.response.headers) from None
        except anthropic.APITimeoutError:
            raise RetryableError("timed out") from None
        except anthropic.APIConnectionError as exc:
            raise RetryableError(f"connection failed: {exc.__cause__ or exc}") from None
        except anthropic.AnthropicError as exc:
            raise ProviderError(f"{self.provider}: {exc}") from None
        usage = message.usage
        text = "".join(block.text for block in message.content if block.type == "text")
        return Completion(
            text=text, truncated=message.stop_reason == "max_tokens",
            stop_reason=str(message.stop_reason), model=message.model,
            tokens=TokenCounts(input=usage.input_tokens, output=usage.output_tokens,
                               cache_write=usage.cache_creation_input_tokens or 0,
                               cache_read=usage.cache_read_input_tokens or 0),
            raw_usage=usage.model_dump(mode="json", exclude_none=True),
        )
