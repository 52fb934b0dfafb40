"""The whole schema: importing this registers every context's tables on ``Base.metadata``.

Used by Alembic (autogenerate and the drift test), the generated docs and the tests that
walk every table. Contexts never import each other's models; this module sits above them.
"""

from __future__ import annotations

from markettina.ai import models as ai_models
from markettina.analytics import models as analytics_models
from markettina.billing import models as billing_models
from markettina.content import models as content_models
from markettina.identity import models as identity_models
from markettina.kernel import models as kernel_models
from markettina.kernel.db.base import Base
from markettina.knowledge import models as knowledge_models
from markettina.social import models as social_models
from markettina.workflow import models as workflow_models

CONTEXT_MODELS = (
    identity_models,
    content_models,
    billing_models,
    analytics_models,
    social_models,
    knowledge_models,
    kernel_models,
    ai_models,
    workflow_models,
)

metadata = Base.metadata

# the tables of the deployed v1 database (revision 0001); every other table is new in v2
V1_TABLES = frozenset(
    {
        "users", "admin_users", "admin_sessions", "admin_audit_logs", "oauth_tokens",
        "leads", "email_campaigns", "scheduled_posts", "editorial_calendars", "brand_settings",
        "customers", "customer_notes", "customer_interactions",
        "token_wallets", "token_transactions", "token_packages", "subscriptions", "payments",
        "usage_records", "analytics_events",
    }
)  # fmt: skip


def context_of(table_name: str) -> str | None:
    """The bounded context whose models declare ``table_name`` (kernel = shared kernel)."""
    for module in CONTEXT_MODELS:
        for value in vars(module).values():
            if getattr(value, "__tablename__", None) == table_name:
                return str(module.__name__).split(".")[1]
    return None


__all__ = ["CONTEXT_MODELS", "V1_TABLES", "context_of", "metadata"]
