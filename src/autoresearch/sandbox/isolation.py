"""What this machine lets us use to isolate a run, and how a run's command is wrapped.

Layers, strongest first, each detected once and recorded on every seed run:
- ``bwrap``: bubblewrap namespaces: no network, own PID space (nothing outlives the run),
  read-only root, private /tmp and home, only the run's work dir writable, the store hidden.
- ``unshare-net-pid``: without bubblewrap, network, PID and mount namespaces (util-linux
  unshare), in which _mask.py rebuilds bubblewrap's view of the file system (read-only, private
  /tmp and homes, minimal /dev, the store and data hidden) and drops every capability.
- ``cgroup``: memory and process-count limits (as root), so a fork bomb or a memory hog ends
  that run only; the whole group is killed when the run ends.
- ``rlimits`` and ``env-allowlist`` are always on (see limits.py and runner.py).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from autoresearch.sandbox.cgroups import CgroupManager

MODE_ENV = "AUTORESEARCH_SANDBOX"
# Without bubblewrap: no network, and an own PID space so the run cannot signal the framework
# and nothing it starts outlives it.
UNSHARE_ARGS = ("--net", "--pid", "--mount", "--fork", "--mount-proc", "--kill-child")
MODES = ("auto", "bwrap", "unshare", "none")


@dataclass(frozen=True)
class Isolation:
    bwrap: str | None
    unshare: str | None
    cgroups: CgroupManager | None

    @property
    def layers(self) -> tuple[str, ...]:
        found = ["env-allowlist", "rlimits", "process-group"]
        if self.bwrap:
            found.append("bwrap")
        elif self.unshare:
            found.append("unshare-net-pid")
        if self.cgroups:
            found.append(f"cgroup-{self.cgroups.version}")
        return tuple(found)


@dataclass(frozen=True)
class Policy:
    """What one run may see: its work dir (writable) and a few read-only paths."""

    workdir: Path
    readable: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()  # files and folders to mask: the store, raw dataset copies
    network: bool = False
    gpu: bool = False
    extra_writable: tuple[Path, ...] = field(default=())


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.cache
def detect(mode: str | None = None) -> Isolation:
    """Detect once per process; `mode` (or env AUTORESEARCH_SANDBOX) can ask for less."""
    mode = mode or os.environ.get(MODE_ENV, "auto")
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV} must be one of {', '.join(MODES)}, got {mode!r}")
    bwrap = shutil.which("bwrap") if mode in ("auto", "bwrap") else None
    if bwrap and not _works([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid",
                             "--dev", "/dev", "--proc", "/proc", "true"]):
        bwrap = None
    unshare = shutil.which("unshare") if mode in ("auto", "bwrap", "unshare") else None
    if unshare and not _works([unshare, *UNSHARE_ARGS, "true"]):
        unshare = None
    if mode == "bwrap" and not bwrap:
        warnings.warn("bubblewrap is not usable here; install Debian's `bubblewrap` package. "
                      "Falling back to the next isolation layer.", stacklevel=2)
    elif mode == "auto" and not bwrap:
        print("autoresearch: bubblewrap not found; runs get "
              f"{'a network namespace' if unshare else 'no network isolation'} only "
              "(install Debian's `bubblewrap` for full isolation)", file=sys.stderr)
    cgroups = CgroupManager.detect() if mode != "none" else None
    return Isolation(bwrap=bwrap, unshare=unshare, cgroups=cgroups)


def _python_paths() -> list[Path]:
    """Everything the child's interpreter needs to import the framework and its packages."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
    roots.update(Path(p) for p in sys.path if p and Path(p).is_dir())
    import autoresearch

    roots.add(Path(autoresearch.__file__).resolve().parent.parent)
    return sorted(p.resolve() for p in roots if p.exists())


def wrap(argv: list[str], policy: Policy, isolation: Isolation) -> list[str]:
    if isolation.bwrap:
        return [isolation.bwrap, *_bwrap_args(policy), "--", *argv]
    if isolation.unshare:
        args = [a for a in UNSHARE_ARGS if a != "--net" or not policy.network]
        view = {"writable": [str(p) for p in (policy.workdir, *policy.extra_writable)],
                "readable": [str(p) for p in (*_python_paths(), *policy.readable)],
                "hidden": [str(p) for p in policy.hidden], "gpu": policy.gpu}
        mask = str(Path(__file__).with_name("_mask.py"))
        return [isolation.unshare, *args, "--", sys.executable, "-I", "-S", mask,
                json.dumps(view), "--", *argv]
    return argv


def _bwrap_args(policy: Policy) -> list[str]:
    args = ["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--ro-bind", "/", "/", "--proc", "/proc"]
    if not policy.network:
        args.append("--unshare-net")
    if policy.gpu:
        args += ["--dev-bind", "/dev", "/dev"]
    else:
        args += ["--dev", "/dev"]
    # Private, empty /tmp and homes: other runs' files, the user's keys and caches are gone.
    for path in ("/tmp", "/var/tmp", "/root", "/home", "/run"):
        if Path(path).is_dir():
            args += ["--tmpfs", path]
    for path in _python_paths():
        args += ["--ro-bind", str(path), str(path)]
    for path in (policy.workdir, *policy.extra_writable):
        args += ["--bind", str(path), str(path)]
    # After the writable binds, so read-only files inside the work dir stay read-only.
    for path in policy.readable:
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    for path in policy.hidden:
        if path.is_file():
            args += ["--ro-bind", "/dev/null", str(path)]
        elif path.is_dir():
            args += ["--tmpfs", str(path)]
    args += ["--chdir", str(policy.workdir)]
    return args
