"""The keys function: virtual key management and spend logs (never imports litellm)."""
