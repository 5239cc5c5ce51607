"""autoresearch: autonomous ML research with sandboxed, multi-seed, trustworthy experiments."""

__version__ = "0.1.0"
