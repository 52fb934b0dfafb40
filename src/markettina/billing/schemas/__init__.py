"""The billing context's request and response models, one module per area."""
