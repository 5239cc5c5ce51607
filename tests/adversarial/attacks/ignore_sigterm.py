# attack: ignore SIGTERM and SIGINT, then loop forever
# expect: invalid/validation
import signal

import harness

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
harness.evaluate(None, context=2)
