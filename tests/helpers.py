"""Small helpers shared by the tests (imported as ``from helpers import ...``)."""

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 20.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass; returns whether it became true."""
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return True
        time.sleep(0.005)
    return False
