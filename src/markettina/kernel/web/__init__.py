"""HTTP plumbing shared by every router: request ids, problem+json, metrics, health."""
