# attack: open the harness' own source file for writing, to change future runs
# expect: crashed/crash (the package is mounted read-only)
import harness

with open(harness.__file__, "ab"):
    pass
print("PACKAGE_WRITABLE")
