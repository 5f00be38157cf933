"""Checkpoints of the Accelerate recipe: complete or absent, checked before they are loaded.

A checkpoint is a folder ``step_N`` or ``epoch_N`` in ``--output_dir``, holding what
``Accelerator.save_state`` writes (``model.safetensors``, ``optimizer.bin``, ``scheduler.bin``,
``random_states_<rank>.pkl``) and the recipe's own ``recipe_state.json`` (progress and the flags
that shape the run), as plain JSON. Nothing is registered with ``register_for_checkpointing``, so
accelerate never writes or reads a ``custom_checkpoint_*.pkl`` (it unpickles those with
``weights_only=False``).

A checkpoint is written under a temporary name and renamed once every process has written its
files, so a crash mid-save leaves no ``step_N`` folder behind. Before a resume every file is
opened the way accelerate opens it (``torch.load(weights_only=True)``, safetensors), so a missing
or truncated file is an error naming it, not an accelerate traceback or (for the RNG state) an
INFO line followed by a silently different run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from errors import RecipeError
from outputs import write_json

STATE_FILE = "recipe_state.json"  # written last: a folder without it is not a complete checkpoint
STATE_VERSION = 1
NAME = re.compile(r"^(step|epoch)_(\d+)$")
STATE_KEYS = ("version", "flags", "num_processes", "num_training_steps", "progress")


class TrainProgress:
    """Where training stands; saved as JSON in every checkpoint's ``recipe_state.json``."""

    def __init__(self):
        self.completed_steps = 0
        self.epoch = 0
        self.batches_done = 0  # batches of ``epoch`` already trained on
        self.num_training_steps = 0
        self.num_processes = 1
        self.loss_sum = 0.0  # sum of logged mean losses x batches, over the whole run
        self.loss_batches = 0
        self.window = (0.0, 0)  # loss sum and batches of the logging window open at a checkpoint
        self.updates: list[dict] = []  # LR and momentum used at each optimizer update
        self.log_history: list[dict] = []

    def state_dict(self) -> dict:
        return dict(self.__dict__)

    def load_state_dict(self, state: dict) -> None:
        unknown = set(state) - set(self.__dict__)
        if unknown:
            raise RecipeError(f"{STATE_FILE} holds unknown progress fields {sorted(unknown)}")
        self.__dict__.update(state)
        self.window = tuple(self.window)  # a JSON list


def recipe_state(accelerator, flags: dict, progress: TrainProgress) -> dict:
    """The JSON state of a checkpoint: the flags a resume must repeat, and the progress."""
    return {
        "version": STATE_VERSION,
        "flags": flags,
        "num_processes": accelerator.num_processes,
        "num_training_steps": progress.num_training_steps,
        "progress": progress.state_dict(),
    }


def resume(accelerator, folder: str, state: dict, progress: TrainProgress) -> None:
    """Load a checkpoint that :func:`read` has checked into ``accelerator`` and ``progress``.

    Refuses a checkpoint saved for another number of updates or processes (the schedule would not
    continue the saved one).
    """

    def processes(count: int) -> str:
        return "1 process" if count == 1 else f"{count} processes"

    saved = (state["num_training_steps"], state["num_processes"])
    if saved != (progress.num_training_steps, accelerator.num_processes):
        raise RecipeError(
            f"--resume_from_checkpoint {folder!r} was saved by a run of {saved[0]} updates on "
            f"{processes(saved[1])}; these flags give {progress.num_training_steps} on "
            f"{processes(accelerator.num_processes)}"
        )
    accelerator.load_state(folder)  # model, optimizer, scheduler and RNG states; no custom (pickled) objects
    progress.load_state_dict(state["progress"])


def save(accelerator, folder: str | os.PathLike, state: dict) -> None:
    """Save the accelerator state and ``state`` (JSON) to ``folder``, which appears only when complete.

    All processes write into ``.<name>.partial`` next to ``folder``; after they all have, the main
    process writes ``recipe_state.json`` and renames the folder (replacing an older one of that name).

    Args:
      accelerator: the run's ``Accelerator`` (every process must call this).
      folder: the checkpoint folder, e.g. ``out/step_12``.
      state: the recipe's JSON state (see :data:`STATE_KEYS`).
    """
    folder = Path(folder)
    partial = folder.with_name(f".{folder.name}.partial")
    if accelerator.is_main_process and partial.exists():
        shutil.rmtree(partial)  # left by a crash mid-save
    accelerator.wait_for_everyone()
    accelerator.save_state(str(partial))
    accelerator.wait_for_everyone()  # every rank's random_states_<rank>.pkl is in
    if accelerator.is_main_process:
        write_json(partial / STATE_FILE, state)
        _replace(partial, folder)
    accelerator.wait_for_everyone()


def _replace(new: Path, folder: Path) -> None:
    if not folder.exists():
        new.rename(folder)
        return
    old = folder.with_name(f".{folder.name}.old")
    if old.exists():
        shutil.rmtree(old)
    folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old)


def latest(output_dir: str) -> str:
    """The complete checkpoint with the most updates in ``output_dir`` (by number, not by date).

    Examples:
      >>> import tempfile
      >>> out = Path(tempfile.mkdtemp())
      >>> for name, steps in (("step_9", 9), ("step_12", 12)):
      ...     write_json(out / name / STATE_FILE, {"progress": {"completed_steps": steps}})
      >>> (out / "step_30").mkdir()  # no recipe_state.json: a save that did not finish
      >>> Path(latest(str(out))).name
      'step_12'
    """
    folder = Path(output_dir)
    candidates = []
    if folder.is_dir():
        for path in folder.iterdir():
            if NAME.match(path.name) and (path / STATE_FILE).is_file():
                steps = _read_state(path)["progress"]["completed_steps"]
                candidates.append((steps, path.name, path))
    if not candidates:
        raise RecipeError(
            f"--resume_from_checkpoint latest: no complete step_N/epoch_N checkpoint in --output_dir {output_dir!r}"
        )
    return str(max(candidates)[2])


def _bad(folder: Path, name: str, why: str) -> RecipeError:
    return RecipeError(f"--resume_from_checkpoint {str(folder)!r}: {name} {why}")


def _read_state(folder: Path) -> dict:
    path = folder / STATE_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        why = f"is not readable JSON ({type(err).__name__}); the checkpoint is damaged"
        raise _bad(folder, STATE_FILE, why) from None
    if not isinstance(state, dict) or not isinstance(state.get("progress"), dict):
        raise _bad(folder, STATE_FILE, "is not a state written by this recipe")
    if "completed_steps" not in state["progress"]:
        raise _bad(folder, STATE_FILE, "has no completed_steps; the checkpoint is damaged")
    return state


def read(folder: str) -> dict:
    """Check a checkpoint folder completely and return its ``recipe_state.json``.

    Every file that ``Accelerator.load_state`` will read is opened here first, with the same safe
    loaders (``torch.load(weights_only=True)``, safetensors); none is unpickled with arbitrary code.

    Args:
      folder: the ``--resume_from_checkpoint`` folder.

    Returns:
      The recipe state: ``flags``, ``num_processes``, ``num_training_steps`` and ``progress``.

    Raises:
      RecipeError: naming the folder and the file that is missing, truncated or not this recipe's.
    """
    path = Path(folder)
    if not path.is_dir():
        raise RecipeError(f"--resume_from_checkpoint {folder!r} is not a folder; give a step_N or epoch_N folder")
    if not (path / STATE_FILE).is_file():
        if any(path.glob("custom_checkpoint_*.pkl")):
            why = "is missing: an older version of the recipe wrote this folder (progress pickled, which is not loaded)"
        else:
            why = "is missing: the folder is not a checkpoint of this recipe, or its save did not finish"
        raise _bad(path, STATE_FILE, why)
    state = _read_state(path)
    missing = [key for key in STATE_KEYS if key not in state]
    if missing or state["version"] != STATE_VERSION:
        raise _bad(path, STATE_FILE, f"is not a version-{STATE_VERSION} state of this recipe (missing {missing})")
    pickles = sorted(p.name for p in path.glob("custom_checkpoint_*.pkl"))
    if pickles:
        raise _bad(path, pickles[0], "is a pickle this recipe never writes and does not load; remove it")
    _check_accelerate_files(path, int(state["num_processes"]))
    return state


def _check_accelerate_files(folder: Path, num_processes: int) -> None:
    rng = {"random_state", "numpy_random_seed", "torch_manual_seed"}
    files = {"model.safetensors": None, "optimizer.bin": None, "scheduler.bin": None}
    files.update({f"random_states_{rank}.pkl": rng for rank in range(num_processes)})
    check_files(folder, files)


def check_files(folder: str | os.PathLike, files: dict) -> None:
    """Open each checkpoint file the way it will be loaded, without running code from any of them.

    ``.safetensors`` files through safetensors, ``.json`` as JSON, the rest with accelerate's
    ``load`` (``torch.load(weights_only=True)`` plus numpy's RNG arrays).

    Args:
      folder: the checkpoint folder.
      files: file name -> keys its (dict) content must have, or ``None``.

    Raises:
      RecipeError: naming the folder and the first file that is missing, truncated or unloadable.

    Examples:
      >>> import tempfile, torch
      >>> folder = Path(tempfile.mkdtemp())
      >>> torch.save({"cpu": torch.zeros(2)}, folder / "rng.pth")
      >>> check_files(folder, {"rng.pth": {"cpu"}})
      >>> _ = (folder / "rng.pth").write_bytes((folder / "rng.pth").read_bytes()[:100])
      >>> check_files(folder, {"rng.pth": {"cpu"}})
      Traceback (most recent call last):
      ...
      errors.RecipeError: --resume_from_checkpoint '...': rng.pth cannot be read (...); the checkpoint is damaged
    """
    from accelerate.utils import load
    from safetensors import safe_open

    folder = Path(folder)
    for name, keys in files.items():
        path = folder / name
        if not path.is_file():
            raise _bad(folder, name, "is missing")
        try:
            if name.endswith(".safetensors"):
                with safe_open(str(path), framework="pt") as reader:  # checks the header covers the file
                    value = {key: None for key in reader.keys()}
            elif name.endswith(".json"):
                value = json.loads(path.read_text())
            else:
                value = load(str(path), map_location="cpu")
        except Exception as err:  # truncation: SafetensorError, RuntimeError, OSError, UnpicklingError...
            raise _bad(folder, name, f"cannot be read ({_first_line(err)}); the checkpoint is damaged") from None
        if keys and not (isinstance(value, dict) and set(keys) <= set(value)):
            raise _bad(
                folder,
                name,
                f"lacks {sorted(set(keys) - set(value if isinstance(value, dict) else ()))}; the checkpoint is damaged",
            )


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
