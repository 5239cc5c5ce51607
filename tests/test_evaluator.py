"""The evaluator's side: the graph format (what it refuses), the shared checks, the scorings,
and the real evaluator process."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import torch
from safetensors.torch import save
from torch import nn
from torch.nn import functional as F

from autoresearch.records import FailureKind
from autoresearch.sandbox.evaluator import Evaluator, EvaluatorKey
from autoresearch.sandbox.evaluator.graph import (
    METADATA_KEY,
    GraphRejected,
    export_model,
    load_graph,
)
from autoresearch.sandbox.evaluator.scoring import (
    IntegrityFailure,
    check_rows_independent,
    strided_batches,
)
from autoresearch.sandbox.sealed import split_data_files
from autoresearch.tasks.shakespeare.scoring import EVAL_BATCH, ByteLMScoring, windows

CPU = torch.device("cpu")


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(256, 16)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 256)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.head(F.gelu(self.norm(self.emb(idx))))


def payload_of(nodes: list[dict], tensors: dict[str, torch.Tensor] | None = None,
               **extra: object) -> bytes:
    tensors = tensors or {}
    graph = {"format": "autoresearch-graph/1", "inputs": ["x"], "tensors": sorted(tensors),
             "nodes": nodes, "outputs": [{"node": nodes[-1]["name"]}] if nodes else [], **extra}
    return save(tensors, metadata={METADATA_KEY: json.dumps(graph)})


def node(target: str, args: list, name: str = "y", **kwargs: object) -> dict:
    return {"name": name, "target": target, "args": args, "kwargs": kwargs}


def test_an_exported_model_gives_the_same_outputs_in_the_evaluator():
    model = Tiny().eval()
    x = torch.randint(0, 256, (4, 8))
    graph = load_graph(export_model(model, x), CPU)
    with torch.no_grad():
        assert torch.equal(graph(x), model(x))
    assert graph.parameters == sum(p.numel() for p in model.parameters())


def test_tied_weights_and_buffers_travel_as_plain_tensors():
    class Tied(Tiny):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Linear(16, 256, bias=False)
            self.emb = nn.Embedding(256, 16)
            self.head.weight = self.emb.weight
            self.register_buffer("scale", torch.tensor(2.0), persistent=False)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            return self.head(self.emb(idx)) * self.scale

    model = Tied().eval()
    x = torch.randint(0, 256, (2, 5))
    with torch.no_grad():
        assert torch.equal(load_graph(export_model(model, x), CPU)(x), model(x))


@pytest.mark.parametrize(("target", "args", "why"), [
    ("torch.os.system", ["true"], "not allowed"),
    ("aten.from_file.default", ["/etc/hostname", False, 16], "not allowed"),
    ("aten.empty.memory_format", [[2, 2]], "not allowed"),
    ("aten.add_.Tensor", [{"node": "x"}, 1], "not allowed"),
    ("aten.name.upper", [], "not allowed"),
    ("aten.add.out", [{"node": "x"}, 1], "writes to its arguments"),
    ("aten.dropout.default", [{"node": "x"}, 0.5, True], "random"),
    ("wrap_with_set_grad_enabled", [True], "not allowed"),
    ("__import__", ["os"], "not allowed"),
])
def test_dangerous_operations_are_refused(target, args, why):
    with pytest.raises(GraphRejected, match=why):
        load_graph(payload_of([node(target, args)]), CPU)


def test_dropout_in_eval_mode_is_allowed():
    graph = load_graph(payload_of([node("aten.dropout.default", [{"node": "x"}, 0.5, False])]),
                       CPU)
    x = torch.randn(3, 4)
    assert torch.equal(graph(x), x)


@pytest.mark.parametrize("payload", [
    b"not a payload at all",
    save({}, metadata={"other": "x"}),
    save({}, metadata={METADATA_KEY: "{not json"}),
    payload_of([node("aten.add.Tensor", [{"node": "nowhere"}, 1])]),
    payload_of([node("aten.add.Tensor", [{"node": "x"}, 1], name="x")]),
    payload_of([node("aten.add.Tensor", [{"node": "x"}, 1], name="bad name")]),
    payload_of([{**node("aten.add.Tensor", [{"node": "x"}, 1]), "extra": 1}]),
    payload_of([node("aten.add.Tensor", [{"node": "x"}, {"pickle": "..."}])]),
    payload_of([node("aten.add.Tensor", [{"node": "x"}, 1])], inputs=["x", "z"]),
    payload_of([], tensors={"w": torch.zeros(1)}, format="autoresearch-graph/0"),
])
def test_malformed_payloads_are_refused(payload):
    with pytest.raises(GraphRejected):
        load_graph(payload, CPU)


def test_a_model_that_mutates_its_buffers_cannot_be_exported():
    class Counter(Tiny):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("seen", torch.zeros(()))

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            self.seen.add_(1)
            return super().forward(idx)

    with pytest.raises(GraphRejected, match="changes its own buffers"):
        export_model(Counter(), torch.randint(0, 256, (2, 4)))


def test_an_untraceable_model_gets_a_hint():
    class Branchy(Tiny):
        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            if idx.sum().item() > 10:
                return super().forward(idx)
            return super().forward(idx) * 2

    with pytest.raises(GraphRejected, match="traceable"):
        export_model(Branchy(), torch.randint(0, 256, (2, 4)))


def test_strided_batches_never_put_neighbouring_rows_together():
    rows = torch.arange(100)[:, None]
    batches, index = strided_batches(rows, 32)
    assert batches.inputs.shape == (4, 32, 1)
    for members, weights in zip(index, batches.weights, strict=True):
        real = sorted(members[weights > 0].tolist())
        assert all(b - a > 1 for a, b in itertools.pairwise(real))
    counted = index[batches.weights > 0]
    assert sorted(counted.tolist()) == list(range(100))  # every row once, padding weighs 0


def test_row_independence_catches_a_model_that_mixes_rows():
    a, b = torch.randn(8, 5), torch.randn(8, 5)
    check_rows_independent(lambda x: x * 2, a, b, (8, 5))
    with pytest.raises(IntegrityFailure, match="mixes the rows"):
        check_rows_independent(lambda x: x - x.mean(0, keepdim=True), a, b, (8, 5))


@pytest.mark.parametrize("context", [64, 100, 2])
def test_windows_predict_every_byte_once_whatever_the_context(context):
    data = torch.arange(1001) % 256
    inputs, targets, counted = windows(data.to(torch.uint8), context)
    assert inputs.shape == targets.shape == (math.ceil(1000 / context), context)
    assert counted.sum() == 1000
    assert torch.equal(targets[:, :-1], inputs[:, 1:])


def _lm_scoring(shakespeare_data) -> ByteLMScoring:
    scoring = ByteLMScoring()
    _, sealed = split_data_files(shakespeare_data.directory)
    scoring.load({p.name: p.read_bytes() for p in sealed}, CPU)
    return scoring


def test_uniform_model_scores_eight_bits_and_cheats_are_caught(shakespeare_data):
    scoring = _lm_scoring(shakespeare_data)

    def uniform(x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*x.shape, 256)

    scores = scoring.evaluate(uniform, {"context": 64})
    assert scores["val"] == pytest.approx(8.0) and scores["test"] == pytest.approx(8.0)

    def peek(x: torch.Tensor) -> torch.Tensor:
        return F.one_hot(torch.roll(x, -1, dims=1), 256).float() * 20

    with pytest.raises(IntegrityFailure, match="not causal"):
        scoring.evaluate(peek, {"context": 64})

    def neighbour(x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(*x.shape, 256)
        out[:, -1] = F.one_hot(torch.roll(x[:, 0], -1, dims=0), 256).float() * 20
        return out

    with pytest.raises(IntegrityFailure, match="mixes the rows"):
        scoring.evaluate(neighbour, {"context": 64})
    with pytest.raises(ValueError, match="context"):
        scoring.input_spec({"context": 10**6})


def test_the_evaluator_process_scores_refuses_and_survives(shakespeare_data):
    key = EvaluatorKey(scoring="autoresearch.tasks.shakespeare.scoring",
                       sealed=tuple(split_data_files(shakespeare_data.directory)[1]),
                       device="cpu", threads=1, gpu=False, gpus=None, hidden=())
    evaluator = Evaluator(key)
    try:
        model = nn.Embedding(256, 256)
        nn.init.zeros_(model.weight)
        payload = export_model(model, torch.randint(0, 256, (EVAL_BATCH, 32)))
        good = evaluator.evaluate(payload, {"context": 32}, timeout=60)
        assert good.failure is None and good.metrics["val"] == pytest.approx(8.0)
        bad = evaluator.evaluate(payload_of([node("aten.from_file.default", ["/x", 0, 1])]),
                                 {"context": 32}, timeout=60)
        assert bad.failure is FailureKind.EXPORT and "not allowed" in bad.reason
        bad_context = evaluator.evaluate(payload, {"context": 1}, timeout=60)
        assert bad_context.failure is FailureKind.EXPORT and "context" in bad_context.reason
        again = evaluator.evaluate(payload, {"context": 32}, timeout=60)
        assert again.metrics == good.metrics
    finally:
        evaluator.close()
