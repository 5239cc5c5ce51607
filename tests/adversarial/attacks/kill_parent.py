# attack: kill the framework's process
# expect: invalid/validation
import os
import signal

import harness

os.kill(os.getppid(), signal.SIGKILL)
harness.evaluate(None, context=2)
