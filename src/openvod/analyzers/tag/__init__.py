"""AIVideoTag analyzers: ASR, OCR, Face, Keyword/Location/Time, Category, Annotation (see docs/tag.md)."""
