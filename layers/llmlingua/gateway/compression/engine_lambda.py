"""The remote engine as a Lambda function: a synchronous Invoke of the ML function with a
direct (non-HTTP) event {"action": "compress", ...}; see functions/ml/ml_api/handler.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from gateway.compression.engine import EngineError, wire_request, wire_texts


@lru_cache(maxsize=4)
def lambda_client(region: str, endpoint_url: str | None, read_timeout_s: float) -> Any:
    """One boto3 Lambda client per process; endpoint_url points at a local emulation in tests."""
    import boto3
    from botocore.config import Config

    config = Config(read_timeout=read_timeout_s, connect_timeout=2, retries={"max_attempts": 1})
    return boto3.client("lambda", region_name=region, endpoint_url=endpoint_url, config=config)


class LambdaEngine:
    name = "lambda"

    def __init__(self, function_name: str, client: Any) -> None:
        self.function_name = function_name
        self._client = client

    def _invoke(self, payload: dict[str, Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(payload).encode(),
            )
            body = json.loads(response["Payload"].read() or b"null")
        except (BotoCoreError, ClientError, ValueError) as error:
            raise EngineError(f"engine function invoke failed: {type(error).__name__}") from error
        if response.get("FunctionError"):
            raise EngineError("engine function raised an error")
        return body

    async def compress(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        if not texts:
            return []
        payload = {"action": "compress", **wire_request(texts, rate, force_tokens)}
        body = await asyncio.to_thread(self._invoke, payload)
        return wire_texts(body, len(texts))
