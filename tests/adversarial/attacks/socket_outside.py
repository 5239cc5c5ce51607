# attack: open a socket to an outside address
# expect: invalid/validation
import socket

import harness

socket.create_connection(("93.184.216.34", 80), timeout=2).sendall(b"GET / HTTP/1.0\r\n\r\n")
harness.evaluate(None, context=2)
