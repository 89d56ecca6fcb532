"""Training: steps, the background session, checkpoints."""
