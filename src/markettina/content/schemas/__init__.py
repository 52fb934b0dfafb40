"""Request and response models of the content context, one module per area."""
