# attack: give itself a bigger time budget
# expect: invalid/validation
import harness

harness.BUDGET_SECONDS = 10_000
harness.evaluate(None, context=2)
