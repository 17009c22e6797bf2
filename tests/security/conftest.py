"""The security tests reuse the integration stack (Valkey, moto server, fake providers) and its
gateway process; the fuzz tests run the apps in process instead."""

from __future__ import annotations

from tests.integration.conftest import (  # noqa: F401 - fixtures re-exported for this folder
    _reset_fakes,
    extra_fakes,
    gateway,
    stack,
)
