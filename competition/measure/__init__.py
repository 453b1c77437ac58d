"""Measurement protocol: statistics, timing, memory, energy, hardware fingerprint, GEMM peak."""
