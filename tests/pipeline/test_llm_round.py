"""LLM rounds on a real table: a scripted chat model (the network edge) proposes slot code that
is validated, sandboxed and tested against the current best combo."""

from __future__ import annotations

import json

from autoresearch.llm import Completion, TokenCounts
from autoresearch.pipeline import Coordinator, datasets
from autoresearch.pipeline.proposer import LLMSlotProposer
from autoresearch.pipeline.runs import WorkerOptions
from autoresearch.pipeline.table import prepare
from autoresearch.pipeline.tabular import TabularBackend
from autoresearch.records import FailureKind, Mode, Status
from autoresearch.storage import Store
from tests.pipeline.conftest import mixed_frame

GOOD = ("def build_model(problem):\n"
        "    from sklearn.linear_model import LogisticRegression\n"
        "    return LogisticRegression(C=0.5, max_iter=500)\n")
EVIL = ("def build_model(problem):\n"
        "    import subprocess\n"
        "    subprocess.run(['true'])\n")


class ScriptedChat:
    provider, model = "scripted", "slot-writer"

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.requests = list(replies), []

    def complete(self, request):
        self.requests.append(request)
        return Completion(text=self.replies.pop(0), truncated=False, stop_reason="end",
                          model=self.model, tokens=TokenCounts(input=1200, output=80),
                          raw_usage={"input_tokens": 1200})


def test_llm_rounds_validate_sandbox_and_store_the_diff(tmp_path) -> None:
    table = prepare(datasets.Source("mini", mixed_frame(90), "label", "test"), tmp_path, (0,),
                    folds=3)
    backend = TabularBackend(table, "sklearn", WorkerOptions(timeout=60))
    replies = [
        "Here is my idea:\n" + json.dumps({"slot": "build_model", "description": "softer C",
                                            "hypothesis": "less regularisation", "code": GOOD}),
        json.dumps({"slot": "build_model", "description": "shell out", "code": EVIL}),
        "no JSON at all",
    ]
    chat = ScriptedChat(replies)
    store = Store(tmp_path / "llm.db")
    coordinator = Coordinator(backend, budget_per_round=2, store=store,
                              slot_proposer=LLMSlotProposer(chat, table.task_name))
    history = coordinator.run(n_rounds=0, llm_rounds=3)
    llm = [e for e in history if e.proposal.mode is Mode.LLM]
    assert len(llm) == 3
    good, evil, empty = llm
    assert good.status in (Status.KEPT, Status.DISCARDED), good.reason
    assert good.metric_mean is not None and good.proposal.knobs["slots"]["build_model"] == \
        f"llm_{good.number}"
    assert "+    return LogisticRegression(C=0.5, max_iter=500)" in good.diff
    assert good.proposal.usage is not None and good.proposal.usage.input_tokens == 1200
    assert evil.status is Status.INVALID and evil.failure is FailureKind.VALIDATION
    assert "subprocess" in evil.reason
    assert empty.failure is FailureKind.PROPOSAL
    prompt = chat.requests[0].user
    assert "Per-slot rankings" in prompt and "def build_model(problem):" in prompt
