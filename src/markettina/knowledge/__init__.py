"""Knowledge base: documents, chunks with embeddings, and search history."""
