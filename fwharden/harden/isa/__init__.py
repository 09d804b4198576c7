"""isa layer."""
