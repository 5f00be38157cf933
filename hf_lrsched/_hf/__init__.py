"""What touches transformers: its scheduler tables (``compat``) and what ``hf-lrsched run`` changes while a
script runs (``script_patch``, ``multi_process_warnings``)."""
