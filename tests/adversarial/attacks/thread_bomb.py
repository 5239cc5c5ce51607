# attack: start threads until the machine gives out (a fork bomb's cousin that passes the validator)
# expect: crashed/crash
import threading
import time

import harness

threads = []
for _ in range(20000):
    thread = threading.Thread(target=time.sleep, args=(20,), daemon=True)
    thread.start()
    threads.append(thread)
harness.evaluate(None, context=2)
