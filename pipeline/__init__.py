"""readout: spaCy pipeline and annotation loop for English news about Chinese politics."""

__version__ = "0.1.0"
