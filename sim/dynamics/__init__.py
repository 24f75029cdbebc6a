"""Pure numpy functions for the continuous dynamics (no Mesa, no I/O), tested against closed forms."""
