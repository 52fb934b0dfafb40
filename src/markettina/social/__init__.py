"""Social: cross-posting, comments and mentions."""
