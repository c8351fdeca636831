"""What every Snakemake script does first: log to the rule's log file, size thread pools.

Messages go to the log file and to stderr, so a failing job's reason shows in Snakemake's own
output as well as in ``log:``; the exception then propagates and Snakemake removes the job's
outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def script(snakemake: Any) -> Iterator[logging.Logger]:
    """Context for a Snakemake ``script:``: logging set up, threads bounded, errors reported."""
    threads = max(1, int(getattr(snakemake, "threads", 1)))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(str(snakemake.log[0]), mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logger = logging.getLogger(f"visrnn.rule.{snakemake.rule}")
    if "torch" in sys.modules:  # imported by the script's stage modules
        sys.modules["torch"].set_num_threads(threads)
    try:
        yield logger
    except Exception as error:
        logger.error("%s failed: %s", snakemake.rule, error)
        raise
