"""Fashion-MNIST clothing classification, scored in validation error rate."""

from autoresearch.metric import Direction, Metric
from autoresearch.tasks._base import ScriptTask

TASK = ScriptTask(
    name="fashion_mnist",
    description="Fashion-MNIST 28x28 clothing images, 10 classes, scored in validation error",
    metric=Metric("error_rate", Direction.MIN),
    default_budget=60.0,
    package=__name__,
)
