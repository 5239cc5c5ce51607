# attack: connect to a server on the host's loopback with a raw socket (validator bypassed)
# expect: crashed/crash (no route out of the network namespace)
import socket

import harness

with socket.create_connection(("127.0.0.1", 28431), timeout=3) as conn:
    conn.sendall(b"exfiltrated-by-candidate")
harness.evaluate(None, context=2)
