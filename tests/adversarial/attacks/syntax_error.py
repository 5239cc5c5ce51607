# attack: not even Python
# expect: invalid/syntax
import harness

def broken(:
    pass
