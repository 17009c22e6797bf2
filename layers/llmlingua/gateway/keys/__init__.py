"""Virtual keys: the stored record, hashing, durations, the DynamoDB store, tenant credential
encryption, the management service and the completion-path stage (limits, budget, spend)."""
