"""Domain exceptions. Each carries the HTTP status and OpenAI error fields it renders as.

Adapters translate library errors (litellm, boto3, redis) into these with `raise ... from e`;
one handler renders them all as `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error the gateway answers with on purpose."""

    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "api_error"
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(GatewayError):
    status_code = 400
    error_type = "invalid_request_error"
    default_code = "invalid_request"


class ModelNotFound(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"
    default_code = "model_not_found"


class ProviderNotConfigured(GatewayError):
    """The model exists in the config but its provider's credentials are not set."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "provider_not_configured"


class AuthenticationFailed(GatewayError):
    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status_code = 403
    error_type = "permission_error"
    default_code = "permission_denied"


class PayloadTooLarge(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class RateLimited(GatewayError):
    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class NotImplementedYet(GatewayError):
    status_code = 501
    error_type = "api_error"
    default_code = "not_implemented"


class UpstreamError(GatewayError):
    """The provider failed after the configured retries."""

    status_code = 502
    error_type = "api_error"
    default_code = "upstream_error"


class UpstreamTimeout(UpstreamError):
    status_code = 504
    error_type = "timeout_error"
    default_code = "upstream_timeout"


class UpstreamRateLimited(RateLimited):
    default_code = "upstream_rate_limited"


class UpstreamRejected(GatewayError):
    """The provider refused the request itself (bad parameters, context too long, policy)."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "upstream_bad_request"


class UpstreamAuthenticationFailed(GatewayError):
    """The provider refused the credentials the gateway sent (LiteLLM passes 401 through too)."""

    status_code = 401
    error_type = "authentication_error"
    default_code = "provider_authentication_error"


# --- Virtual keys, limits and spend (issue 3)
class KeyExpired(AuthenticationFailed):
    default_code = "expired_key"


class KeyBlocked(PermissionDenied):
    default_code = "key_blocked"


class ModelAccessDenied(PermissionDenied):
    default_code = "key_model_access_denied"


class BudgetExceeded(GatewayError):
    status_code = 429
    error_type = "budget_exceeded"
    default_code = "budget_exceeded"


class KeyNotFound(GatewayError):
    """A management call named a key that does not exist (or was deleted)."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "key_not_found"


class DependencyUnavailable(GatewayError):
    """A store the gateway needs (DynamoDB, Redis, KMS) did not answer in time."""

    status_code = 503
    error_type = "api_error"
    default_code = "service_unavailable"


# --- Key record cache (issue 7, performance)
class KeyChangeNotPropagated(DependencyUnavailable):
    """A key change is stored in DynamoDB but its cached copies could not be invalidated."""

    default_code = "key_change_not_propagated"
