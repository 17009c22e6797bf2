"""Run a fake provider app with uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from .app import create_fake_provider_app
from .state import FakeState, Fault

LOOPBACK = "127.0.0.1"


class FakeProviderServer:
    """A fake provider on a loopback port; `with FakeProviderServer("a") as srv: srv.url`."""

    def __init__(self, name: str = "fake", host: str = LOOPBACK, port: int = 0) -> None:
        self.name = name
        self.app = create_fake_provider_app(name)
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def state(self) -> FakeState:
        """In-process access to the fault queue and call log."""
        return self.app.state.fake  # type: ignore[no-any-return]

    @property
    def port(self) -> int:
        """Bound port (after start)."""
        if self._sock is None:
            raise RuntimeError("server not started")
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:PORT (append /v1, /openai/v1, /v1beta)."""
        return f"http://{self._host}:{self.port}"

    def start(self, timeout: float = 10.0) -> FakeProviderServer:
        """Bind, serve in a daemon thread, and wait until ready."""
        self.state.stopping.clear()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self._host, self._port))
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name=f"fake-provider-{self.name}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"fake provider {self.name!r} failed to start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit, join the thread, and release the socket."""
        self.state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = None

    def inject_fault(self, **fields: Any) -> None:
        """In-process equivalent of POST /_fake/faults."""
        self.state.add_fault(Fault.from_json(fields))

    def reset(self) -> None:
        """In-process equivalent of POST /_fake/reset."""
        self.state.reset()

    def calls(self) -> dict[str, Any]:
        """In-process equivalent of GET /_fake/calls."""
        return self.state.calls()

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
