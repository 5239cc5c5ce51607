"""The LLM and hybrid proposers on synthetic histories, with the real SDK and a local server."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import jinja2
import pytest

from autoresearch.errors import CostLimitReached, ProposalError, UsageError
from autoresearch.knobs import apply_knobs, parse_knobs
from autoresearch.llm import RetryPolicy, connect, resolve
from autoresearch.llm.pricing import PriceTable
from autoresearch.llm.prompts import render
from autoresearch.records import Experiment, FailureKind, LLMUsage, Mode, Proposal, SeedRun, Status
from autoresearch.search import OfflineProposer, ProposalContext
from autoresearch.search.hybrid import HybridProposer
from autoresearch.search.lineage import merge_candidates, merge_key
from autoresearch.search.llm import LLMProposer, LLMSettings
from autoresearch.search.offline import parse_values
from autoresearch.search.strategy import Strategy
from autoresearch.tasks import get_task

from .fake_provider import FakeProvider, Reply, user_prompt

TASK = get_task("shakespeare")
CODE = TASK.baseline_source()
NEW = CODE.replace("nn.GELU()", "nn.SiLU()")
KEY = "sk-ant-test-secret"


def exp(number: int, status: Status, metric: float | None, *, proposer: str = "offline",
        code: str = CODE, failure: FailureKind | None = None, log: str = "",
        cost: float | None = None, mode: Mode = Mode.INCREMENTAL,
        parent: int | None = None) -> Experiment:
    runs = (SeedRun(seed=42, failure=failure, metric=metric, log_tail=log),)
    usage = None if cost is None else LLMUsage(model="anthropic/claude-sonnet-4-6",
                                               cost_usd=cost)
    proposal = Proposal(code=code, description=f"change {number}", category="optimizer",
                        mode=mode, parent_id=parent, proposer=proposer, knobs=parse_values(code),
                        usage=usage)
    return Experiment(id=number + 100, study_id=1, number=number, proposal=proposal, diff="",
                      status=status, failure=failure,
                      reason=f"seed 42: {failure.value}" if failure else "", seed_runs=runs)


def history() -> list[Experiment]:
    return [exp(0, Status.KEPT, 3.0, proposer="baseline", mode=Mode.BASELINE),
            exp(1, Status.KEPT, 2.9),
            exp(2, Status.CRASHED, None, proposer="llm", failure=FailureKind.CRASH,
                log="Traceback...\x1b[31mRuntimeError: shape mismatch\x1b[0m\x07", parent=101,
                code=CODE.replace("N_LAYER = 3", "N_LAYER = 5"))]


def context(items: list[Experiment], number: int = 3, mode: Mode = Mode.INCREMENTAL):
    return ProposalContext(task=TASK, metric=TASK.metric, mode=mode, parent=items[1],
                           history=tuple(items), number=number)


def proposer(server: FakeProvider, **settings) -> LLMProposer:
    endpoint = resolve("anthropic", None, server.url, {"ANTHROPIC_API_KEY": KEY}, {})
    chat = connect(endpoint, timeout=10, policy=RetryPolicy(attempts=2, base_delay=0.01),
                   notify=lambda _: None)
    return LLMProposer(chat, PriceTable.load({}), budget_seconds=30,
                       settings=LLMSettings(**settings))


def answer(code: str = NEW) -> str:
    return "```json\n" + json.dumps({"description": "SiLU instead of GELU",
                                     "category": "architectural",
                                     "hypothesis": "smoother gradients", "code": code}) + "\n```"


def test_prompts_carry_rules_task_history_failures_and_parent(provider):
    provider.script = [Reply(answer(), input_tokens=3000, output_tokens=1500, cache_write=2000)]
    proposal = proposer(provider).propose(context(history()))
    sent = provider.received[0].body
    system = sent["system"][0]["text"]
    assert "harness.evaluate" in system and "30 seconds" in system
    assert TASK.prompt_section().strip()[:200] in system and "val_bpb" in system
    assert "lower is better" in system and "Optuna" in system
    user = user_prompt(sent)
    assert "Mode: incremental" in user and "Best so far: experiment 1, val_bpb = 2.9000" in user
    # What each experiment changed, in entities rather than a diff.
    assert "2 | llm | incremental | optimizer | change 2 | ~N_LAYER (3 -> 5) | - | " \
        "crashed (crash)" in user
    assert "RuntimeError: shape mismatch" in user and "\x1b" not in user and "\x07" not in user
    assert CODE.rstrip() in user
    assert KEY not in json.dumps(sent)
    # the proposal is the reply's code, with the usage and its price
    assert proposal.code == NEW and proposal.proposer == "llm"
    assert (proposal.description, proposal.category) == ("SiLU instead of GELU", "architectural")
    assert proposal.knobs == parse_values(NEW) and proposal.parent_id == 101
    usage = proposal.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_write_tokens) == (3000, 1500,
                                                                                  2000)
    assert usage.cost_usd == pytest.approx((3000 * 3 + 1500 * 15 + 2000 * 3.75) / 1e6)
    assert usage.raw["price_table"] and usage.raw["usage"]["input_tokens"] == 3000


@pytest.mark.parametrize("mode", [Mode.EXPLORATION, Mode.DIVERSIFICATION])
def test_modes_ask_for_different_things(provider, mode):
    provider.script = [Reply(answer())]
    proposer(provider).propose(context(history(), mode=mode))
    assert f"Mode: {mode.value}" in user_prompt(provider.received[0].body)


def test_an_unusable_reply_is_a_proposal_error_that_keeps_its_cost(provider):
    provider.script = [Reply("I think we should use more layers.", input_tokens=100,
                             output_tokens=10)]
    with pytest.raises(ProposalError) as caught:
        proposer(provider).propose(context(history()))
    assert "no JSON object" in str(caught.value) and caught.value.proposer == "llm"
    assert caught.value.usage.cost_usd == pytest.approx((100 * 3 + 10 * 15) / 1e6)


def test_cost_cap_stops_before_the_call(provider):
    provider.script = [Reply(answer())]
    spent = [*history(), exp(3, Status.DISCARDED, 2.95, proposer="llm", cost=0.45)]
    capped = proposer(provider, max_cost=0.5, max_tokens=8192)  # next call: up to ~$0.13
    with pytest.raises(CostLimitReached, match=r"spent \$0.4500 of --max-cost \$0.5"):
        capped.propose(context(spent, number=4))
    assert provider.received == []  # no call was made
    roomy = proposer(provider, max_cost=0.7, max_tokens=8192)
    assert roomy.propose(context(spent, number=4)).code == NEW


def test_max_cost_needs_a_known_price(provider):
    endpoint = resolve("openai-compatible", "mystery", provider.url + "/v1", {}, {})
    chat = connect(endpoint, timeout=5)
    with pytest.raises(UsageError, match="no price for openai-compatible model 'mystery'"):
        LLMProposer(chat, PriceTable.load({}), 30, LLMSettings(max_cost=1.0))
    provider.script = [Reply(answer())]
    usage = LLMProposer(chat, PriceTable.load({}), 30).propose(context(history())).usage
    assert usage.cost_usd is None and "cost unknown" in usage.raw["note"]


def test_templates_refuse_missing_variables():
    with pytest.raises(jinja2.UndefinedError):
        render("user.md.j2", number=1, mode="incremental")


def test_hybrid_tunes_a_kept_llm_change_then_alternates(provider):
    provider.default = Reply(answer())
    hybrid = HybridProposer(proposer(provider), OfflineProposer(seed=0), tune_after_keep=2,
                            offline_every=3)
    base = history()[:2]
    llm_kept = exp(2, Status.KEPT, 2.8, proposer="llm", code=NEW)
    # right after a kept LLM change: offline, on that code's knobs even if another parent was
    # planned
    first = hybrid.propose(context([*base, llm_kept], number=4))
    assert first.proposer.startswith("offline:") and first.parent_id == llm_kept.id
    assert "nn.SiLU()" in first.code
    tuned = exp(3, Status.DISCARDED, 2.85, code=first.code)
    second = hybrid.propose(context([*base, llm_kept, tuned], number=5))
    assert second.proposer.startswith("offline:")
    done = [*base, llm_kept, tuned, exp(4, Status.DISCARDED, 2.9)]
    assert hybrid.propose(context(done, number=7)).proposer == "llm"
    assert hybrid.propose(context(done, number=9)).proposer.startswith("offline:")  # every 3rd
    assert len(provider.received) == 1


def test_hybrid_gives_the_turn_to_the_model_when_there_is_nothing_to_tune(provider):
    provider.default = Reply(answer(CODE.replace("nn.GELU()", "nn.ReLU()")))
    no_knobs = "import harness\nharness.evaluate(None)\n"
    items = [exp(0, Status.KEPT, 3.0, proposer="baseline", mode=Mode.BASELINE, code=no_knobs),
             exp(1, Status.KEPT, 2.9, code=no_knobs)]
    hybrid = HybridProposer(proposer(provider), OfflineProposer(seed=0))
    assert hybrid.propose(context(items, number=3)).proposer == "llm"


def test_knob_annotations_in_model_code_feed_the_offline_search():
    knobs = parse_knobs(NEW)
    assert apply_knobs(NEW, knobs, {"N_LAYER": 5}).count("N_LAYER = 5") == 1


class _ProjectLike:
    """A task without a harness, like a user's project folder."""

    name = "mine"
    harness_module = None

    def prompt_section(self) -> str:
        return "## Task: mine\nThe command prints `loss: <number>`."


def test_tasks_without_a_harness_get_rules_that_fit_them():
    from autoresearch.search.llm_prompt import system_prompt

    text = " ".join(system_prompt(_ProjectLike(), TASK.metric, 60, ("other",),  # type: ignore[arg-type]
                                  knob_tuning=False).split())
    assert "harness" not in text and "The command prints `loss" in text
    assert "never change it, fake it or print it yourself" in text and "Optuna" not in text


def test_a_merge_whose_three_way_merge_conflicts_is_written_by_the_model(provider):
    """Entity-disjoint changes on neighbouring lines, one adding a line: merge3 cannot combine
    them, the offline search skips them, a model resolves them."""
    ancestor = exp(1, Status.KEPT, 2.9, parent=100)
    ours = exp(2, Status.KEPT, 2.8, parent=101, code=CODE.replace(
        "N_EMBD = 64  #", "USE_ROPE = True\nN_EMBD = 64  #"))
    theirs = exp(3, Status.KEPT, 2.85, parent=101, code=CODE.replace("N_EMBD = 64", "N_EMBD = 96"))
    items = [history()[0], ancestor, ours, theirs]
    plan = next(iter(merge_candidates(items, [ours, theirs])))
    assert plan.code is None
    offline = Strategy(TASK.metric).plan(items, 4, random.Random(0))
    assert offline.mode is not Mode.MERGE  # without a model the pair is skipped
    planned = Strategy(TASK.metric, resolve_conflicts=True).plan(items, 4, random.Random(0))
    assert planned.mode is Mode.MERGE and planned.suggestion == plan
    both = ours.code.replace("N_EMBD = 64", "N_EMBD = 96")
    provider.script = [Reply(answer(both))]
    ctx = ProposalContext(task=TASK, metric=TASK.metric, mode=Mode.MERGE, parent=ours,
                          history=tuple(items), number=4, suggestion=plan)
    proposal = HybridProposer(proposer(provider), OfflineProposer()).propose(ctx)
    user = user_prompt(provider.received[0].body)
    assert "Mode: merge" in user and "<<<<<<< experiment 2" in user
    assert "+USE_ROPE = True" in user and "+N_EMBD = 96" in user
    assert proposal.code == both and proposal.mode is Mode.MERGE
    assert proposal.parent_id == ours.id and proposal.hypothesis == merge_key(plan)
    assert proposal.description.startswith("merge of #2 and #3 (conflicts resolved by the model")
    # Recorded, the pair is not proposed again.
    merged = exp(4, Status.DISCARDED, 2.86, proposer="llm", mode=Mode.MERGE, code=both,
                 parent=ours.id)
    merged = replace(merged, proposal=replace(merged.proposal, hypothesis=proposal.hypothesis))
    again = Strategy(TASK.metric, resolve_conflicts=True).plan([*items, merged], 5,
                                                                random.Random(0))
    assert again.mode is not Mode.MERGE
