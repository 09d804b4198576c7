"""fwharden: build bare-metal firmware and prove it safe to run in interrupt context."""

__version__ = "0.1.0"
