# attack: classic fork bomb
# expect: invalid/validation
import os

import harness

while True:
    os.fork()
harness.evaluate(None, context=2)
