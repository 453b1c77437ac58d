"""TinyMLPerf: the rules as data, the measurement harness and the `tito` CLI."""

__version__ = "0.1.0"
