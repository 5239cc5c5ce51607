# attack: SIGKILL the parent process (validator bypassed)
# expect: crashed/crash (only the run's own sandbox dies; the framework lives)
import posix
import signal
import time

import harness

posix.kill(posix.getppid(), signal.SIGKILL)
time.sleep(1)
harness.evaluate(None, context=2)
