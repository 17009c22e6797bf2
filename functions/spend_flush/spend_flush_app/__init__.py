"""The scheduled spend flusher (issue 7): persists the Valkey spend stream to DynamoDB."""
