# attack: replace the process with a shell
# expect: invalid/validation
import os

import harness

os.execv("/bin/sh", ["sh", "-c", "echo val_bpb: 0.0"])
harness.evaluate(None, context=2)
