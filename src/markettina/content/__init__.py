"""Content: campaigns, posts, templates, versions, A/B variants and media."""
