# attack: swap the harness module in sys.modules for a fake one
# expect: invalid/validation
import sys
import types

import harness

fake = types.ModuleType("harness")
fake.evaluate = lambda model, context: 0.0
sys.modules["harness"] = fake
harness.evaluate(None, context=2)
