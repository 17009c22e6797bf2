"""The embedder in another Lambda function (the ML function): a synchronous Invoke with the
direct event {"action": "embed", "texts": [...]} -> {"status": 200, "embeddings": [[...]]}."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from gateway.embeddings.port import EmbeddingUnavailable


@lru_cache(maxsize=4)
def lambda_client(region: str, endpoint_url: str | None, timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(read_timeout=timeout, connect_timeout=timeout, retries={"max_attempts": 1})
    return boto3.client("lambda", region_name=region, endpoint_url=endpoint_url, config=config)


class LambdaEmbedder:
    def __init__(self, function_name: str, client: Any, *, name: str) -> None:
        self.function_name = function_name
        self.name = name
        self._client = client

    def embed(self, texts: list[str]) -> list[list[float]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps({"action": "embed", "texts": texts}).encode(),
            )
            body = json.loads(response["Payload"].read() or b"null")
        except (BotoCoreError, ClientError, ValueError) as error:
            raise EmbeddingUnavailable(f"embed invoke failed: {type(error).__name__}") from error
        vectors = body.get("embeddings") if isinstance(body, dict) else None
        if (
            response.get("FunctionError")
            or body.get("status") != 200
            or not isinstance(vectors, list)
        ):
            raise EmbeddingUnavailable("the embedding function did not answer with vectors")
        if len(vectors) != len(texts):
            raise EmbeddingUnavailable(
                "the embedding function answered the wrong number of vectors"
            )
        return [[float(x) for x in vector] for vector in vectors]
