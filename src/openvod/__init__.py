"""openvod: a self-hosted, wire-compatible ApsaraVideo VOD AI server."""

__version__ = "0.1.0"
