# attack: hand over a graph that reads a file from the evaluator's disk (validator bypassed)
# expect: invalid/export (only allowed ATen operations, none writing, reading files or memory)
import json
import time

import torch
from safetensors.torch import save

import harness
from autoresearch.sandbox.channel import send

graph = {"format": "autoresearch-graph/1", "inputs": ["x"], "tensors": [],
         "nodes": [{"name": "y", "target": 'aten.from_file.default', "args": ["/proc/self/fd/3", False, 1024], "kwargs": {}}],
         "outputs": [{"node": "y"}]}
payload = save({}, metadata={"autoresearch-graph": json.dumps(graph)})
send(harness.core.context().channel, {"kind": "model", "declared": {"context": 64}}, payload)
time.sleep(60)
