"""Smart covers and GIF highlights (AIImage jobs): decode once, find shots, score frames, pick, render.

Modules: ``samples`` (frames from the media pipeline, ``openvod.pipeline``), ``metrics`` (per-frame measures), ``shots`` (cuts and gradual
transitions), ``faces`` and ``text`` (candidates only), ``scoring`` (criteria, weights, 0-10 Score),
``dedup``, ``picker`` (the analysis), ``cover`` / ``gif`` (output), ``images`` (entry point) and
``handler`` (the job handler). See docs/aiimage.md.
"""
