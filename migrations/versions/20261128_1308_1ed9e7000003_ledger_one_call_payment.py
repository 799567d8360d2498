"""ledger: a payment posted in one call

Revision ID: 1ed9e7000003
Revises: e9a0e7000003
Create Date: 2026-11-28 13:08:00

On PostgreSQL a single payment (a bank callback, a payment typed at the counter) is posted by one call
of `ledger_post_payment`: the same rules as the batch function `ledger_post_payments` (migration
`1ed9e7000002`) and the portable path in `ledger/payments.py`, written step by step for one payment
instead of as set operations over arrays. For one payment the batch function's window functions, array
aggregates and ten-way CTE cost several times more server CPU than the work itself.

Steps: find the receivable (by contract id, else by bill ID; an unknown bill ID goes to suspense),
claim the journal by its key (a key taken earlier returns the original result when the fingerprint
matches, a conflict otherwise), lock the receivable, post cash against it, move its cached balance,
apply the payment to the oldest open charges, record the payment and its audit entry.

Each statement of a PL/pgSQL function takes a fresh snapshot (READ COMMITTED): the balance read under
the lock and the open charges read after it include what the previous holder of the lock committed.
"""

from alembic import op

revision = "1ed9e7000003"
down_revision = "e9a0e7000003"
branch_labels = None
depends_on = None

FUNCTION = r"""
-- r_status: posted | suspense | duplicate (the key's journal has the same fingerprint) | conflict (it
-- has another) | no_account (a contract id with no receivable). r_bill_ids: for a posted payment the
-- bills it settled in full, oldest first; for a duplicate the bills its original journal applied
-- credit to.
CREATE FUNCTION ledger_post_payment(
    p_key text, p_fingerprint text, p_channel text, p_reference text, p_amount bigint, p_paid_on date,
    p_contract_id bigint, p_bill_id text, p_payment_id text,
    p_actor_id integer, p_actor_name text, p_address text, p_client text, p_now timestamptz,
    OUT r_status text, OUT r_journal_id bigint, OUT r_contract_id bigint, OUT r_amount bigint,
    OUT r_bill_ids text[])
LANGUAGE plpgsql
-- Every table is read by key, through an index: no seq scan, even one planned while a table was still
-- small (a fresh database filling up).
SET enable_seqscan = off
AS $$
DECLARE
    v_account bigint;
    v_contract bigint;
    v_balance bigint;
    v_credit bigint;
    v_cash bigint;
    v_kind text := 'payment';
    v_fingerprint text;
    v_left bigint;
    v_part bigint;
    c record;
BEGIN
    r_bill_ids := '{}';
    IF p_contract_id IS NOT NULL THEN
        SELECT a.id, a.contract_id INTO v_account, v_contract FROM ledger_accounts a
        WHERE a.contract_id = p_contract_id AND a.kind = 'receivable';
        IF v_account IS NULL THEN
            r_status := 'no_account';
            RETURN;
        END IF;
    ELSE
        SELECT a.id, a.contract_id INTO v_account, v_contract FROM ledger_accounts a
        WHERE a.bill_id = p_bill_id AND a.kind = 'receivable';
    END IF;

    IF p_payment_id <> '' AND v_account IS NOT NULL AND EXISTS (  -- paid with an installment's own payment ID
            SELECT 1 FROM ledger_installments i JOIN ledger_installment_plans p ON p.id = i.plan_id
            WHERE i.payment_id = p_payment_id AND p.account_id = v_account) THEN
        v_kind := 'installment';
    END IF;

    INSERT INTO ledger_journals (kind, contract_id, idempotency_key, fingerprint, effective_on, reason, actor_id,
                                 created_at)
    VALUES (v_kind, v_contract, p_key, p_fingerprint, p_paid_on, left(p_channel || ' ' || p_reference, 500),
            p_actor_id, p_now)
    ON CONFLICT DO NOTHING
    RETURNING id INTO r_journal_id;

    IF r_journal_id IS NULL THEN  -- the key was taken, by an earlier request or a concurrent one now committed
        SELECT j.id, j.fingerprint INTO r_journal_id, v_fingerprint FROM ledger_journals j
        WHERE j.idempotency_key = p_key;
        IF v_fingerprint IS DISTINCT FROM p_fingerprint THEN
            r_status := 'conflict';
            RETURN;
        END IF;
        r_status := 'duplicate';
        SELECT pm.contract_id, pm.amount INTO r_contract_id, r_amount FROM ledger_payments pm
        WHERE pm.journal_id = r_journal_id;
        SELECT coalesce(array_agg(ch.bill_id::text ORDER BY al.id), '{}') INTO r_bill_ids
        FROM ledger_allocations al JOIN ledger_charges ch ON ch.id = al.charge_id
        WHERE al.journal_id = r_journal_id AND al.amount > 0 AND ch.bill_id <> '';
        RETURN;
    END IF;

    -- The contract's balance is locked until commit; a row locked after a wait is read as its holder
    -- committed it.
    IF v_account IS NOT NULL THEN
        SELECT a.balance INTO v_balance FROM ledger_accounts a WHERE a.id = v_account FOR UPDATE;
        v_credit := v_account;
        r_status := 'posted';
    ELSE
        v_credit := ledger_system_account('suspense', '');
        r_status := 'suspense';
    END IF;
    SELECT a.id INTO v_cash FROM ledger_accounts a WHERE a.code = 'cash:' || p_channel;
    IF v_cash IS NULL THEN  -- a channel's first payment opens its cash account
        v_cash := ledger_system_account('cash', p_channel);
    END IF;

    INSERT INTO ledger_postings (journal_id, account_id, amount, line)
    VALUES (r_journal_id, v_cash, p_amount, left(p_channel, 64)), (r_journal_id, v_credit, -p_amount, 'payment');

    IF v_account IS NOT NULL THEN
        UPDATE ledger_accounts SET balance = balance - p_amount WHERE id = v_account;
        -- The debt it pays off, applied to the open charges oldest first.
        v_left := greatest(v_balance, 0) - greatest(v_balance - p_amount, 0);
        IF v_left > 0 THEN
            FOR c IN SELECT ch.id, ch.bill_id, ch.amount - coalesce(
                             (SELECT sum(al.amount) FROM ledger_allocations al WHERE al.charge_id = ch.id), 0) AS open
                     FROM ledger_charges ch WHERE ch.account_id = v_account
                     ORDER BY ch.due_on, ch.id LOOP
                CONTINUE WHEN c.open <= 0;
                v_part := least(c.open, v_left);
                INSERT INTO ledger_allocations (charge_id, journal_id, amount) VALUES (c.id, r_journal_id, v_part);
                IF v_part = c.open AND c.bill_id <> '' THEN
                    r_bill_ids := r_bill_ids || c.bill_id::text;
                END IF;
                v_left := v_left - v_part;
                EXIT WHEN v_left = 0;
            END LOOP;
        END IF;
    END IF;

    INSERT INTO ledger_payments (journal_id, channel, reference, paid_on, amount, contract_id, bill_id, payment_id)
    VALUES (r_journal_id, p_channel, p_reference, p_paid_on, p_amount, v_contract, p_bill_id, p_payment_id);
    INSERT INTO audit_log (at, actor_id, actor_name, action, object_type, object_id, detail, address, client)
    VALUES (p_now, p_actor_id, p_actor_name, 'ledger.payment_posted', 'Journal', r_journal_id::text,
            json_build_object('contract_id', v_contract, 'amount', p_amount, 'channel', p_channel,
                              'reference', p_reference, 'suspense', v_account IS NULL),
            p_address, p_client);
    r_contract_id := v_contract;
    r_amount := p_amount;
END;
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_post_payment(text, text, text, text, bigint, date, bigint, text, "
                   "text, integer, text, text, text, timestamptz)")
