"""One media pipeline: ``open_media(path, probe)`` decodes each stream once and serves every analyzer.

See :mod:`openvod.pipeline.media` for the shared rules (time origin, timestamps, corrupt packets,
rotation) and :mod:`openvod.pipeline.probe` for the probe stored at RegisterMedia.
"""

from openvod.pipeline.audio import AudioTrack
from openvod.pipeline.frames import Frame
from openvod.pipeline.media import DecodeStats, Media, VideoNeed, open_media
from openvod.pipeline.probe import DecodeError, MediaProbe, MissingStream, probe_file, stored_probe
from openvod.pipeline.sampling import FrameSampler, SamplerOptions, SelectedFrame

__all__ = ["AudioTrack", "DecodeError", "DecodeStats", "Frame", "FrameSampler", "Media", "MediaProbe",
           "MissingStream", "SamplerOptions", "SelectedFrame", "VideoNeed", "open_media", "probe_file",
           "stored_probe"]
