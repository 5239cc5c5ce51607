# attack: an endless loop that swallows SIGINT
# expect: timeout/timeout
import harness

try:
    while True:
        pass
except KeyboardInterrupt:
    while True:
        pass
harness.evaluate(None, context=2)
