"""The base of every response model: read from the attributes of what a use case returns
(an ORM row, a dataclass), so a route answers ``SomeOut.model_validate(row)``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
