"""matplotlib figures without pyplot, and writing them to a checked path.

Figures are drawn on the non-interactive Agg canvas (no display, no global pyplot state);
matplotlib is needed only here (``pip install hf-lrsched[plot]``). :func:`check_output_path` checks
a destination before any work, so a bad ``--output`` fails at once, naming the option. Used by
:mod:`hf_lrsched.plotting`, the LR range test and the LR choice (all re-exported by ``plotting``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["check_output_path", "new_figure", "save_figure"]


def _figure_class():
    try:
        from matplotlib.figure import Figure  # a Figure made directly draws on Agg: no display, no pyplot state
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'hf-lrsched[plot]'") from None
    return Figure


def new_figure(*, figsize: tuple[float, float], dpi: int = 100):
    """A matplotlib ``Figure`` drawn on Agg (no display, no pyplot state), with constrained layout.

    Raises:
      ImportError: matplotlib is not installed (the message says how to get it).

    Examples:
      >>> new_figure(figsize=(4, 3)).get_size_inches().tolist()
      [4.0, 3.0]
    """
    return _figure_class()(figsize=figsize, dpi=dpi, layout="constrained")


def _image_formats() -> list[str]:
    return sorted(_figure_class()().canvas.get_supported_filetypes())


def check_output_path(path: str | os.PathLike, *, option: str = "output", formats: Sequence[str] | None = None) -> str:
    """Check, before any work, that a file can be written at ``path``.

    The folder must exist and be writable, ``path`` must not be a folder, and its extension must be
    one of ``formats`` (default: the image formats matplotlib writes).

    Args:
      path: the file to write.
      option: the option name used in error messages.
      formats: accepted extensions, without the dot.

    Returns:
      ``path`` as a string.

    Examples:
      >>> check_output_path("curves.txt", option="--output")
      Traceback (most recent call last):
      ...
      ValueError: --output 'curves.txt': unknown format 'txt'; use one of ...
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"{option} {path!r} is a folder; give a file name")
    if not os.path.isdir(folder):
        raise ValueError(f"{option} {path!r}: {os.path.dirname(path) or '.'!r} is not an existing folder")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {path!r} is not writable")
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    formats = _image_formats() if formats is None else list(formats)
    if extension not in formats:
        raise ValueError(f"{option} {path!r}: unknown format {extension!r}; use one of {', '.join(formats)}")
    return path


def save_figure(figure, path: str | os.PathLike, *, option: str = "output") -> str:
    """``figure.savefig(path)`` after :func:`check_output_path`, with errors that name ``option``.

    Args:
      figure: a matplotlib figure.
      path: where to write it; the extension picks the format.
      option: the option name used in error messages.

    Returns:
      ``path`` as a string.

    Examples:
      >>> import os, tempfile
      >>> fig = new_figure(figsize=(2, 2))
      >>> path = save_figure(fig, os.path.join(tempfile.mkdtemp(), "linear.png"))
      >>> open(path, "rb").read(4)
      b'\\x89PNG'
    """
    path = check_output_path(path, option=option)
    # No "Software: Matplotlib version ..." chunk in a PNG: the same drawing is the same bytes under
    # another matplotlib release (docs/schedules.png is checked byte for byte against its command).
    fixed = {"metadata": {"Software": None}} if path.lower().endswith(".png") else {}
    try:
        figure.savefig(path, **fixed)
    except OSError as err:
        raise ValueError(f"{option} {path!r} could not be written: {err.strerror or err}") from None
    return path
