# attack: hide code from the validator inside a string
# expect: invalid/validation
import harness

exec("import os; os.system('id')")
harness.evaluate(None, context=2)
