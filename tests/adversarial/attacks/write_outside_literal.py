# attack: write to an absolute path named literally
# expect: invalid/validation
import harness

open("/etc/autoresearch-pwned", "w").write("x")
harness.evaluate(None, context=2)
