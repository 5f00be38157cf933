"""The parts of the LR tools and plots: curves and figures, the range test's state and result, the probes
and the LR choice's result, and what both tools train with."""
