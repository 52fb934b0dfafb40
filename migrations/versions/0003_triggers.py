"""The five trigger families: updated_at, version, change capture into domain_events,
the token wallet ledger, and promo code usage.

Revision ID: 0003_triggers
Revises: 0002_markettina_v2
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_triggers"
down_revision: str | None = "0002_markettina_v2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "markettina_app"
CHANGE_CAPTURED = (("leads", "lead"), ("campaigns", "campaign"), ("brand_dna", "brand_dna"))

FUNCTIONS = """
-- 1. updated_at follows every change of a row
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

-- 2. version counts the changes of an aggregate root (optimistic locking)
CREATE FUNCTION bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;

-- 3. change capture: one domain event per change of a captured aggregate, in the same
--    transaction. Runs as the caller, so row-level security applies to the event too.
CREATE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    aggregate text := TG_ARGV[0];
    action text;
    payload jsonb;
    changed text[];
    row_data jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        action := 'created';
        row_data := to_jsonb(NEW);
        payload := jsonb_build_object('after', row_data);
    ELSIF TG_OP = 'UPDATE' THEN
        row_data := to_jsonb(NEW);
        SELECT coalesce(array_agg(n.key ORDER BY n.key), '{}') INTO changed
        FROM jsonb_each(row_data) AS n
        WHERE n.key NOT IN ('updated_at', 'version')
          AND n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key;
        IF cardinality(changed) = 0 THEN
            RETURN NULL;
        END IF;
        -- soft delete is an update of deleted_at (read through jsonb: not every table has it)
        action := CASE
            WHEN to_jsonb(OLD) ->> 'deleted_at' IS NULL AND row_data ->> 'deleted_at' IS NOT NULL
                THEN 'deleted'
            WHEN to_jsonb(OLD) ->> 'deleted_at' IS NOT NULL AND row_data ->> 'deleted_at' IS NULL
                THEN 'restored'
            ELSE 'updated' END;
        payload := jsonb_build_object('changed', to_jsonb(changed), 'after', row_data);
    ELSE
        action := 'erased';
        row_data := to_jsonb(OLD);
        payload := jsonb_build_object('before', row_data);
    END IF;
    INSERT INTO domain_events (account_id, aggregate_type, aggregate_id, aggregate_version,
                               event_type, event_data, metadata)
    VALUES ((row_data ->> 'account_id')::uuid, aggregate, row_data ->> 'id',
            coalesce((row_data ->> 'version')::int, 0), aggregate || '.' || action, payload,
            jsonb_build_object('source', 'change_capture', 'table', TG_TABLE_NAME,
                               'transaction_id', txid_current()));
    RETURN NULL;
END $$;

-- 4. the ledger moves the wallet: balance, totals and balance_after from each new
--    transaction. The wallet's CHECK (balance >= 0) turns an overdraft into an error that
--    aborts the whole transaction. SECURITY DEFINER: the application may not write
--    balances itself, only append to the ledger.
CREATE FUNCTION apply_token_transaction() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    new_balance integer;
BEGIN
    UPDATE token_wallets
    SET balance = balance + NEW.amount,
        total_purchased = total_purchased
            + CASE WHEN NEW.type = 'purchase' THEN NEW.amount ELSE 0 END,
        total_used = total_used + CASE WHEN NEW.type = 'usage' THEN -NEW.amount ELSE 0 END,
        total_bonus = total_bonus + CASE WHEN NEW.type = 'bonus' THEN NEW.amount ELSE 0 END,
        total_refunded = total_refunded
            + CASE WHEN NEW.type = 'refund' THEN abs(NEW.amount) ELSE 0 END,
        last_purchase_at = CASE WHEN NEW.type = 'purchase' THEN now() ELSE last_purchase_at END,
        last_usage_at = CASE WHEN NEW.type = 'usage' THEN now() ELSE last_usage_at END
    WHERE account_id = NEW.account_id AND id = NEW.wallet_id
    RETURNING balance INTO new_balance;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'token wallet % does not exist in this account', NEW.wallet_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'token_transactions',
                  CONSTRAINT = 'fk_token_transactions_account_id_wallet_id_token_wallets';
    END IF;
    NEW.balance_after := new_balance;
    RETURN NEW;
END $$;

-- 5. promo codes count their redemptions and refuse one past max_uses
CREATE FUNCTION count_promo_redemption() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE promo_codes SET current_uses = current_uses + 1
        WHERE id = NEW.promo_code_id AND (max_uses IS NULL OR current_uses < max_uses);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'promo code % has reached its maximum number of uses',
                NEW.promo_code_id
                USING ERRCODE = 'check_violation', TABLE = 'promo_codes',
                      CONSTRAINT = 'ck_promo_codes_current_uses_within_max';
        END IF;
        RETURN NEW;
    END IF;
    UPDATE promo_codes SET current_uses = current_uses - 1
    WHERE id = OLD.promo_code_id AND current_uses > 0;
    RETURN OLD;
END $$;

-- installs change capture on a table (the aggregate name becomes the event prefix)
CREATE FUNCTION install_change_capture(target regclass, aggregate text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER capture_change AFTER INSERT OR UPDATE OR DELETE ON %s '
        'FOR EACH ROW EXECUTE FUNCTION capture_change(%L)', target, aggregate);
END $$;
"""


def _tables_with(bind: sa.engine.Connection, column: str) -> list[str]:
    return list(
        bind.execute(
            sa.text(
                "SELECT c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = :column "
                "AND NOT a.attisdropped "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                "AND c.relname NOT LIKE 'procrastinate%' ORDER BY c.relname"
            ),
            {"column": column},
        ).scalars()
    )


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(FUNCTIONS)
    for table in _tables_with(bind, "updated_at"):
        op.execute(
            f"CREATE TRIGGER touch_updated_at BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION touch_updated_at()"
        )
    for table in _tables_with(bind, "version"):
        op.execute(
            f"CREATE TRIGGER bump_version BEFORE UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION bump_version()"
        )
    for table, aggregate in CHANGE_CAPTURED:
        op.execute(f"SELECT install_change_capture('{table}', '{aggregate}')")
    op.execute(
        "CREATE TRIGGER apply_token_transaction BEFORE INSERT ON token_transactions "
        "FOR EACH ROW EXECUTE FUNCTION apply_token_transaction()"
    )
    op.execute(
        "CREATE TRIGGER count_promo_redemption BEFORE INSERT OR DELETE ON promo_redemptions "
        "FOR EACH ROW EXECUTE FUNCTION count_promo_redemption()"
    )
    # balances move only through the ledger: the app creates wallets (at zero) and reads them
    op.execute(f"REVOKE INSERT, UPDATE ON token_wallets FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT (account_id, id, user_id) ON token_wallets TO {APP_ROLE}")
    for function in ("install_change_capture(regclass, text)",):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC, {APP_ROLE}")


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(f"REVOKE INSERT (account_id, id, user_id) ON token_wallets FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT, UPDATE ON token_wallets TO {APP_ROLE}")
    op.execute("DROP TRIGGER count_promo_redemption ON promo_redemptions")
    op.execute("DROP TRIGGER apply_token_transaction ON token_transactions")
    for table, _ in CHANGE_CAPTURED:
        op.execute(f"DROP TRIGGER capture_change ON {table}")
    for table in _tables_with(bind, "version"):
        op.execute(f"DROP TRIGGER bump_version ON {table}")
    for table in _tables_with(bind, "updated_at"):
        op.execute(f"DROP TRIGGER touch_updated_at ON {table}")
    for function in (
        "install_change_capture(regclass, text)",
        "count_promo_redemption()",
        "apply_token_transaction()",
        "capture_change()",
        "bump_version()",
        "touch_updated_at()",
    ):
        op.execute(f"DROP FUNCTION {function}")
