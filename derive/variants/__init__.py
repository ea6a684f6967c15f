"""`derive variants` (SPEC §10): one question sheet and key per student, built in parallel, each marked with its
id, name and a QR code; see `command.run`."""
