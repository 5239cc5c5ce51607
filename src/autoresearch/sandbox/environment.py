"""The environment of a run: an allow-list of the parent's variables plus our own values."""

from __future__ import annotations

import os
from pathlib import Path

import autoresearch

# What a candidate's environment may inherit; everything else (API keys above all) is dropped.
ENV_ALLOW = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CUDA_VISIBLE_DEVICES",
             "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


def candidate_environment(seed: int, workdir: Path, threads: int,
                          gpus: str | None = None) -> dict[str, str]:
    """The whole environment of a run: an allow-list of the parent's plus our own values.

    `gpus` is the worker slot's CUDA_VISIBLE_DEVICES, when the slot owns GPUs."""
    env = {k: os.environ[k] for k in ENV_ALLOW if k in os.environ}
    if gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpus
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir / "tmp"),
        PYTHONPATH=str(Path(autoresearch.__file__).resolve().parent.parent),
        PYTHONHASHSEED=str(seed),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        # Idle OpenMP threads sleep instead of spinning: on a shared machine spinning threads
        # fight for the cores and contention costs 20x the steps instead of 2x.
        OMP_WAIT_POLICY="PASSIVE",
        AUTORESEARCH_SEED=str(seed),
    )
    return env
