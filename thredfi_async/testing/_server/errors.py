"""Error bodies in the three shapes the docs show, so clients get exercised on all of them.

* validation errors use shape 1, ``{"error", "error_code", "details": {field: [messages]}}``;
* an ``entity_type`` invalid for the country uses shape 2, ``{"error_code", "detail": "<text>"}``,
  as ``implementation/entity-types`` shows;
* everything else uses ``{"error_code", "message", "detail", "request_id"}``; ``detail`` is a
  string, except on the delete/cancel endpoints, whose reference pages show an object there.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = [
    "ApiError",
    "conflict",
    "field_error",
    "not_found",
    "validation_error",
]

Shape = Literal["validation", "detail", "standard", "object_detail"]


class ApiError(Exception):
    """A refusal the fake answers with; raised anywhere in a handler."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        details: dict[str, list[str]] | None = None,
        detail: Any = None,
        headers: dict[str, str] | None = None,
        shape: Shape | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details
        self.detail = detail
        self.headers = headers or {}
        self.shape: Shape = shape or ("validation" if details is not None else "standard")
        self.extra = extra or {}

    def body(self, request_id: str, *, object_detail: bool = False) -> dict[str, Any]:
        return self._body(request_id, object_detail) | self.extra

    def _body(self, request_id: str, object_detail: bool) -> dict[str, Any]:
        if self.shape == "validation":
            return {
                "error": self.message,
                "error_code": self.error_code,
                "details": self.details or {},
                "request_id": request_id,
            }
        if self.shape == "detail":
            return {"error_code": self.error_code, "detail": self.message}
        if object_detail or self.shape == "object_detail":
            detail = self.detail if isinstance(self.detail, dict) else {}
            return {
                "error_code": self.error_code,
                "message": self.message,
                "detail": detail,
                "request_id": request_id,
            }
        return {
            "error_code": self.error_code,
            "message": self.message,
            "detail": self.detail if isinstance(self.detail, str) else self.message,
            "request_id": request_id,
        }


def validation_error(
    details: dict[str, list[str]], message: str = "Validation errors in request data"
) -> ApiError:
    return ApiError(400, "validation_error", message, details=details)


def field_error(field: str, message: str) -> ApiError:
    return validation_error({field: [message]})


def not_found(kind: str, identifier: str) -> ApiError:
    return ApiError(
        404,
        f"{kind}_not_found",
        f"{kind.replace('_', ' ').capitalize()} {identifier!r} was not found.",
    )


def conflict(error_code: str, message: str, **detail: Any) -> ApiError:
    """A 409; its keyword details (such as ``existing_id``) are also top-level body keys."""
    return ApiError(409, error_code, message, detail=detail or None, extra=detail)
