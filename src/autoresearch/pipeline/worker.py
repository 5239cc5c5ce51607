"""Entry point of a sandboxed pipeline worker: evaluates a batch of combos in one process.

    python -m autoresearch.pipeline.worker SPEC.json

It reads and deletes the spec (which holds the signing key), applies the limits, loads the
development part once, then for each combo: runs its code in a fresh namespace, evaluates it
with the trusted harness under a per-combo alarm, and signs the outcome on the result pipe.
The sealed holdout arrives through a memory file descriptor, only for holdout batches.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.sealed import unpack_files
from autoresearch.sandbox.signed import signer


class JobTimeout(BaseException):
    """The combo ran past its time limit (BaseException: candidate code cannot swallow it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise JobTimeout()


def _slots(path: str) -> dict[str, Any]:
    from autoresearch.pipeline.harness import SLOT_FUNCTIONS, SlotFailure

    namespace: dict[str, Any] = {"__name__": "combo", "__file__": path}
    exec(compile(Path(path).read_text(), path, "exec"), namespace)
    missing = [name for name in SLOT_FUNCTIONS if not callable(namespace.get(name))]
    if missing:
        raise SlotFailure(missing[0], f"the combo defines no {', '.join(missing)}()")
    return {name: namespace[name] for name in SLOT_FUNCTIONS}


def main(argv: list[str]) -> int:
    spec_path = Path(argv[1])
    spec = json.loads(spec_path.read_text())
    spec_path.unlink()
    send = signer(int(spec["result_fd"]), bytes.fromhex(spec["key"]))
    Limits(**spec["limits"]).apply(False)
    os.environ["KERAS_BACKEND"] = "torch"  # Keras 3 runs on torch: no TensorFlow needed
    sealed = unpack_files(int(spec["sealed_fd"])) if spec.get("sealed_fd") is not None else {}

    import pandas as pd

    from autoresearch.pipeline.harness import Dataset, FoldCache, SlotFailure, cross_validate
    from autoresearch.pipeline.harness import holdout as score_holdout

    data_dir = Path(spec["data_dir"])
    meta = json.loads((data_dir / "meta.json").read_text())
    dev = Dataset.from_frame(pd.read_pickle(data_dir / "dev.pkl"), meta["target"], meta["kind"],
                             meta["metric"])
    test = None
    if "test.pkl" in sealed:
        test = Dataset.from_frame(pd.read_pickle(io.BytesIO(sealed.pop("test.pkl"))),
                                  meta["target"], meta["kind"], meta["metric"], dev.encoder())
    threads = int(spec["threads"])
    cache = FoldCache()
    signal.signal(signal.SIGALRM, _on_alarm)
    send({"kind": "started", "startup_seconds": time.time() - float(spec["launched_at"])})
    for job in spec["jobs"]:
        job_id = job["id"]
        send({"kind": "begin", "id": job_id})
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, float(job["timeout"]))
        try:
            slots = _slots(job["file"])
            if job.get("holdout"):
                if test is None:
                    raise RuntimeError("holdout job without the sealed holdout")
                value = score_holdout(slots, dev, test, int(meta["seeds"][0]), threads)
                message: dict[str, Any] = {"kind": "holdout", "value": value}
            else:
                message = {"kind": "result", **cross_validate(
                    slots, dev, [int(s) for s in meta["seeds"]], int(meta["folds"]), threads,
                    cache, (job["cache_key"][0], job["cache_key"][1]))}
                scores = message["repeats"] + message["folds"]
                if not all(math.isfinite(v) for v in scores):
                    message = {"kind": "failure", "failure": "divergence",
                               "reason": f"non-finite {meta['metric']}: {message['repeats']}"}
        except JobTimeout:
            message = {"kind": "failure", "failure": "timeout",
                       "reason": f"no result within {job['timeout']:g}s; stopped"}
        except SlotFailure as exc:
            traceback.print_exc()
            message = {"kind": "failure", "failure": "crash", "reason": str(exc)[:500],
                       "slot": exc.slot}
        except MemoryError as exc:
            message = {"kind": "failure", "failure": "oom", "reason": f"MemoryError: {exc}"}
        except SyntaxError as exc:
            message = {"kind": "failure", "failure": "syntax", "reason": f"{exc}"[:500]}
        except Exception as exc:
            traceback.print_exc()
            message = {"kind": "failure", "failure": "crash",
                       "reason": f"{type(exc).__name__}: {exc}"[:500]}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout.flush()
        sys.stderr.flush()
        send({**message, "id": job_id, "wall_seconds": time.perf_counter() - started,
              "cache_hits": cache.hits, "cache_misses": cache.misses})
    send({"kind": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
