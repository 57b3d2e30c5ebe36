"""AIMediaAudit: offline content moderation (porn, ad, live, terrorism, logo, text, audio).

Pure analyzers: frames, text and typed options in, typed results out. No store, runtime, services,
settings, blobs or HTTP here; the job glue is :mod:`openvod.services.audit_handler` and
:mod:`openvod.services.audit`. See docs/audit.md for models, rules and thresholds.
"""
