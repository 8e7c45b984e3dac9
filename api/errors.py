"""What the API answers when it does not succeed, written once: the error body every
error shares (interfaces.md: JSON `{"detail": ...}`, no stack traces) and the status codes
routes declare in OpenAPI, each with what it means here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class InvalidPart(BaseModel):
    """One problem with the request: where (`["query", "limit"]`), what, and its kind."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: a sentence, or for invalid input one entry per problem."""

    detail: str | list[InvalidPart] = Field(
        ..., description="What went wrong; for invalid input, one entry per problem."
    )


MEANING = {
    400: "The body cannot be parsed (not JSON, not UTF-8, a broken multipart form).",
    401: "No bearer token, or one that is unknown or revoked.",
    403: "This token's role may not do this.",
    404: "No such object, or not one this token may see: firm and operator tokens get 404,"
    " not 403, for what is not theirs and for what their role may not do.",
    409: "The object's state does not allow this step, or a stored file no longer matches"
    " its recorded hash.",
    413: "A file larger than the configured limit.",
    415: "A file of a type that is not accepted.",
    422: "Invalid input: a parameter or field outside its type, range or format, or a"
    " request the domain rules refuse.",
    429: "Too many requests from this address; retry after `Retry-After` seconds.",
    503: "The database is unavailable, or stayed too busy to complete the change; retry.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    429: {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}},
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router or a route: these error statuses, each with the error body."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        out[code] = {"model": ErrorBody, "description": MEANING[code]}
        if code in HEADERS:
            out[code]["headers"] = HEADERS[code]
    return out


# what every route behind a bearer token may answer: no or a bad token, invalid input,
# the database down; routes add their own (404, 409, ...)
AUTHENTICATED = errors(401, 422, 503)
# a route with a request body may also find it unparseable
WITH_BODY = errors(400)


def errors_are_json(openapi: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a route's error answers in the route's own media type (an HTML
    page's 404 as text/html); they are JSON whatever the route serves: say so."""
    error = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
    for operations in openapi.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                if status[:1] in "45" and content and "application/json" not in content:
                    response["content"] = {"application/json": error}
    return openapi
