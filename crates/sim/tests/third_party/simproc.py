"""Starts perpdesk-sim for a third-party client script and waits until it listens.

Shared by the client scripts beside this file; each one walks a trader's session with a
client nobody here wrote, changing only its base URLs.
"""

import contextlib
import socket
import subprocess
import time

ACCOUNT_KEY = "thirdparty"
ACCOUNT_SECRET = "thirdpartysecret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def simulator(binary, data, *extra):
    """Yields the simulator's base URL (`http://127.0.0.1:<port>`) with one account of
    10,000 USDT (ACCOUNT_KEY / ACCOUNT_SECRET), in its default time mode, and stops it after."""
    port = free_port()
    sim = subprocess.Popen(
        [binary, "--data", data, "--listen", f"127.0.0.1:{port}",
         "--account", f"{ACCOUNT_KEY}:{ACCOUNT_SECRET}:10000", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # Loading the candles takes a while on a busy machine: wait for the port, or for the
        # process to give up, however long that takes.
        while True:
            if sim.poll() is not None:
                raise SystemExit("perpdesk-sim exited: " + sim.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        sim.terminate()
        sim.wait(timeout=30)


def wait_for(what, predicate, timeout=120.0):
    """Waits until `predicate()` is truthy and returns it; fails naming `what` after `timeout`
    seconds (a bound for a stuck run, not a speed expectation)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
