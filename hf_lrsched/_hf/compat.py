"""The one place that touches transformers' scheduler tables and ``TrainingArguments``.

transformers has no plugin hook for LR schedulers: a name is valid when it is a member of
``transformers.trainer_utils.SchedulerType`` (a ``str`` Enum that ``TrainingArguments`` and
``HfArgumentParser`` check against) and ``transformers.optimization.get_scheduler`` looks the member
up in ``TYPE_TO_SCHEDULER_FUNCTION``. To make a new name work everywhere we therefore

1. add a member to ``SchedulerType`` (written into ``_member_map_``, ``_value2member_map_``,
   ``_member_names_``: the tables ``Enum`` itself uses for lookup and iteration, unchanged since
   Python 3.8; read back only through the public ``Enum`` API), whose pickled form (``copyreg``)
   re-imports this package (and, for a name a user registered, the module that registered it), so a
   pickled ``TrainingArguments`` (``training_args.bin``) loads in a fresh process;
2. map it to our factory in ``TYPE_TO_SCHEDULER_FUNCTION`` (``get_scheduler`` passes
   ``num_warmup_steps``, ``num_training_steps`` and ``lr_scheduler_kwargs`` to it);
3. wrap ``TrainingArguments.__post_init__`` so that ``lr_scheduler_kwargs`` that is not valid JSON,
   or names an option our schedule does not take, fails when the arguments are parsed, with a
   message naming ``lr_scheduler_kwargs``, instead of deep inside ``Trainer``.

``remove_scheduler_type`` and ``restore_transformers_function`` undo 1 and 2 (for
``hf_lrsched.unregister_schedule``). Tested against the newest transformers 4.x and 5.x (see ``.ci/run``).
"""

from __future__ import annotations

import copyreg
import functools
import importlib
import json
from collections.abc import Callable

from transformers import TrainingArguments
from transformers import optimization as _optimization
from transformers.trainer_utils import SchedulerType

_OWN_NAMES = frozenset(member.value for member in SchedulerType)
# transformers' own factories, kept so that replacing one (override=True) can be undone.
_OWN_FUNCTIONS = {member.value: _optimization.TYPE_TO_SCHEDULER_FUNCTION.get(member) for member in SchedulerType}


#: Each added name -> the importable module that registers it (``None``: this package).
_REGISTERING_MODULES: dict[str, str | None] = {}


def transformers_scheduler_names() -> list[str]:
    """The scheduler names transformers itself defines (before any registration)."""
    return sorted(_OWN_NAMES)


def known_scheduler_names() -> list[str]:
    """Every name ``SchedulerType`` accepts now, transformers' own and registered ones."""
    return [member.value for member in SchedulerType]


def _scheduler_type(value: str, module: str | None = None) -> SchedulerType:
    # Unpickling target for added members: importing hf_lrsched registers the built-in names, and
    # importing ``module`` (the one that called register_schedule) registers a user's name.
    import hf_lrsched  # noqa: F401

    if module is not None and value not in known_scheduler_names():
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(
                f"lr_scheduler_type {value!r} was registered by module {module!r}, which cannot be imported "
                f"here ({err}); make {module!r} importable (e.g. on PYTHONPATH) or register {value!r} first"
            ) from None
        if value not in known_scheduler_names() and module == "__main__":
            raise ValueError(
                f"lr_scheduler_type {value!r} was registered by the script that was run (__main__), which a "
                "new process cannot import; call register_schedule in an importable module instead"
            )
        if value not in known_scheduler_names():
            raise ValueError(
                f"lr_scheduler_type {value!r} was registered by module {module!r}, but importing it did not "
                f"register {value!r}; call hf_lrsched.register_schedule({value!r}, ...) first"
            )
    return SchedulerType(value)


def _reduce_member(member: SchedulerType):
    # transformers' own members pickle by value, as Enum does; an added one by a call of _scheduler_type,
    # whose import brings the registration with it.
    if member.value in _OWN_NAMES:
        return SchedulerType, (member.value,)
    module = _REGISTERING_MODULES.get(member.value)
    return _scheduler_type, (member.value,) if module is None else (member.value, module)


copyreg.pickle(SchedulerType, _reduce_member)


def _member(value: str) -> SchedulerType | None:
    try:
        return SchedulerType(value)
    except ValueError:
        return None


def add_scheduler_type(value: str, module: str | None = None) -> SchedulerType:
    """Add ``value`` as a ``SchedulerType`` member (idempotent) and return the member.

    ``module`` is the importable module that registers ``value`` (``None`` for this package's
    names): unpickling the member in a fresh process imports it.
    """
    existing = _member(value)
    if existing is not None:
        if value not in _OWN_NAMES:
            _REGISTERING_MODULES[value] = module
        return existing
    name = value.upper()
    member = str.__new__(SchedulerType, value)
    member._name_ = name
    member._value_ = value
    member._sort_order_ = len(SchedulerType)
    SchedulerType._member_map_[name] = member
    SchedulerType._value2member_map_[value] = member
    SchedulerType._member_names_.append(name)
    type.__setattr__(SchedulerType, name, member)
    _REGISTERING_MODULES[value] = module
    return member


def set_scheduler_function(value: str, function: Callable, module: str | None = None) -> None:
    """Make ``transformers.get_scheduler(value, ...)`` (and so ``Trainer``) call ``function``.

    ``module``: see :func:`add_scheduler_type`.
    """
    member = add_scheduler_type(value, module)
    _optimization.TYPE_TO_SCHEDULER_FUNCTION[member] = function


def restore_transformers_function(value: str) -> None:
    """Put back transformers' own factory for one of its names (undoes ``set_scheduler_function``)."""
    _optimization.TYPE_TO_SCHEDULER_FUNCTION[SchedulerType(value)] = _OWN_FUNCTIONS[value]


def remove_scheduler_type(value: str) -> None:
    """Remove a member added by ``add_scheduler_type``: ``value`` is no longer a valid name."""
    if value in _OWN_NAMES:
        raise ValueError(f"{value!r} is one of transformers' own scheduler names and cannot be removed")
    member = SchedulerType._value2member_map_.pop(value, None)
    if member is None:
        return
    _optimization.TYPE_TO_SCHEDULER_FUNCTION.pop(member, None)
    del SchedulerType._member_map_[member.name]
    SchedulerType._member_names_.remove(member.name)
    type.__delattr__(SchedulerType, member.name)
    _REGISTERING_MODULES.pop(value, None)


def scheduler_functions() -> dict[str, Callable | None]:
    """Every known name -> the function ``transformers.get_scheduler`` calls for it now."""
    return {value: get_scheduler_function(value) for value in known_scheduler_names()}


def replace_scheduler_function(value: str, function: Callable | None) -> None:
    """Put ``function`` (or, for ``None``, nothing) behind an existing name, e.g. to undo a temporary wrapper."""
    member = SchedulerType(value)
    if function is None:
        _optimization.TYPE_TO_SCHEDULER_FUNCTION.pop(member, None)
    else:
        _optimization.TYPE_TO_SCHEDULER_FUNCTION[member] = function


def get_scheduler_function(value: str) -> Callable | None:
    member = _member(value)
    return None if member is None else _optimization.TYPE_TO_SCHEDULER_FUNCTION.get(member)


def install_training_args_check(check: Callable[[str, object], None]) -> None:
    """Run ``check(lr_scheduler_type, lr_scheduler_kwargs)`` before ``TrainingArguments.__post_init__``.

    ``check`` only raises; transformers still does the parsing, so its behaviour is unchanged.
    """
    original = TrainingArguments.__post_init__
    if getattr(original, "_hf_lrsched_check", None) is not None:
        original = original._hf_lrsched_original

    @functools.wraps(original)
    def __post_init__(self, *args, **kwargs):
        name = getattr(self.lr_scheduler_type, "value", self.lr_scheduler_type)
        check(str(name), self.lr_scheduler_kwargs)
        return original(self, *args, **kwargs)

    __post_init__._hf_lrsched_check = check
    __post_init__._hf_lrsched_original = original
    TrainingArguments.__post_init__ = __post_init__


def training_args_check() -> Callable[[str, object], None] | None:
    """The check :func:`install_training_args_check` installed, or ``None``."""
    return getattr(TrainingArguments.__post_init__, "_hf_lrsched_check", None)


def parse_kwargs_json(text: str, option: str = "lr_scheduler_kwargs") -> dict:
    """Parse a JSON object given on a command line, with an error that names the option."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"--{option} is not valid JSON ({err.msg} at character {err.pos}): {text!r}; "
            "expected an object such as '{\"gamma\": 0.999}'"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"--{option} must be a JSON object such as '{{\"gamma\": 0.999}}', got {text!r}")
    return value
