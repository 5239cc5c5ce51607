"""CIFAR-10 image classification, scored in validation error rate."""

from autoresearch.metric import Direction, Metric
from autoresearch.tasks._base import ScriptTask

TASK = ScriptTask(
    name="cifar10",
    description="CIFAR-10 32x32 colour images, 10 classes, scored in validation error",
    metric=Metric("error_rate", Direction.MIN),
    default_budget=60.0,
    package=__name__,
)
