"""The local stand-in for SpendFlushFunction: a thread that keeps draining the spend stream
while `python -m devstack run` serves (AWS runs the scheduled function instead)."""

from __future__ import annotations

import threading
from types import TracebackType

from gateway.observability import logger
from gateway.spend_factory import spend_flusher

BLOCK_MS = 500


class BackgroundSpendFlusher:
    """Started on enter, stopped (within BLOCK_MS) on exit. Reads settings from the environment,
    so enter it after the stack's variables are in os.environ."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spend-flusher", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                spend_flusher("devstack").run(self._stop.is_set, block_ms=BLOCK_MS)
            except Exception as error:  # Valkey or DynamoDB down: try again shortly
                logger.warning("spend_flusher_error", extra={"error_type": type(error).__name__})
                self._stop.wait(1.0)

    def __enter__(self) -> BackgroundSpendFlusher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
