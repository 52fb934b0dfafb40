"""HTTP plumbing shared by every router: request ids, problem+json, metrics, health, and
the rules every input follows (inputs, nul_guard)."""
