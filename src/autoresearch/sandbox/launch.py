"""Entry point of a project command's seed run: apply the limits, then become the command.

    python -m autoresearch.sandbox.launch '{"limits": {...}, "cuda": false}' -- python train.py

The rlimits are inherited across exec, so the user's command runs under them; PYTHONPATH (set
only so that this module can be found) is dropped first.
"""

from __future__ import annotations

import json
import os
import sys

from autoresearch.sandbox.limits import Limits

COMMAND_NOT_FOUND = 127


def main(argv: list[str]) -> int:
    spec, separator, command = json.loads(argv[1]), argv[2], argv[3:]
    if separator != "--" or not command:
        print("usage: python -m autoresearch.sandbox.launch SPEC -- COMMAND...", file=sys.stderr)
        return 2
    Limits(**spec["limits"]).apply(bool(spec["cuda"]))
    os.environ.pop("PYTHONPATH", None)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"autoresearch: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
    return COMMAND_NOT_FOUND


if __name__ == "__main__":
    sys.exit(main(sys.argv))
