"""The LLM proposer: the model writes the next candidate from the research so far."""

from __future__ import annotations

from dataclasses import dataclass

from autoresearch.analysis.study import summarize
from autoresearch.errors import CostLimitReached, ProposalError, UsageError
from autoresearch.knobs import CATEGORIES
from autoresearch.llm import ChatModel, ChatRequest, PriceTable
from autoresearch.llm.parsing import ReplyError, parse_reply
from autoresearch.llm.pricing import Price, usage_record
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Proposal
from autoresearch.search.lineage import MergePlan, merge_key
from autoresearch.search.llm_prompt import merge_prompt, system_prompt, user_prompt
from autoresearch.search.offline import parse_values
from autoresearch.search.proposer import ProposalContext

LLM_CATEGORIES = (*CATEGORIES, "other")
CHARS_PER_TOKEN = 2.5  # low on purpose: the cost cap must not under-estimate a prompt


@dataclass(frozen=True)
class LLMSettings:
    max_tokens: int = 8192  # room for a whole script plus a little prose
    max_cost: float | None = None  # USD for the whole study; None: no cap
    history_lines: int = 40
    failures_shown: int = 3
    log_chars: int = 1500
    knob_tuning: bool = True  # the offline search tunes knobs between LLM turns


class LLMProposer:
    name = "llm"
    resolves_merges = True  # a merge whose three-way merge conflicted is the model's to write

    def __init__(self, chat: ChatModel, prices: PriceTable, budget_seconds: float,
                 settings: LLMSettings | None = None) -> None:
        self.chat, self.prices, self.budget_seconds = chat, prices, budget_seconds
        self.settings = settings or LLMSettings()
        self.price = price_for(chat, prices, self.settings.max_cost)

    @property
    def description(self) -> str:
        price = "price unknown" if self.price is None else (
            f"${self.price.input:g}/${self.price.output:g} per Mtok in/out")
        return f"{self.chat.provider} {self.chat.model} ({price})"

    def propose(self, context: ProposalContext) -> Proposal:
        merge = context.suggestion if isinstance(context.suggestion, MergePlan) else None
        user = merge_prompt(context, merge) if merge is not None else user_prompt(
            context, history_lines=self.settings.history_lines,
            failures_shown=self.settings.failures_shown, log_chars=self.settings.log_chars)
        request = ChatRequest(
            system=system_prompt(context.task, context.metric, self.budget_seconds,
                                 LLM_CATEGORIES, self.settings.knob_tuning),
            user=user, max_tokens=self.settings.max_tokens)
        check_cost(context.history, context.metric, request, self.price, self.settings.max_cost)
        completion = self.chat.complete(request)
        usage = usage_record(completion, self.chat.provider, self.chat.model, self.prices)
        try:
            reply = parse_reply(completion.text, context.parent.code, categories=LLM_CATEGORIES,
                                truncated=completion.truncated,
                                max_tokens=self.settings.max_tokens)
        except ReplyError as exc:
            raise ProposalError(f"unusable reply from {self.chat.model}: {exc}", usage=usage,
                                proposer=self.name) from None
        if merge is not None:  # recorded like a plain merge, so the pair is not tried again
            return Proposal(code=reply.code, category="merge", mode=context.mode,
                            description=f"{merge.describe()} (conflicts resolved by the model: "
                                        f"{reply.description})",
                            parent_id=merge.ours.id, proposer=self.name,
                            hypothesis=merge_key(merge), knobs=parse_values(reply.code),
                            usage=usage)
        return Proposal(code=reply.code, description=reply.description, category=reply.category,
                        mode=context.mode, parent_id=context.parent.id, proposer=self.name,
                        hypothesis=reply.hypothesis, knobs=parse_values(reply.code), usage=usage)


def price_for(chat: ChatModel, prices: PriceTable, max_cost: float | None) -> Price | None:
    """The model's price; a cap cannot be enforced without one, so that is the user's error."""
    price = prices.lookup(chat.provider, chat.model)
    if max_cost is not None and price is None:
        raise UsageError(
            f"no price for {chat.provider} model {chat.model!r} in the price table "
            f"{prices.version}, so --max-cost cannot be enforced; add it to a JSON file "
            "named by AUTORESEARCH_PRICES (see README) or drop --max-cost")
    return price


def check_cost(history: tuple[Experiment, ...], metric: Metric, request: ChatRequest,
               price: Price | None, cap: float | None) -> None:
    """CostLimitReached when the study's LLM cost so far plus the worst case of this call
    could pass `cap` (USD)."""
    if cap is None or price is None:
        return
    spent = summarize(list(history), metric).cost_usd
    prompt_tokens = int((len(request.system) + len(request.user)) / CHARS_PER_TOKEN) + 64
    worst = price.worst_case(prompt_tokens, request.max_tokens)
    if spent + worst > cap:
        raise CostLimitReached(
            f"cost cap reached: spent ${spent:.4f} of --max-cost ${cap:g}, and the next call "
            f"could cost up to ${worst:.4f}; stopped before it (raise --max-cost to go on)")
