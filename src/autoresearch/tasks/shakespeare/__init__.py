"""Byte-level language modelling on Shakespeare, scored in bits per byte on held-out text."""

from autoresearch.metric import Direction, Metric
from autoresearch.tasks._base import ScriptTask

TASK = ScriptTask(
    name="shakespeare",
    description="byte-level LM on Shakespeare, scored in validation bits per byte",
    metric=Metric("val_bpb", Direction.MIN),
    default_budget=30.0,
    package=__name__,
)
