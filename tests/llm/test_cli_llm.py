"""`autoresearch run` end to end with an LLM provider: the real CLI in a subprocess, the real
Anthropic SDK, a local server speaking the Messages API, seconds of real training."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from autoresearch.storage import Store
from autoresearch.tasks import get_task

from ..conftest import baseline_with, run_cli
from .fake_provider import Failure, FakeProvider, Reply

pytestmark = pytest.mark.slow

KEY = "sk-ant-dummy-e2e-key-4242"
SMALL = baseline_with(N_LAYER=1, N_EMBD=32)
# The model's first candidate also prints its whole environment, through a path the validator
# cannot see: the key must not be in it.
SILU = SMALL.replace("nn.GELU()", "nn.SiLU()").replace(
    "harness.evaluate(", 'print(open("/" + "proc/self/environ").read().replace('
    '"\\0", "\\n"))\nharness.evaluate(')
DROPOUT_EDIT = ("Halve the dropout in the blocks.\n\n<<<<<<< SEARCH\n"
                "        self.drop = nn.Dropout(DROPOUT)\n=======\n"
                "        self.drop = nn.Dropout(DROPOUT * 0.5)\n>>>>>>> REPLACE\n")


def answer(code: str, description: str = "SiLU activations in a 1-layer model") -> str:
    return "Here is the next experiment.\n```json\n" + json.dumps({
        "description": description, "category": "architectural",
        "hypothesis": "a cheaper model trains more steps in the budget", "code": code}) + "\n```"


def llm_env(cli_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in cli_env.items() if not k.endswith("_API_KEY")}
    env["ANTHROPIC_API_KEY"] = KEY
    return env


def run(env, provider: FakeProvider, *extra: str):
    return run_cli(["run", "--task", "shakespeare", "--provider", "anthropic", "--base-url",
                    provider.url, "--train-seconds", "1", "--seeds", "42", *extra], env)


def stored(env):
    store = Store(env["AUTORESEARCH_STORAGE"], create=False)
    study = store.studies("shakespeare")[-1]
    return store.experiments(study)


def test_run_with_anthropic_retries_records_tokens_and_cost(cli_env, provider, tmp_path):
    env = llm_env(cli_env)
    provider.script = [Failure(529, "overloaded_error", "Overloaded",
                               headers={"retry-after": "0.2"}),
                       Reply(answer(SILU), input_tokens=4100, output_tokens=1900,
                             cache_write=2300),
                       Reply(DROPOUT_EDIT, input_tokens=4200, output_tokens=300,
                             cache_read=2300)]
    provider.default = Reply("Sorry, I have no further ideas.", input_tokens=4000,
                             output_tokens=12, cache_read=2300)
    out = run(env, provider, "--max-experiments", "5", "--max-cost", "2")
    assert out.returncode == 0, out.stderr + out.stdout
    text = " ".join(out.stdout.split())
    assert "hybrid: anthropic claude-sonnet-4-6" in text
    assert "529 overloaded_error" in text and "retrying in 0.2s" in text
    assert re.search(r"anthropic/claude-sonnet-4-6: [\d,]+ in / [\d,]+ out tokens, \$\d\.\d{4}, "
                     r"total \$\d\.\d{4}", text)

    experiments = stored(env)
    assert len(experiments) == 6  # the baseline and five
    llm = [e for e in experiments if e.proposal.usage is not None]
    assert [e.proposal.proposer for e in llm] == ["llm"] * len(llm)
    assert len(llm) == len(provider.received) - 1  # every call but the 529 left a record
    first = llm[0]
    assert first.code == SILU and first.proposal.description.startswith("SiLU")
    # It really trained: its full seed runs, or only its screening run when that ended it.
    runs = first.seed_runs or first.screens
    assert first.status.finished and runs
    assert "OMP_NUM_THREADS=" in runs[0].log_tail  # its environment, keyless
    usage = first.proposal.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_write_tokens) == (4100, 1900,
                                                                                  2300)
    assert usage.cost_usd == pytest.approx((4100 * 3 + 1900 * 15 + 2300 * 3.75) / 1e6)
    assert usage.raw["attempts"] == 2 and usage.raw["usage"]["input_tokens"] == 4100
    if len(llm) > 1:  # the edit block, applied to whichever parent the strategy picked
        parent = next(e for e in experiments if e.id == llm[1].proposal.parent_id)
        assert llm[1].code == parent.code.replace("nn.Dropout(DROPOUT)",
                                                  "nn.Dropout(DROPOUT * 0.5)")
    for e in llm[2:]:
        assert e.failure is not None and e.failure.value == "proposal"
        assert "no JSON object" in e.reason and e.proposal.usage.cost_usd > 0
    offline = [e for e in experiments[1:] if e.proposal.usage is None]
    assert offline and all(e.proposal.proposer.startswith("offline:") for e in offline)

    # the system prompt went out marked for caching, the key only as the credential
    sent = provider.received[1]
    assert sent.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent.body["model"] == "claude-sonnet-4-6"
    total = sum(e.proposal.usage.cost_usd for e in llm)
    status = run_cli(["status", "--task", "shakespeare"], env)
    assert status.returncode == 0 and "Σ cost" in status.stdout
    assert f"cost ${total:.4f}" in status.stdout
    target = tmp_path / "results.csv"
    assert run_cli(["export", "--task", "shakespeare", "-o", str(target)], env).returncode == 0
    rows = list(csv.DictReader(target.open()))
    assert float(rows[-1]["cost_cumulative_usd"]) == pytest.approx(total, abs=1e-6)
    assert rows[llm[0].number]["llm_model"] == "anthropic/claude-sonnet-4-6"
    store_bytes = Path(env["AUTORESEARCH_STORAGE"]).read_bytes().decode("latin-1")
    for blob in (out.stdout, out.stderr, status.stdout, target.read_text(), store_bytes):
        assert KEY not in blob


def test_max_cost_stops_before_the_call_that_could_exceed_it(cli_env, provider):
    env = llm_env(cli_env)
    # Usage a real API could send with --max-tokens 2000: about $0.045 a call, at most ~$0.05.
    provider.default = Reply(answer(SILU), input_tokens=5000, output_tokens=2000)
    args = ("--proposer", "llm", "--max-experiments", "10", "--max-tokens", "2000",
            "--max-cost", "0.12")
    out = run(env, provider, *args)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "cost cap reached" in out.stdout and "raise --max-cost" in out.stdout
    llm = [e for e in stored(env) if e.proposal.usage is not None]
    spent = sum(e.proposal.usage.cost_usd for e in llm)
    assert 1 <= len(llm) < 10 and len(llm) == len(provider.received)
    assert spent <= 0.12
    assert all(r.body["max_tokens"] == 2000 for r in provider.received)
    # Resuming counts what the study already spent: no call is made.
    again = run(env, provider, *args)
    assert again.returncode == 0 and "cost cap reached" in again.stdout
    assert len(provider.received) == len(llm)


def test_a_rejected_key_stops_with_a_clear_message_and_loses_nothing(cli_env, provider):
    env = llm_env(cli_env)
    provider.script = [Failure(401, "authentication_error", "invalid x-api-key")]
    out = run(env, provider, "--max-experiments", "3")
    assert out.returncode == 6, out.stderr + out.stdout
    message = " ".join(out.stderr.split())
    assert "rejected the API key from ANTHROPIC_API_KEY" in message and "401" in message
    assert "Traceback" not in out.stderr and KEY not in out.stderr + out.stdout
    experiments = stored(env)
    assert [e.proposal.mode.value for e in experiments] == ["baseline"]
    assert experiments[0].status.value == "kept" and len(provider.received) == 1


def test_llm_without_a_provider_says_how_to_get_one(cli_env):
    env = {k: v for k, v in cli_env.items() if not k.endswith("_API_KEY")}
    out = run_cli(["run", "--task", "shakespeare", "--proposer", "hybrid"], env)
    assert out.returncode == 2 and "ANTHROPIC_API_KEY" in out.stderr
    assert get_task("shakespeare").name == "shakespeare"
