"""``python -m hf_lrsched ...``: the same command line as ``hf-lrsched``."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
