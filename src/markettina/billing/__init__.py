"""Billing: token wallets and ledger, pricing, Stripe payments, invoices, promos, referrals."""
