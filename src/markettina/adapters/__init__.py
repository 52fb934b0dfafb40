"""Adapters: the outside world (Stripe, AI, social networks, storage, e-mail) behind ports."""
