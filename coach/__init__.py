"""Coach: a local-first session coach for reverse mentoring programmes."""

__version__ = "0.1.0"
