"""Huey tasks of the core mechanisms (autodiscovered by huey.contrib.djhuey)."""

# --- outbox delivery ---------------------------------------------------------

# --- audit checkpoints -------------------------------------------------------
