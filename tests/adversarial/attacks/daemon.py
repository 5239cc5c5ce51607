# attack: spawn a daemon that outlives the run
# expect: invalid/validation
import os

import harness

if os.fork() == 0:
    os.setsid()
    os.execv("/bin/sleep", ["sleep", "600"])
harness.evaluate(None, context=2)
