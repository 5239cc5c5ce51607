# attack: flood standard output
# expect: crashed/crash (the output cap kills the run)
import sys

import harness

line = "spam " * 2000 + "\n"
for _ in range(20000):
    sys.stdout.write(line)
harness.evaluate(None, context=2)
