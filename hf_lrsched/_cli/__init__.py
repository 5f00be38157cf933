"""The ``hf-lrsched`` subcommands: ``list``, ``plot`` and ``run``."""
