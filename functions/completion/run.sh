#!/bin/bash
# Lambda Web Adapter entry point (template.yaml: CompletionFunction Handler run.sh with
# AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap). LWA forwards each invocation to this uvicorn on
# 127.0.0.1:$PORT and streams the response back (AWS_LWA_INVOKE_MODE=response_stream).
# The plain Mangum handler completion_api.app.handler serves the same app without streaming.
# The function's own code and litellm first, then the SharedLayer, then the runtime's boto3
# (LAMBDA_RUNTIME_DIR), which the locks leave out on purpose.
export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/opt/python${PYTHONPATH:+:$PYTHONPATH}:${LAMBDA_RUNTIME_DIR:-/var/runtime}"
exec python3 -m uvicorn completion_api.app:app \
    --host 127.0.0.1 --port "${PORT:-8080}" \
    --no-server-header --no-access-log --log-level warning
