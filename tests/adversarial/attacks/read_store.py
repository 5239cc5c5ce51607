# attack: find the framework's SQLite store and read it
# expect: crashed/crash (no readable store is visible inside the sandbox)
import os

import harness

hits = []
for root in ("/".join(["", "tmp"]), "/".join(["", "root"]), "/".join(["", "work"])):
    for directory, _, files in os.walk(root):
        for name in files:
            if name.endswith(".db"):
                path = os.path.join(directory, name)
                with open(path, "rb") as handle:
                    if handle.read(16).startswith(b"SQLite format 3"):
                        hits.append(path)
        if len(hits) > 3 or directory.count(os.sep) > 6:
            break
if not hits:
    raise FileNotFoundError("no store visible")
print("LEAKED_STORE", hits[:3])
harness.evaluate(None, context=2)
