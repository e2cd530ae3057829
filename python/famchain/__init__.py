"""famchain: consent-gated, tamper-evident family-doctor medical records on an EVM consortium chain."""

__version__ = "0.1.0"
