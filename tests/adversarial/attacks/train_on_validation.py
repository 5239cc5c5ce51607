# attack: reach into the harness' private copy of the validation split and train on it
# expect: invalid/validation
import harness

val = harness._sealed["val"]
harness.evaluate(None, context=2)
