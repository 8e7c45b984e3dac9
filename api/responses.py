"""What the routes serve, as pydantic models for OpenAPI.

The routes build their answers from database rows and the domain's views; these models
describe those answers (every field a route always sends, with its type and whether it
can be null) and let through whatever else a row carries (`extra="allow"`), so a model
documents the shape and never reshapes it. tests/api/test_schemathesis.py checks the
answers against them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Served(BaseModel):
    """A JSON object a route serves; fields beyond the declared ones pass through."""

    model_config = ConfigDict(extra="allow")
