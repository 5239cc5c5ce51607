# attack: replace the harness evaluation with one that returns a perfect score
# expect: invalid/validation
import harness

harness.evaluate = lambda model, context: 0.0
harness.evaluate(None, context=2)
