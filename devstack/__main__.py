"""`python -m devstack run [--demo] [--port N]`: the whole gateway on one port, as API Gateway
routes it. `serve` runs only the gateway, against services named in the environment (tests use
it to start several gateway processes standing in for Lambda instances)."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from dotenv import load_dotenv

from devstack.stack import ROOT, LocalStack


def _serve(port: int, workers: int = 1) -> None:
    import uvicorn

    uvicorn.run(
        "devstack.gateway_app:app",
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level=os.environ.get("UVICORN_LOG_LEVEL", "warning"),
        access_log=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    parser.add_argument("command", choices=["run", "serve"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "4000")))
    parser.add_argument("--demo", action="store_true", help="point providers at fake servers")
    args = parser.parse_args(argv)
    load_dotenv(ROOT / ".env")
    if args.command == "serve":
        _serve(args.port)
        return 0
    # uvicorn re-raises SIGTERM once it has shut down; turn it into SystemExit so the stack's
    # context managers stop Valkey and the moto server instead of orphaning them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    default_master_key = not os.environ.get("LITELLM_MASTER_KEY")
    with LocalStack(os.environ, demo=args.demo) as stack:
        os.environ.update(stack.env)
        _announce(stack, args.port, default_master_key)
        # Stand-in for the scheduled SpendFlushFunction (issue 7): persists queued spend.
        from devstack.spend_flush import BackgroundSpendFlusher

        with BackgroundSpendFlusher():
            _serve(args.port)
    return 0


def _announce(stack: LocalStack, port: int, default_master_key: bool) -> None:
    lines = [
        f"LLM gateway on http://127.0.0.1:{port}  (OpenAI base URL: http://127.0.0.1:{port}/v1)",
        f"  Valkey: {stack.env['REDIS_URL']}   DynamoDB: {stack.env['DYNAMODB_ENDPOINT_URL']}",
    ]
    if default_master_key:
        lines.append(
            f"  master key: {stack.env['LITELLM_MASTER_KEY']} (local default; set in .env)"
        )
    if stack.demo:
        lines.append("  DEMO MODE: every provider is a bundled FAKE server; answers are not real.")
        lines += [f"    fake {name}: {server.url}" for name, server in stack.fakes.items()]
    print("\n".join(lines), file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
