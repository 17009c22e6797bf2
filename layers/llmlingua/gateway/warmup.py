"""SnapStart priming: what runs once before Lambda snapshots an initialised instance, and what
must be redone after each restore.

`prime()` moves the slow first-use work into the snapshot: importing litellm and building its
Router (4-5 s on these cores), loading the embedding model and running it once, building the
DynamoDB client and the stages. It opens no network connection (a connection in a snapshot
is dead after a restore; SnapStart also runs the hook without the function's VPC traffic).

`after_restore()` drops whatever must be unique or fresh per instance: cached clients and their
connection pools, and the `random` seed (every instance restored from one snapshot would
otherwise draw the same backoff jitter). Request ids come from `uuid4` (os.urandom): unaffected.

Called by the completion function's Lambda Web Adapter hook routes (AWS_LWA_SNAPSTART_*_PATH)
and, for the plain Mangum handlers, through the runtime's `snapshot_restore_py` hooks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from gateway.observability import logger


def prime(build_service: Callable[[], Any] | None = None) -> dict[str, float]:
    """Run the first-use work now; returns the seconds each step took (for logs and benches)."""
    timings: dict[str, float] = {}

    def step(name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return work()
        except Exception as error:  # noqa: BLE001 - priming must never fail an init
            logger.warning("prime_step_failed", extra={"step": name, "error": type(error).__name__})
            return None
        finally:
            timings[name] = round(time.perf_counter() - started, 4)

    if build_service is not None:
        service = step("stages", build_service)
        step("litellm_router", lambda: _build_router(service))
        step("embedder", lambda: _warm_embedder(service))
    step("key_store", _build_key_store)
    logger.info("primed", extra={"timings_s": timings})
    return timings


def after_restore() -> None:
    """Forget connections and per-instance state captured in the snapshot."""
    from gateway.clients import clear_clients

    clear_clients()
    random.seed()


def _build_router(service: Any) -> None:
    router = getattr(service, "router", None)
    if router is not None and hasattr(router, "prime"):
        router.prime()


def _warm_embedder(service: Any) -> None:
    """Load and run the in-process model once; a remote embedder (the ML function, a provider)
    would need the network, so it is left alone."""
    from gateway.embeddings.onnx_local import LocalOnnxEmbedder

    for stage in getattr(service, "stages", ()):
        embedder = getattr(stage, "embedder", None)
        if isinstance(embedder, LocalOnnxEmbedder) and embedder.available:
            embedder.embed(["warm up"])


def _build_key_store() -> None:
    from gateway.settings import get_settings

    if get_settings().key_pepper is None:
        return
    from gateway.keys.factory import key_lookup, key_store

    key_store()  # the DynamoDB client
    key_lookup()  # what requests read keys through (the Valkey copy, when enabled)


def register_runtime_hooks(build_service: Callable[[], Any] | None = None) -> bool:
    """Register prime/after_restore with the Lambda runtime's SnapStart hooks, when present
    (`snapshot_restore_py` ships in the managed Python runtimes, not in our locks)."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(prime, build_service)
    register_after_restore(after_restore)
    return True
