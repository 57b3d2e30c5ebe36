"""Shared decode for analyzers: audio at 16 kHz mono and adaptively sampled frames, decoded once."""
