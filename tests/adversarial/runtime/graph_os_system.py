# attack: hand over a graph whose node calls torch.os.system (validator bypassed)
# expect: invalid/export (only allowed ATen operations, none writing, reading files or memory)
import json
import time

import torch
from safetensors.torch import save

import harness
from autoresearch.sandbox.channel import send

graph = {"format": "autoresearch-graph/1", "inputs": ["x"], "tensors": [],
         "nodes": [{"name": "y", "target": 'torch.os.system', "args": ["touch /tmp/autoresearch-escape-marker"], "kwargs": {}}],
         "outputs": [{"node": "y"}]}
payload = save({}, metadata={"autoresearch-graph": json.dumps(graph)})
send(harness.core.context().channel, {"kind": "model", "declared": {"context": 64}}, payload)
time.sleep(60)
