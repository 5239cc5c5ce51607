"""OpenAI Chat Completions through the official SDK: OpenAI and every compatible server."""

from __future__ import annotations

import openai

from autoresearch.errors import ProviderError
from autoresearch.llm._errors import status_failure
from autoresearch.llm.chat import ChatRequest, Completion, RetryableError, TokenCounts
from autoresearch.llm.providers import Endpoint

NO_KEY = "not-needed"  # local servers ignore the key, the SDK insists on one


class OpenAIChat:
    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        self.endpoint = endpoint
        self.provider, self.model = endpoint.provider, endpoint.model
        self._client = openai.OpenAI(api_key=endpoint.api_key or NO_KEY,
                                     base_url=endpoint.base_url, timeout=timeout, max_retries=0)

    def complete(self, request: ChatRequest) -> Completion:
        limit = {self.endpoint.preset.max_tokens_param: request.max_tokens}
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": request.system},
                          {"role": "user", "content": request.user}],
                **limit,  # type: ignore[arg-type]
            )
        except openai.APIStatusError as exc:
            raise status_failure(self.endpoint, exc.status_code, exc.body,
                                 exc.response.headers) from None
        except openai.APITimeoutError:
            raise RetryableError("timed out") from None
        except openai.APIConnectionError as exc:
            raise RetryableError(f"connection failed: {exc.__cause__ or exc}") from None
        except openai.OpenAIError as exc:
            raise ProviderError(f"{self.provider}: {exc}") from None
        if not response.choices:
            raise RetryableError("the reply had no choices")
        choice = response.choices[0]
        usage = response.usage
        tokens = TokenCounts()
        if usage is not None:
            details = usage.prompt_tokens_details
            cached = (details.cached_tokens or 0) if details is not None else 0
            # prompt_tokens includes the cached ones; keep the categories disjoint.
            tokens = TokenCounts(input=usage.prompt_tokens - cached,
                                 output=usage.completion_tokens, cache_read=cached)
        return Completion(
            text=choice.message.content or "", truncated=choice.finish_reason == "length",
            stop_reason=str(choice.finish_reason), model=response.model or self.model,
            tokens=tokens,
            raw_usage=usage.model_dump(mode="json", exclude_none=True) if usage else {},
        )
