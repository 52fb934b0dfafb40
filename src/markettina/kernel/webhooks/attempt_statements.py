"""The two statements of an attempt's hot path, compiled once: the claim of a due
delivery and the record of its outcome, each one round trip (a worker spent most of an
attempt building, compiling and synchronizing ORM statements, several per step).

Each is sent with the statement that sets the tenant ahead of it, in one round trip
(``BEGIN`` included, ``kernel.db.tenant.enter_tenant``), so row-level security applies
as usual.
"""

from __future__ import annotations

from sqlalchemy import text

from ..db.raw import CompiledQuery

# A pending or failed delivery that is due, of a live endpoint that has a secret: moved to
# 'delivering' under a lease and its attempt logged. No row: anything else (not due, done,
# another worker on it, a lease run out, an endpoint gone), which the ORM path sorts out.
# The UPDATE waits for a concurrent claim or record of the row, then re-checks the WHERE,
# so one claim wins.
CLAIM = CompiledQuery(
    text(
        """
        WITH claimed AS (
            UPDATE webhook_deliveries AS d
            SET status = 'delivering', attempts = d.attempts + 1,
                next_retry_at = now() + :lease
            FROM webhooks AS w
            WHERE d.account_id = :account_id AND d.id = :delivery_id
              AND d.status IN ('pending', 'failed') AND d.next_retry_at <= now()
              AND w.account_id = d.account_id AND w.id = d.webhook_id
              AND w.is_active AND w.deleted_at IS NULL AND w.secret_encrypted IS NOT NULL
            RETURNING d.webhook_id, d.attempts AS number, d.event_id, d.event_type,
                d.payload, w.url, w.secret_encrypted,
                CASE WHEN w.previous_secret_expires_at > now()
                     THEN w.previous_secret_encrypted END AS previous_secret_encrypted,
                w.retry_count, w.retry_delay_seconds
        ), logged AS (
            INSERT INTO webhook_attempts (account_id, delivery_id, number)
            SELECT :account_id, :delivery_id, number FROM claimed
        )
        SELECT * FROM claimed
        """
    )
)

# The attempt's outcome: the delivery (if this attempt still owns it), its log line (in
# any case), and the endpoint's counters and failure run (if it owned it). ``owned`` is
# false when the lease ran out and another attempt took over.
RECORD = CompiledQuery(
    text(
        """
        WITH delivery AS (
            UPDATE webhook_deliveries
            SET status = :status, next_retry_at = :next_retry_at, sent_at = :now,
                response_code = :response_code, response_body = :response_body,
                response_time_ms = :response_time_ms, last_error = :error
            WHERE account_id = :account_id AND id = :delivery_id
              AND status = 'delivering' AND attempts = :number
            RETURNING webhook_id
        ), attempt AS (
            UPDATE webhook_attempts
            SET outcome = CASE WHEN :succeeded THEN 'succeeded' ELSE 'failed' END,
                finished_at = :now, response_code = :response_code,
                response_time_ms = :response_time_ms, error = :error
            WHERE account_id = :account_id AND delivery_id = :delivery_id
              AND number = :number
        ), endpoint AS (
            UPDATE webhooks AS w
            SET successful_deliveries =
                    w.successful_deliveries + CASE WHEN :succeeded THEN 1 ELSE 0 END,
                failed_deliveries =
                    w.failed_deliveries + CASE WHEN :abandoned THEN 1 ELSE 0 END,
                consecutive_failures =
                    CASE WHEN :succeeded THEN 0 ELSE w.consecutive_failures + 1 END,
                failing_since =
                    CASE WHEN :succeeded THEN NULL ELSE coalesce(w.failing_since, :now) END,
                last_delivery_at = :now
            FROM delivery
            WHERE w.account_id = :account_id AND w.id = delivery.webhook_id
            RETURNING w.consecutive_failures, w.failing_since, w.is_active
        )
        SELECT e.consecutive_failures IS NOT NULL AS owned, e.consecutive_failures,
               e.failing_since, e.is_active
        FROM (SELECT) AS one LEFT JOIN endpoint AS e ON true
        """
    )
)
