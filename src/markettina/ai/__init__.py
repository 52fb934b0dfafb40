"""AI services: AI jobs, text/image/video generations and Brand DNA."""
