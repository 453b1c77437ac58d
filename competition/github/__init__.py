"""GitHub glue: PR change checks, hostile-artifact checks, the sticky bot comment, and the lifecycle rehearsal."""
