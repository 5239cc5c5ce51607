"""A trained model as data: an exported graph of ATen operations plus its tensors.

The candidate's process exports its model with ``torch.export`` and writes it in this format
(:func:`export_model`); the evaluator reads it back (:func:`load_graph`) without running any of
the candidate's Python. The format is ours, not ``torch.export.save``'s: loading that one
unpickles (torch's own docs: never load it from an untrusted source) and resolves operator
names by walking attributes from ``torch`` (``torch.os.system`` would resolve). Here:

- tensors travel as safetensors (raw bytes and a header; no pickle);
- the graph is JSON: inputs, nodes ``{"name", "target", "args", "kwargs"}``, outputs;
- a target must be an ATen operator on :data:`ALLOWED_OPS` (or ``getitem``), with no argument
  it writes to, no uninitialised memory, no file or process access, and no randomness;
- nothing in the graph can keep state between calls: operators cannot mutate, and every
  call starts from the same tensors.

Everything the evaluator rejects raises :class:`GraphRejected` with a reason a model author
can act on.
"""

from __future__ import annotations

import json
import math
import operator
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

FORMAT = "autoresearch-graph/1"
METADATA_KEY = "autoresearch-graph"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
TARGET = re.compile(r"^aten\.([a-z_][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
MAX_NODES = 20_000

# Standard tensor math, layers and shape operations, and the functional forms that
# functionalisation writes for in-place code. Deliberately absent: anything returning
# uninitialised memory (empty*, new_empty*), unchecked indexing (_unsafe_index*), storage and
# file access (set_, from_file), in-place and out= variants (refused by schema as well).
ALLOWED_OPS = frozenset((
    "_assert_tensor_metadata", "_log_softmax", "_native_batch_norm_legit_no_training",
    "_softmax", "_to_copy", "_unsafe_view", "abs", "acos", "acosh", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "add", "addcdiv",
    "addcmul", "addmm", "alias", "alias_copy", "all", "alpha_dropout", "amax", "amin", "any",
    "arange", "argmax", "argmin", "as_strided", "as_strided_scatter", "asin", "asinh", "atan",
    "atan2", "atanh", "avg_pool1d", "avg_pool2d", "baddbmm", "batch_norm", "bilinear",
    "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "bmm", "broadcast_to",
    "bucketize", "cat", "cdist", "ceil", "celu", "chunk", "clamp", "clamp_max", "clamp_min",
    "clip", "clone", "col2im", "constant_pad_nd", "contiguous", "conv1d", "conv2d",
    "conv_transpose1d", "conv_transpose2d", "convolution", "copy", "cos", "cosh",
    "cosine_similarity", "cummax", "cummin", "cumprod", "cumsum", "detach", "detach_copy",
    "diag", "diagonal", "diagonal_scatter", "div", "dot", "dropout", "einsum", "elu",
    "embedding", "embedding_bag", "eq", "erf", "erfc", "erfinv", "exp", "exp2", "expand",
    "expand_as", "expand_copy", "expm1", "eye", "feature_dropout", "fill", "flatten", "flip",
    "floor", "floor_divide", "fmod", "frac", "full", "full_like", "gather", "ge", "gelu",
    "glu", "group_norm", "gru", "gt", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "im2col", "index", "index_add", "index_copy", "index_fill", "index_put", "index_select",
    "instance_norm", "isfinite", "isinf", "isnan", "layer_norm", "le", "leaky_relu", "lerp",
    "lift_fresh_copy", "linalg_vector_norm", "linear", "linspace", "log", "log10", "log1p",
    "log2", "log_sigmoid", "log_softmax", "logaddexp", "logcumsumexp", "logical_and",
    "logical_not", "logical_or", "logical_xor", "logit", "logsumexp", "lstm", "lt",
    "masked_fill", "masked_scatter", "matmul", "max", "max_pool1d", "max_pool2d",
    "max_pool2d_with_indices", "maximum", "mean", "min", "minimum", "mish", "mm", "movedim",
    "mul", "mv", "nan_to_num", "narrow", "native_batch_norm", "native_dropout",
    "native_group_norm", "native_layer_norm", "ne", "neg", "new_full", "new_ones", "new_zeros",
    "norm", "one_hot", "ones", "ones_like", "outer", "pad", "pairwise_distance", "permute",
    "permute_copy", "pixel_shuffle", "pow", "prelu", "prod", "reciprocal", "relu", "relu6",
    "remainder", "repeat", "repeat_interleave", "reshape", "rms_norm", "rnn_relu", "rnn_tanh",
    "roll", "round", "rsqrt", "rsub", "scalar_tensor", "scaled_dot_product_attention",
    "scatter", "scatter_add", "scatter_reduce", "searchsorted", "select", "select_copy",
    "select_scatter", "selu", "sigmoid", "sign", "silu", "sin", "sinh", "slice", "slice_copy",
    "slice_scatter", "softmax", "softplus", "softshrink", "sort", "split",
    "split_copy", "split_with_sizes", "split_with_sizes_copy", "sqrt", "square", "squeeze",
    "squeeze_copy", "stack", "std", "std_mean", "sub", "sum", "t", "t_copy", "tan", "tanh",
    "tensor_split", "threshold", "tile", "to", "topk", "transpose", "transpose_copy", "tril",
    "triu", "trunc", "type_as", "unbind", "unbind_copy", "unflatten", "unfold", "unsqueeze",
    "unsqueeze_copy", "upsample_bilinear2d", "upsample_nearest2d", "var", "var_mean", "view",
    "view_as", "view_copy", "where", "xlogy", "zero", "zeros", "zeros_like",
))

_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
    torch.int16, torch.int8, torch.uint8, torch.bool)}
_LAYOUTS = {"strided": torch.strided}
_MEMORY_FORMATS = {"contiguous_format": torch.contiguous_format,
                   "preserve_format": torch.preserve_format,
                   "channels_last": torch.channels_last}


class GraphRejected(Exception):
    """The model cannot be evaluated: not exportable, not in the format, or not allowed."""


# -- the candidate's side ---------------------------------------------------------------------
def _encode(value: Any, names: dict[Any, str]) -> Any:
    if isinstance(value, torch.fx.Node):
        return {"node": names[value]}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (list, tuple)):
        return [_encode(v, names) for v in value]
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"device": value.type}
    if isinstance(value, torch.layout):
        return {"layout": str(value).removeprefix("torch.")}
    if isinstance(value, torch.memory_format):
        return {"memory_format": str(value).removeprefix("torch.")}
    raise GraphRejected(f"the exported graph holds a value of type {type(value).__name__} "
                        f"({value!r:.60}), which cannot be handed to the evaluator")


def _target_name(target: Any) -> str:
    if target is operator.getitem:
        return "getitem"
    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target._schema.name.split('::')[-1]}.{target._overloadname}"
    return getattr(target, "__name__", str(target))


def _mutates(target: Any) -> bool:
    return isinstance(target, torch._ops.OpOverload) and any(
        a.alias_info is not None and a.alias_info.is_write for a in target._schema.arguments)


def export_model(model: torch.nn.Module, example: torch.Tensor) -> bytes:
    """The model, in eval mode, exported at the example's exact shape, as bytes."""
    from safetensors.torch import save

    model.eval()
    try:
        with warnings.catch_warnings():  # torch's own deprecation notes would fill the log
            warnings.simplefilter("ignore", FutureWarning)
            program = torch.export.export(model, (example,), strict=False)
    except Exception as exc:
        raise GraphRejected(
            f"torch.export could not export the model ({type(exc).__name__}: "
            f"{str(exc)[:400]}). The model's forward must be traceable: tensor operations only, "
            "no Python branches on tensor values, no .item() / .tolist() / numpy"
        ) from exc
    if any(_mutates(n.target) for n in program.graph.nodes if n.op == "call_function"):
        # In-place ops (nn.ReLU(inplace=True), `x += y`): functionalise them, which also
        # shows any mutation of the model's own state in the signature below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            program = program.run_decompositions({})
    signature = program.graph_signature
    if signature.buffers_to_mutate or signature.user_inputs_to_mutate:
        raise GraphRejected("the model's forward changes its own buffers or its input; "
                            "evaluation must not carry state from one batch to the next")
    names: dict[Any, str] = {}
    tensors: dict[str, torch.Tensor] = {}
    inputs: list[str] = []
    lifted = {spec.arg.name: spec for spec in signature.input_specs}
    nodes: list[dict[str, Any]] = []
    outputs: Any = None
    for node in program.graph.nodes:
        names[node] = node.name
        if node.op == "placeholder":
            spec = lifted[node.name]
            if spec.kind.name == "USER_INPUT":
                inputs.append(node.name)
                continue
            source = program.state_dict if spec.target in program.state_dict \
                else program.constants
            tensor = source[spec.target]
            if not isinstance(tensor, torch.Tensor):
                raise GraphRejected(f"the model holds a non-tensor constant {spec.target!r}")
            # Own contiguous CPU copies: tied weights and views become plain tensors.
            tensors[node.name] = tensor.detach().to("cpu").contiguous().clone()
        elif node.op == "call_function":
            nodes.append({"name": node.name, "target": _target_name(node.target),
                          "args": _encode(node.args, names),
                          "kwargs": {k: _encode(v, names) for k, v in node.kwargs.items()}})
        elif node.op == "output":
            outputs = _encode(node.args[0], names)
        else:
            raise GraphRejected(f"the exported graph has a {node.op} node ({node.name}); "
                                "remove torch.no_grad()/enable_grad()/torch.cond from forward")
    graph = {"format": FORMAT, "inputs": inputs, "tensors": sorted(tensors), "nodes": nodes,
             "outputs": outputs}
    return save(tensors, metadata={METADATA_KEY: json.dumps(graph)})


# -- the evaluator's side ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Call:
    name: str
    op: Callable[..., Any]
    args: Any
    kwargs: dict[str, Any]


class Graph:
    """A loaded model: call it with one input tensor, get its first output."""

    def __init__(self, tensors: dict[str, torch.Tensor], input_name: str, calls: list[_Call],
                 outputs: Any, device: torch.device) -> None:
        self._tensors, self._input, self._calls = tensors, input_name, calls
        self._outputs, self.device = outputs, device

    @property
    def parameters(self) -> int:
        return sum(t.numel() for t in self._tensors.values() if t.is_floating_point())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # Fresh bindings per call: no operator may mutate, and nothing survives the call.
        env: dict[str, Any] = {**self._tensors, self._input: x}
        for call in self._calls:
            env[call.name] = call.op(*_bind(call.args, env), **_bind(call.kwargs, env))
        out = _bind(self._outputs, env)
        while isinstance(out, (list, tuple)):
            if not out:
                raise GraphRejected("the model returns an empty tuple")
            out = out[0]  # (logits, loss) style returns: the logits come first
        if not isinstance(out, torch.Tensor):
            raise GraphRejected(f"the model returns {type(out).__name__}, not a tensor")
        return out


def _bind(value: Any, env: dict[str, Any]) -> Any:
    if isinstance(value, _Ref):
        return env[value.name]
    if isinstance(value, list):
        return [_bind(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _bind(v, env) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class _Ref:
    name: str


def _decode(value: Any, known: set[str], device: torch.device) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [_decode(v, known, device) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (kind, raw), = value.items()
        if kind == "node" and isinstance(raw, str) and raw in known:
            return _Ref(raw)
        if kind == "float" and raw in ("inf", "-inf", "nan"):
            return float(raw)
        if kind == "dtype" and raw in _DTYPES:
            return _DTYPES[raw]
        if kind == "device":
            return device  # the evaluator's device, whatever the export said
        if kind == "layout" and raw in _LAYOUTS:
            return _LAYOUTS[raw]
        if kind == "memory_format" and raw in _MEMORY_FORMATS:
            return _MEMORY_FORMATS[raw]
    raise GraphRejected(f"the graph holds an argument the evaluator does not accept: "
                        f"{json.dumps(value)[:80]}")


def _operator(target: Any) -> Callable[..., Any]:
    if target == "getitem":
        return operator.getitem
    match = TARGET.match(target) if isinstance(target, str) else None
    if match is None or match[1] not in ALLOWED_OPS:
        shown = target if isinstance(target, str) else repr(target)
        raise GraphRejected(
            f"operation {shown[:80]} is not allowed in an evaluated model (allowed: standard "
            "tensor math, layers and shape operations of ATen; no torch.empty, no in-place "
            "or random operations, no control-flow operators)")
    packet = getattr(torch.ops.aten, match[1], None)
    op = getattr(packet, match[2], None) if packet is not None else None
    if not isinstance(op, torch._ops.OpOverload) or op.namespace != "aten":
        raise GraphRejected(f"unknown operation {target}")
    if _mutates(op):
        raise GraphRejected(f"operation {target} writes to its arguments (in-place or out=)")
    return op


def _deterministic(op: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
                   target: str) -> None:
    """Dropout-carrying ops are random only when training: they must say they are not."""
    if not isinstance(op, torch._ops.OpOverload) or \
            torch.Tag.nondeterministic_seeded not in op.tags:
        return
    bound = {a.name: (args[i] if i < len(args) else kwargs.get(a.name, a.default_value))
             for i, a in enumerate(op._schema.arguments)}
    if bound.get("train") is False or bound.get("dropout_p") in (0, 0.0):
        return
    raise GraphRejected(f"operation {target} is random at evaluation (dropout in training "
                        "mode); the evaluator runs the model in eval mode")


def load_graph(payload: bytes, device: torch.device) -> Graph:
    """Parse and check a payload from :func:`export_model`; raises GraphRejected."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        tensors = load(payload)
        header_size = int.from_bytes(payload[:8], "little")
        header = json.loads(payload[8 : 8 + header_size])
        graph = json.loads(header["__metadata__"][METADATA_KEY])
    except (SafetensorError, ValueError, KeyError, TypeError) as exc:
        raise GraphRejected(f"the model payload is not a graph in our format ({exc})") from exc
    if not isinstance(graph, dict) or graph.get("format") != FORMAT:
        raise GraphRejected(f"the model payload is not in the {FORMAT} format")
    inputs, nodes = graph.get("inputs"), graph.get("nodes")
    if not (isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], str)):
        raise GraphRejected("the model must take exactly one input tensor")
    if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
        raise GraphRejected(f"the graph must list at most {MAX_NODES} nodes")
    if sorted(tensors) != graph.get("tensors"):
        raise GraphRejected("the graph's tensor list does not match its payload")
    known = {*tensors, inputs[0]}
    if not all(NAME.match(n) for n in known):
        raise GraphRejected("the graph has an invalid input or tensor name")
    calls: list[_Call] = []
    for node in nodes:
        if not isinstance(node, dict) or set(node) != {"name", "target", "args", "kwargs"}:
            raise GraphRejected("a graph node is malformed")
        name, target = node["name"], node["target"]
        if not isinstance(name, str) or not NAME.match(name) or name in known:
            raise GraphRejected(f"a graph node has an invalid or repeated name: {name!r:.60}")
        op = _operator(target)
        if not isinstance(node["args"], list) or not isinstance(node["kwargs"], dict):
            raise GraphRejected(f"node {name}: malformed arguments")
        args = _decode(node["args"], known, device)
        kwargs = {str(k): _decode(v, known, device) for k, v in node["kwargs"].items()}
        _deterministic(op, args, kwargs, target)
        calls.append(_Call(name, op, args, kwargs))
        known.add(name)
    outputs = _decode(graph.get("outputs"), known, device)
    on_device = {k: v.to(device) for k, v in tensors.items()}
    return Graph(on_device, inputs[0], calls, outputs, device)
