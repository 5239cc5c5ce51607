# attack: hand over a graph that returns uninitialised memory (freed targets) (validator bypassed)
# expect: invalid/export (only allowed ATen operations, none writing, reading files or memory)
import json
import time

import torch
from safetensors.torch import save

import harness
from autoresearch.sandbox.channel import send

graph = {"format": "autoresearch-graph/1", "inputs": ["x"], "tensors": [],
         "nodes": [{"name": "y", "target": 'aten.empty.memory_format', "args": [[32, 64, 256]], "kwargs": {}}],
         "outputs": [{"node": "y"}]}
payload = save({}, metadata={"autoresearch-graph": json.dumps(graph)})
send(harness.core.context().channel, {"kind": "model", "declared": {"context": 64}}, payload)
time.sleep(60)
