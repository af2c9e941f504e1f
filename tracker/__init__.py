"""Live-story update tracker."""

__version__ = "0.1.0"
