"""The evaluator trust domain: the process that holds the sealed splits and computes the metric.

It runs no candidate Python: a seed run hands over its trained model as an exported graph
(graph.py), and a task's scoring module (tasks/*/scoring.py) scores it at the harness' own
fixed shapes, after checking that rows are independent and that language models do not look
ahead (scoring.py). client.py is the parent's side, server.py the process.
"""

# The graph format (graph.py) imports torch: it is imported where a model is exported or
# loaded, not by the parent's client, so that commands that train nothing start fast.
from autoresearch.sandbox.evaluator.client import (
           Evaluation,
           Evaluator,
           EvaluatorError,
           EvaluatorKey,
)

__all__ = ["Evaluation", "Evaluator", "EvaluatorError", "EvaluatorKey"]
