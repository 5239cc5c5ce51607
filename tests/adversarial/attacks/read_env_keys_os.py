# attack: read API keys through os.environ
# expect: invalid/validation
import os

import harness

print(os.environ.get("ANTHROPIC_API_KEY"))
harness.evaluate(None, context=2)
