"""Example: a team's own litellm callback, registered from the config without forking the gateway.

    # config/litellm_config.yaml
    litellm_settings:
      callbacks: examples.custom_callbacks.proxy_handler_instance

The module must be importable in the completion function: ship it with the function code (or a
layer) or put it beside the config file. This one appends one JSON line per call to the file
named by TEAM_CALLBACK_LOG (nothing if unset): the call id, model, key alias, team, tokens and
cost, never the prompt. The gateway waits for async hooks like these before a Lambda returns.
"""

from __future__ import annotations

import json
import os
from typing import Any

from litellm.integrations.custom_logger import CustomLogger


class TeamUsageLogger(CustomLogger):
    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._write("success", kwargs, response_obj)

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self._write("failure", kwargs, None)

    def _write(self, event: str, kwargs: dict[str, Any], response_obj: Any) -> None:
        path = os.environ.get("TEAM_CALLBACK_LOG")
        if not path:
            return
        metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        usage = getattr(response_obj, "usage", None)
        record = {
            "event": event,
            "call_id": kwargs.get("litellm_call_id"),
            "model": kwargs.get("model"),
            "key_alias": metadata.get("user_api_key_alias"),
            "team_id": metadata.get("user_api_key_team_id"),
            "total_tokens": getattr(usage, "total_tokens", None),
            "cost": kwargs.get("response_cost"),
        }
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


proxy_handler_instance = TeamUsageLogger()
