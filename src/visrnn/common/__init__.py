"""Shared by every stage: configuration checks, atomic files, the script runner, devices and
determinism, plotting and text pages, and the ``visrnn status`` / ``summary`` helpers.

``runner``, ``files`` and ``devices`` cannot change a result: the workflow does not count them
among any rule's inputs (``NOT_RESULT_MODULES`` in ``workflow/rules/common.smk``).
"""
