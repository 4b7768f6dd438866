# -*- coding: utf-8 -*-
"""The table of the experiments the harness may ask for by name (the ``act`` request)."""

from __future__ import absolute_import, print_function

from .experiments import (
    act_allocate,
    act_child_usage,
    act_concurrent_calls,
    act_crash,
    act_drop_privileges,
    act_exec_report,
    act_fork_probe,
    act_inspect_result_type,
    act_mlock,
    act_open_fds,
    act_open_until_failure,
    act_proc_limits,
    act_proc_status,
    act_spawn_sleeper,
    act_spin,
    act_thread_usage,
    act_touch_memory,
    act_tuple_operations,
    act_write_file,
)
from .workloads import act_child_wait4, act_thread_workload, act_usage_workload

#: The experiments the harness may ask for by name (the ``act`` request), each an act_* function.
ACTIONS = {
    "open_until_failure": act_open_until_failure,
    "open_fds": act_open_fds,
    "spin": act_spin,
    "write_file": act_write_file,
    "allocate": act_allocate,
    "fork_probe": act_fork_probe,
    "drop_privileges": act_drop_privileges,
    "crash": act_crash,
    "exec_report": act_exec_report,
    "proc_status": act_proc_status,
    "touch_memory": act_touch_memory,
    "thread_usage": act_thread_usage,
    "child_usage": act_child_usage,
    "spawn_sleeper": act_spawn_sleeper,
    "proc_limits": act_proc_limits,
    "concurrent_calls": act_concurrent_calls,
    "mlock": act_mlock,
    "inspect_result_type": act_inspect_result_type,
    "tuple_operations": act_tuple_operations,
    "usage_workload": act_usage_workload,
    "child_wait4": act_child_wait4,
    "thread_workload": act_thread_workload,
}
