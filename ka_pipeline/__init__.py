"""ka-pipeline: key-account analytics from retail-chain feeds to scorecard emails."""

__version__ = "0.1.0"
