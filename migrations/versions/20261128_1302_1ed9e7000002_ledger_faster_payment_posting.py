"""ledger: faster payment posting

Revision ID: 1ed9e7000002
Revises: e9a0e7000001
Create Date: 2026-11-28 13:02:00

On PostgreSQL a batch of payments (one from a bank callback, a thousand from a bank file) is posted by
one call of `ledger_post_payments`: one round trip instead of about ten. It follows the rules of the
portable path in `ledger/payments.py` (used on SQLite) step by step: claim a journal per bank
reference, lock the contracts' accounts in id order, post cash against the receivable (or suspense),
move the cached balances, apply each payment to the oldest open charges, record the payment and its
audit entry. A key taken earlier returns the original journal and its fingerprint.

Each statement of a PL/pgSQL function takes a fresh snapshot (READ COMMITTED), so what is read after
the lock (balances, open charges) includes whatever the previous holder of the lock committed.
"""

from alembic import op

revision = "1ed9e7000002"
down_revision = "e9a0e7000001"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION ledger_system_account(p_kind text, p_name text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_code text := CASE WHEN p_name = '' THEN p_kind ELSE p_kind || ':' || p_name END;
    v_id bigint;
BEGIN
    SELECT id INTO v_id FROM ledger_accounts WHERE code = v_code;
    IF v_id IS NULL THEN
        INSERT INTO ledger_accounts (code, kind, name, created_at) VALUES (v_code, p_kind, p_name, now())
            ON CONFLICT DO NOTHING RETURNING id INTO v_id;
        IF v_id IS NULL THEN  -- made meanwhile by a concurrent transaction, now committed
            SELECT id INTO v_id FROM ledger_accounts WHERE code = v_code;
        END IF;
    END IF;
    RETURN v_id;
END;
$$;

-- One row per request (r_n: its position, from 1). r_status: posted | suspense | duplicate (the key's
-- journal has the same fingerprint) | conflict (it has another) | no_account (a contract id with no
-- receivable). r_bill_ids: for a posted payment the bills it settled in full; for a duplicate the
-- bills its original journal applied credit to.
CREATE FUNCTION ledger_post_payments(
    p_keys text[], p_fingerprints text[], p_channels text[], p_references text[], p_amounts bigint[],
    p_paid_on date[], p_contract_ids bigint[], p_bill_ids text[], p_payment_ids text[],
    p_actor_id integer, p_actor_name text, p_address text, p_client text, p_now timestamptz)
RETURNS TABLE (r_n integer, r_status text, r_journal_id bigint, r_contract_id bigint, r_amount bigint,
               r_bill_ids text[])
LANGUAGE plpgsql
-- Each statement is planned once per connection: planning them afresh on every call cost more than
-- running them. One plan suits one row or thousands because every table is read by key, through an
-- index; no seq scan, even one planned while a table was still small (a fresh database filling up).
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_account bigint[];   -- per request: the receivable it pays (null: none, see r_status)
    v_contract bigint[];
    v_journal bigint[];   -- per request: the journal it claimed (null: its key was taken)
    v_locked bigint[];    -- the receivables locked, and their balances once locked
    v_balance bigint[];
    v_channels text[];
    v_cash bigint[];
    v_suspense bigint;
BEGIN
    -- The receivable each request pays, and a journal claimed by the first request with each key.
    WITH req AS (
        SELECT r.*, acc.id AS account_id, acc.contract_id AS account_contract,
               (r.contract_id IS NULL OR acc.id IS NOT NULL) AS payable  -- an unknown bill ID goes to suspense
        FROM unnest(p_keys, p_fingerprints, p_channels, p_references, p_paid_on, p_contract_ids, p_bill_ids,
                    p_payment_ids)
             WITH ORDINALITY AS r(key, fp, channel, reference, paid_on, contract_id, bill_id, payment_id, n)
        LEFT JOIN LATERAL (
            SELECT a.id, a.contract_id FROM ledger_accounts a
            WHERE a.contract_id = r.contract_id AND a.kind = 'receivable'
            UNION ALL
            SELECT a.id, a.contract_id FROM ledger_accounts a
            WHERE r.contract_id IS NULL AND a.bill_id = r.bill_id AND a.kind = 'receivable'
            LIMIT 1
        ) acc ON true
    ), firsts AS (
        SELECT req.*, req.n = min(req.n) FILTER (WHERE req.payable) OVER (PARTITION BY req.key) AS first_of_key
        FROM req
    ), claimed AS (
        INSERT INTO ledger_journals AS j (kind, contract_id, idempotency_key, fingerprint, effective_on, reason,
                                          actor_id, created_at)
        SELECT CASE WHEN f.payment_id <> '' AND EXISTS (  -- paid with an installment's own payment ID
                        SELECT 1 FROM ledger_installments i
                        WHERE i.payment_id = f.payment_id AND i.plan_id IN (
                            SELECT p.id FROM ledger_installment_plans p WHERE p.account_id = f.account_id))
                    THEN 'installment' ELSE 'payment' END,
               f.account_contract, f.key, f.fp, f.paid_on, left(f.channel || ' ' || f.reference, 500), p_actor_id,
               p_now
        FROM firsts f WHERE f.first_of_key ORDER BY f.n
        ON CONFLICT DO NOTHING
        RETURNING j.idempotency_key, j.id
    )
    SELECT array_agg(f.account_id ORDER BY f.n), array_agg(f.account_contract ORDER BY f.n),
           array_agg(c.id ORDER BY f.n)
      INTO v_account, v_contract, v_journal
    FROM firsts f LEFT JOIN claimed c ON c.idempotency_key = f.key AND f.first_of_key;

    -- The contracts' balances are locked until commit, in id order (two writers never wait crosswise).
    -- A row locked after a wait is read as the holder committed it.
    SELECT array_agg(l.id), array_agg(l.balance) INTO v_locked, v_balance
    FROM (SELECT a.id, a.balance FROM ledger_accounts a
          WHERE a.id = ANY (ARRAY(SELECT x.account_id FROM unnest(v_account, v_journal) AS x(account_id, journal_id)
                                  WHERE x.journal_id IS NOT NULL))
          ORDER BY a.id FOR UPDATE) l;

    SELECT array_agg(s.channel), array_agg(a.id) INTO v_channels, v_cash
    FROM (SELECT DISTINCT x.channel FROM unnest(p_channels, v_journal) AS x(channel, journal_id)
          WHERE x.journal_id IS NOT NULL) s
    LEFT JOIN ledger_accounts a ON a.code = 'cash:' || s.channel;
    IF array_position(v_cash, NULL) IS NOT NULL THEN  -- a channel's first payment opens its cash account
        SELECT array_agg(ledger_system_account('cash', ch)) INTO v_cash FROM unnest(v_channels) AS ch;
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(v_account, v_journal) AS x(account_id, journal_id)
               WHERE x.journal_id IS NOT NULL AND x.account_id IS NULL) THEN
        v_suspense := ledger_system_account('suspense', '');
    END IF;

    -- Post. (The sub-statements below all read one snapshot; none reads what another writes.)
    RETURN QUERY
    WITH pay AS (
        SELECT x.*, cash.id AS cash_id
        FROM unnest(v_journal, v_account, v_contract, p_amounts, p_channels, p_references, p_paid_on, p_bill_ids,
                    p_payment_ids)
             WITH ORDINALITY AS x(journal_id, account_id, contract_id, amount, channel, reference, paid_on, bill_id,
                                  payment_id, n)
        JOIN unnest(v_channels, v_cash) AS cash(channel, id) ON cash.channel = x.channel
        WHERE x.journal_id IS NOT NULL
    ), running AS (  -- each payment to a contract sees the balance the earlier ones in the batch left
        SELECT p.*, b.balance - coalesce(sum(p.amount) OVER (PARTITION BY p.account_id ORDER BY p.n
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
        FROM pay p JOIN unnest(v_locked, v_balance) AS b(id, balance) ON b.id = p.account_id
    ), applied AS (  -- the debt it pays off, as a range [a_end - part, a_end) of the contract's open debt
        SELECT r.*, sum(r.part) OVER (PARTITION BY r.account_id ORDER BY r.n) AS a_end
        FROM (SELECT running.*, greatest(running.before, 0) - greatest(running.before - running.amount, 0) AS part
              FROM running) r
    ), charges AS (  -- open charges, oldest first, as ranges [c_end - open, c_end) of the same debt
        SELECT o.*, sum(o.open) OVER (PARTITION BY o.account_id ORDER BY o.due_on, o.id) AS c_end
        FROM (SELECT ch.account_id, ch.id, ch.bill_id, ch.due_on, ch.amount - coalesce(al.applied, 0) AS open
              FROM ledger_charges ch
              LEFT JOIN LATERAL (SELECT sum(al.amount) AS applied FROM ledger_allocations al
                                 WHERE al.charge_id = ch.id) al ON true
              WHERE ch.account_id = ANY (ARRAY(SELECT applied.account_id FROM applied WHERE applied.part > 0))) o
        WHERE o.open > 0
    ), parts AS (  -- where the two ranges overlap, that much of the payment settles that charge
        SELECT ap.journal_id, ap.n, c.id AS charge_id, c.bill_id, c.c_end,
               least(ap.a_end, c.c_end) - greatest(ap.a_end - ap.part, c.c_end - c.open) AS amount,
               c.c_end <= ap.a_end AS settles
        FROM applied ap JOIN charges c ON c.account_id = ap.account_id
             AND c.c_end - c.open < ap.a_end AND c.c_end > ap.a_end - ap.part
        WHERE ap.part > 0
    ), postings AS (
        INSERT INTO ledger_postings (journal_id, account_id, amount, line)
        SELECT l.journal_id, l.account_id, l.amount, l.line FROM (
            SELECT p.n, 1 AS seq, p.journal_id, p.cash_id AS account_id, p.amount, left(p.channel, 64) AS line
            FROM pay p
            UNION ALL
            SELECT p.n, 2, p.journal_id, coalesce(p.account_id, v_suspense), -p.amount, 'payment' FROM pay p
        ) l ORDER BY l.n, l.seq
    ), balances AS (
        UPDATE ledger_accounts a SET balance = a.balance - d.paid
        FROM (SELECT p.account_id, sum(p.amount) AS paid FROM pay p WHERE p.account_id IS NOT NULL
              GROUP BY p.account_id) d
        WHERE a.id = d.account_id
    ), allocations AS (
        INSERT INTO ledger_allocations (charge_id, journal_id, amount)
        SELECT parts.charge_id, parts.journal_id, parts.amount FROM parts ORDER BY parts.n, parts.c_end
    ), payments AS (
        INSERT INTO ledger_payments (journal_id, channel, reference, paid_on, amount, contract_id, bill_id, payment_id)
        SELECT p.journal_id, p.channel, p.reference, p.paid_on, p.amount, p.contract_id, p.bill_id, p.payment_id
        FROM pay p ORDER BY p.n
    ), audits AS (
        INSERT INTO audit_log (at, actor_id, actor_name, action, object_type, object_id, detail, address, client)
        SELECT p_now, p_actor_id, p_actor_name, 'ledger.payment_posted', 'Journal', p.journal_id::text,
               json_build_object('contract_id', p.contract_id, 'amount', p.amount, 'channel', p.channel,
                                 'reference', p.reference, 'suspense', p.account_id IS NULL),
               p_address, p_client
        FROM pay p ORDER BY p.n
    )
    SELECT p.n::integer, CASE WHEN p.account_id IS NULL THEN 'suspense' ELSE 'posted' END, p.journal_id,
           p.contract_id, p.amount, coalesce(settled.bill_ids, '{}')
    FROM pay p LEFT JOIN (SELECT parts.journal_id, array_agg(parts.bill_id::text ORDER BY parts.c_end) AS bill_ids
                          FROM parts WHERE parts.settles AND parts.bill_id <> '' GROUP BY parts.journal_id) settled
                         ON settled.journal_id = p.journal_id;

    -- The requests that claimed nothing. This statement sees the batch's own postings.
    RETURN QUERY
    SELECT x.n::integer,
           CASE WHEN x.contract_id IS NOT NULL AND x.account_id IS NULL THEN 'no_account'
                WHEN j.fingerprint = x.fp THEN 'duplicate' ELSE 'conflict' END,
           j.id, pm.contract_id, pm.amount,
           coalesce((SELECT array_agg(c.bill_id::text ORDER BY al.id) FROM ledger_allocations al
                     JOIN ledger_charges c ON c.id = al.charge_id
                     WHERE al.journal_id = j.id AND al.amount > 0 AND c.bill_id <> ''), '{}')
    FROM unnest(p_keys, p_fingerprints, p_contract_ids, v_account, v_journal)
         WITH ORDINALITY AS x(key, fp, contract_id, account_id, journal_id, n)
    LEFT JOIN ledger_journals j ON j.idempotency_key = x.key
                               AND NOT (x.contract_id IS NOT NULL AND x.account_id IS NULL)
    LEFT JOIN ledger_payments pm ON pm.journal_id = j.id
    WHERE x.journal_id IS NULL;
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_post_payments(text[], text[], text[], text[], bigint[], date[], "
                   "bigint[], text[], text[], integer, text, text, text, timestamptz)")
        op.execute("DROP FUNCTION IF EXISTS ledger_system_account(text, text)")
