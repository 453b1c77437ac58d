"""Sandbox for untrusted submission code: static check, resource limits, worker process, worker main."""
