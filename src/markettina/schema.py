"""The whole schema: importing this registers every context's tables on ``Base.metadata``.

Used by Alembic (autogenerate and the drift test), the generated docs and the tests that
walk every table. Contexts never import each other's models; this module sits above them.
"""

from __future__ import annotations

from markettina.identity import models as identity_models
from markettina.kernel.db.base import Base

CONTEXT_MODELS = (identity_models,)

metadata = Base.metadata

__all__ = ["CONTEXT_MODELS", "metadata"]
