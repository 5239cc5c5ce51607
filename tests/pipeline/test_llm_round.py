"""LLM turns on a real table: a scripted chat model (the network edge) proposes slot code that
is validated, sandboxed and tested in the current best combo, with its cost recorded and the
study's --max-cost respected."""

from __future__ import annotations

import json

import pytest

from autoresearch.llm import Completion, PriceTable, TokenCounts
from autoresearch.llm.pricing import Price
from autoresearch.pipeline import datasets
from autoresearch.pipeline.proposer import LLMSlotProposer
from autoresearch.pipeline.strategy import LLMTurns
from autoresearch.pipeline.study import tabular_loop
from autoresearch.pipeline.table import prepare
from autoresearch.records import FailureKind, Mode, Status
from autoresearch.search import connect_llm
from autoresearch.storage import Store
from tests.pipeline.conftest import mixed_frame

GOOD = ("def build_model(problem):\n"
        "    from sklearn.linear_model import LogisticRegression\n"
        "    return LogisticRegression(C=0.5, max_iter=500)\n")
EVIL = ("def build_model(problem):\n"
        "    import subprocess\n"
        "    subprocess.run(['true'])\n")
PRICES = PriceTable("test", {"scripted": {"slot-writer": Price(3.0, 15.0)}}, frozenset())


class ScriptedChat:
    provider, model = "scripted", "slot-writer"

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.requests = list(replies), []

    def complete(self, request):
        self.requests.append(request)
        return Completion(text=self.replies.pop(0), truncated=False, stop_reason="end",
                          model=self.model, tokens=TokenCounts(input=1200, output=80),
                          raw_usage={"input_tokens": 1200, "output_tokens": 80})


def _loop(tmp_path, chat: ScriptedChat, max_cost: float | None = None):
    table = prepare(datasets.Source("mini", mixed_frame(90), "label", "test"), tmp_path, (0,),
                    folds=3)
    slots = LLMSlotProposer(chat, PRICES, table.task_name, max_tokens=1000, max_cost=max_cost)
    loop = tabular_loop(table, Store(tmp_path / "llm.db"), timeout=60, workers=1, slots=slots)
    loop.strategy.llm = LLMTurns(every=1, start=0)  # type: ignore[attr-defined]
    return loop


def test_llm_turns_validate_sandbox_cost_and_store_the_diff(tmp_path) -> None:
    replies = [
        "Here is my idea:\n" + json.dumps({"slot": "build_model", "description": "softer C",
                                            "hypothesis": "less regularisation", "code": GOOD}),
        json.dumps({"slot": "build_model", "description": "shell out", "code": EVIL}),
        "no JSON at all",
    ]
    chat = ScriptedChat(replies)
    loop = _loop(tmp_path, chat)
    try:
        loop.baseline()
        loop.run(3)
    finally:
        loop.executor.shutdown()
    llm = [e for e in loop.history() if e.proposal.mode is Mode.LLM]
    assert len(llm) == 3
    good, evil, empty = llm
    assert good.status in (Status.KEPT, Status.DISCARDED), good.reason
    assert good.metric_mean is not None and good.proposal.knobs["slots"]["build_model"] == \
        f"llm_{good.number}"
    assert good.proposal.knobs["sources"]["build_model"] == GOOD
    assert "+    return LogisticRegression(C=0.5, max_iter=500)" in good.diff
    usage = good.proposal.usage
    assert usage is not None and usage.input_tokens == 1200
    assert usage.cost_usd == pytest.approx((1200 * 3.0 + 80 * 15.0) / 1e6)
    assert evil.status is Status.INVALID and evil.failure is FailureKind.VALIDATION
    assert "subprocess" in evil.reason
    assert empty.failure is FailureKind.PROPOSAL and empty.proposal.usage is not None
    prompt = chat.requests[0].user
    assert "Per-slot rankings" in prompt and "def build_model(problem):" in prompt


def test_max_cost_stops_before_a_call_that_could_pass_it(tmp_path) -> None:
    reply = json.dumps({"slot": "build_model", "description": "softer C", "code": GOOD})
    chat = ScriptedChat([reply] * 5)
    # A call costs $0.0048 and could cost ~$0.02 (a 1000-token reply): two or three fit.
    loop = _loop(tmp_path, chat, max_cost=0.025)
    try:
        loop.baseline()
        reason = loop.run(5)
    finally:
        loop.executor.shutdown()
    assert reason.startswith("cost cap reached")
    assert 1 <= len(chat.requests) < 5
    spent = sum(e.proposal.usage.cost_usd or 0 for e in loop.history() if e.proposal.usage)
    assert spent <= 0.025


def test_a_key_without_its_sdk_falls_back_to_templates(monkeypatch) -> None:
    import autoresearch.llm as llm

    monkeypatch.setattr(llm, "sdk_installed", lambda endpoint: False)
    said: list[str] = []
    assert connect_llm("auto", env={"ANTHROPIC_API_KEY": "k"}, notify=said.append) is None
    assert said and "SDK is not installed" in said[0]
