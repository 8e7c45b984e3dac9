"""What the API accepts as text, beyond each parameter's and field's own rules.

PostgreSQL text and jsonb cannot hold U+0000, and a lone surrogate (which JSON's `\\ud800`
escapes can carry) cannot be encoded as UTF-8: either would reach the database or the
file system and be refused there. Query parameters carry `pattern=NO_NUL` (percent-
decoding already replaces bytes that are not UTF-8); request bodies derive from `Body`,
which refuses both anywhere in the body (keys, list items, union members), so the request
is answered 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from brightwatch.contract.limits import unstorable

NO_NUL = r"^[^\x00]*$"


def _check(value: Any) -> None:
    # iterative: a hostile depth cannot exhaust the stack here
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            why = unstorable(item)
            if why:
                raise ValueError(f"{where or 'text'} {why}")
        elif isinstance(item, dict):
            for k, v in item.items():
                key = str(k)
                if isinstance(k, str) and (why := unstorable(k)):
                    raise ValueError(f"a key of {where or 'the body'} {why}")
                stack.append((v, f"{where}.{key}" if where else key))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))


class Body(BaseModel):
    """A request body: no fields beyond the declared ones, only storable text."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        _check(data)
        return data
