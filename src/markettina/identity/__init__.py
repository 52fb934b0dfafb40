"""Identity: users, accounts, memberships, API keys, staff, social accounts and permissions."""
