"""hf-lrsched: exact learning-rate schedules for HuggingFace Transformers.

``import hf_lrsched`` registers the schedules of :mod:`hf_lrsched.catalog` (``warmup_exponential``,
``warmup_step``, ``warmup_multistep``, ``one_cycle``, ``sgdr``, ``sequential``, ``wsd``) as
``TrainingArguments.lr_scheduler_type`` names.
"""

from .factories import (
    ScheduleLR,
    get_exponential_schedule_with_warmup,
    get_multistep_schedule_with_warmup,
    get_one_cycle_schedule,
    get_sequential_schedule,
    get_sgdr_schedule_with_warmup,
    get_step_schedule_with_warmup,
    get_wsd_schedule,
)
from .registry import (
    available_schedules,
    check_schedule,
    check_schedule_options,
    get_scheduler,
    parse_scheduler_kwargs,
    register_schedule,
    schedule_options,
    unregister_schedule,
)

__version__ = "0.1.0"

__all__ = [
    "ScheduleLR",
    "available_schedules",
    "check_schedule",
    "check_schedule_options",
    "get_exponential_schedule_with_warmup",
    "get_multistep_schedule_with_warmup",
    "get_one_cycle_schedule",
    "get_scheduler",
    "get_sequential_schedule",
    "get_sgdr_schedule_with_warmup",
    "get_step_schedule_with_warmup",
    "get_wsd_schedule",
    "parse_scheduler_kwargs",
    "register_schedule",
    "schedule_options",
    "unregister_schedule",
]

from .callbacks import LRMonitorCallback, log_lrs, param_group_values
from .lr_choice import LRChoice, choose_lr
from .lr_finder import LRFinderResult, find_lr
from .plotting import ScheduleCurve, plot_schedules, schedule_curve, schedule_curves
from .schedule_lr import momentum_key, momentum_value

__all__ += [
    "LRChoice",
    "LRFinderResult",
    "LRMonitorCallback",
    "ScheduleCurve",
    "choose_lr",
    "find_lr",
    "log_lrs",
    "momentum_key",
    "momentum_value",
    "param_group_values",
    "plot_schedules",
    "schedule_curve",
    "schedule_curves",
]
