"""The database refuses two prices of one service whose validity periods overlap: the
charge reads the price in effect on a day, and two rows in effect would charge twice.
``set_price`` already closes the period it replaces; this holds whatever writes the table.

An exclusion constraint would need ``btree_gist`` (equality on text in a GiST index),
which the embedded server does not ship, so it is a constraint trigger under the same
advisory lock per service that ``set_price`` takes: a second writer of one service waits
for the first to commit, then its check sees the first's row (READ COMMITTED takes a new
snapshot per statement). REPEATABLE READ cannot see a row committed after its snapshot,
so a price is never written at that level; SERIALIZABLE detects the conflict itself.

Revision ID: 0021_price_periods_exclusive
Revises: 0020_explicit_function_grants
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_price_periods_exclusive"
down_revision: str | None = "0020_explicit_function_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
CHECK = "service_pricing_periods_exclusive()"
TRIGGER = "service_pricing_periods_exclusive"

# the lock key is set_price's: 'service_pricing:<type>/<subtype or empty>'
FUNCTION = """
CREATE FUNCTION service_pricing_periods_exclusive() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    other service_pricing%ROWTYPE;
BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'service_pricing is written at READ COMMITTED or SERIALIZABLE'
            USING ERRCODE = 'serialization_failure',
                  HINT = 'a REPEATABLE READ snapshot cannot see a concurrent price';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(
        'service_pricing:' || NEW.service_type || '/' || coalesce(NEW.service_subtype, '')));
    SELECT * INTO other FROM service_pricing p
    WHERE p.service_type = NEW.service_type
      AND p.service_subtype IS NOT DISTINCT FROM NEW.service_subtype
      AND p.id <> NEW.id
      AND daterange(p.effective_from, p.effective_to, '[]')
          && daterange(NEW.effective_from, NEW.effective_to, '[]')
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the price period % to % of %/% overlaps the one from % to %',
            NEW.effective_from, coalesce(NEW.effective_to::text, 'open'), NEW.service_type,
            coalesce(NEW.service_subtype, ''), other.effective_from,
            coalesce(other.effective_to::text, 'open')
            USING ERRCODE = 'exclusion_violation', TABLE = 'service_pricing',
                  CONSTRAINT = 'service_pricing_periods_exclusive';
    END IF;
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {CHECK} FROM PUBLIC, {APP_ROLE}")
    op.execute(
        f"CREATE CONSTRAINT TRIGGER {TRIGGER}"
        " AFTER INSERT OR UPDATE OF service_type, service_subtype, effective_from, effective_to"
        f" ON service_pricing FOR EACH ROW EXECUTE FUNCTION {CHECK}"
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {TRIGGER} ON service_pricing")
    op.execute(f"DROP FUNCTION {CHECK}")
