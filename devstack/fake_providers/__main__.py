"""`python -m devstack.fake_providers --port N --name X`."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_fake_provider_app


def main(argv: list[str] | None = None) -> None:
    """Serve one fake provider app in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--name", default="fake")
    args = parser.parse_args(argv)
    uvicorn.run(
        create_fake_provider_app(args.name), host=args.host, port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
