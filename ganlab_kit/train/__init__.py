"""Training: the Run protocol, each model's step and run, the background session, guards, acceleration, checkpoints."""
