"""The post-link stages' one error type: the ELF (or a record read with it) is unusable."""


class HardenError(Exception):
    """One line naming the file (and address or section) at fault and what to do."""
