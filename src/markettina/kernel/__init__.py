"""The shared kernel: used by every bounded context, knows none of them."""
