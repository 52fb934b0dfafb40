"""Database access: servers, roles, engines, sessions and the tenant context."""
