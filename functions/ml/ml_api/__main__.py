"""`python -m ml_api --port N`: the engine server on loopback (local stack, tests, a GPU host).

LLMLINGUA_MODEL_DIR names the model; `--preload` loads it before the port opens, so a caller
that waits for /health never sees a cold model.
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ml_api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4100)
    parser.add_argument("--no-preload", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from ml_api.engine import engine

    current = engine()
    if not args.no_preload and current is not None:
        current.load()
    import uvicorn

    uvicorn.run("ml_api.app:app", host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
