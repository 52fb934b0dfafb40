"""One look-up for a signed-in person's request: user, session, home and acting account,
and the roles that apply, in a single round trip (the request pipeline's hot path).

Revision ID: 0007_identity_user_context
Revises: 0006_identity_sign_in
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_identity_user_context"
down_revision: str | None = "0006_identity_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"

FUNCTION = """
CREATE FUNCTION identity_user_context(
    p_user_id integer, p_family uuid, p_home uuid, p_acting uuid
)
RETURNS TABLE (
    user_active boolean, session_live boolean,
    home_found boolean, home_suspended boolean,
    acting_found boolean, acting_parent uuid, acting_suspended boolean,
    own_role text, parent_role text, parent_suspended boolean,
    grant_permissions text[], grant_resource_types text[], grant_resource_ids uuid[]
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT
        coalesce((SELECT u.is_active FROM users u WHERE u.id = p_user_id), false),
        EXISTS (SELECT 1 FROM refresh_tokens r
                WHERE r.family_id = p_family AND r.user_id = p_user_id
                  AND r.revoked_at IS NULL),
        h.id IS NOT NULL,
        coalesce(h.suspended_at IS NOT NULL OR NOT h.is_active, false),
        a.id IS NOT NULL,
        a.parent_account_id,
        coalesce(a.suspended_at IS NOT NULL OR NOT a.is_active, false),
        (SELECT m.role FROM account_memberships m
         WHERE m.account_id = a.id AND m.user_id = p_user_id),
        (SELECT m.role FROM account_memberships m
         JOIN accounts p ON p.id = m.account_id AND p.deleted_at IS NULL
         WHERE m.account_id = a.parent_account_id AND m.user_id = p_user_id),
        (SELECT p.suspended_at IS NOT NULL OR NOT p.is_active FROM accounts p
         WHERE p.id = a.parent_account_id),
        g.permissions, g.resource_types, g.resource_ids
    FROM (SELECT 1) AS one
    LEFT JOIN accounts h ON h.id = p_home AND h.deleted_at IS NULL
    LEFT JOIN accounts a ON a.id = p_acting AND a.deleted_at IS NULL
    -- the person's live grants in the acting account
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(up.permission ORDER BY up.id), '{}') AS permissions,
               coalesce(array_agg(up.resource_type ORDER BY up.id), '{}') AS resource_types,
               coalesce(array_agg(up.resource_id ORDER BY up.id), '{}') AS resource_ids
        FROM user_permissions up
        WHERE up.account_id = p_acting AND up.user_id = p_user_id
          AND (up.expires_at IS NULL OR up.expires_at > now())
    ) AS g
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(
        "REVOKE ALL ON FUNCTION identity_user_context(integer, uuid, uuid, uuid) FROM PUBLIC"
    )
    op.execute(
        f"GRANT EXECUTE ON FUNCTION identity_user_context(integer, uuid, uuid, uuid) TO {APP_ROLE}"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION identity_user_context(integer, uuid, uuid, uuid)")
