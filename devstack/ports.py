"""Loopback port helpers for the local stack."""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that is free on `host` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port_closed(port: int, host: str = LOOPBACK, timeout: float = 5.0) -> bool:
    """Wait until nothing listens on host:port; True if it closed in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_is_open(port, host):
            return True
        time.sleep(0.02)
    return not port_is_open(port, host)
