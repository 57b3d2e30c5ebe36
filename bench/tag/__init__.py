"""AIVideoTag benchmark and synthetic media with known content."""
