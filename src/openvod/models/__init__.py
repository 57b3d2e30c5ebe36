"""Model loading shared by the analyzers (see :mod:`openvod.models.cache`)."""
