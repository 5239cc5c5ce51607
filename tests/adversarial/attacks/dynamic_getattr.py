# attack: reach a private harness attribute through a computed name
# expect: invalid/validation
import harness

sealed = getattr(harness, "_" + "sealed")
harness.evaluate(None, context=2)
