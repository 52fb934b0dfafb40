"""The identity context's request and response models, one module per area."""
