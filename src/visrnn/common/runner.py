"""What every Snakemake script does first: log to the rule's log file, size thread pools.

Messages go to the log file and to stderr, so a failing job's reason shows in Snakemake's own
output as well as in ``log:``; the log file also gets the traceback. The exception then
propagates and Snakemake removes the job's outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from threadpoolctl import threadpool_limits

#: Thread-count variables read by OpenMP, MKL, OpenBLAS and numexpr when they start.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class _WithoutTraceback(logging.Formatter):
    """stderr gets one line per error: Python prints the traceback there when it propagates."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info = record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


@contextlib.contextmanager
def script(snakemake: Any) -> Iterator[logging.Logger]:
    """Context for a Snakemake ``script:``: logging set up, threads bounded, errors reported.

    The script imported torch and numpy before this runs, so their thread pools exist already
    and no longer read ``OMP_NUM_THREADS``: the pools are bounded with threadpoolctl and
    ``torch.set_num_threads``; the variables are set too, for libraries loaded later and for
    subprocesses.
    """
    threads = max(1, int(getattr(snakemake, "threads", 1)))
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setFormatter(_WithoutTraceback(log_format))
    handlers: list[logging.Handler] = [to_stderr]
    if snakemake.log:
        to_file = logging.FileHandler(str(snakemake.log[0]), mode="w")
        to_file.setFormatter(logging.Formatter(log_format))
        handlers.append(to_file)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    logger = logging.getLogger(f"visrnn.rule.{snakemake.rule}")
    if "torch" in sys.modules:  # imported by the script's stage modules
        sys.modules["torch"].set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield logger
    except Exception as error:
        logger.error("%s failed: %s", snakemake.rule, error, exc_info=True)
        raise
