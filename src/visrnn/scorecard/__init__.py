"""The scorecard: every claim of the paper the pipeline's tables can check, against this run.

- ``paper``: the paper's numbers and the tolerances of the checks, each written once;
- ``claims``: the claims as a declarative table (id, section, text and paper value as
  templates of the paper's numbers, the tables read, the check), and the rows of a run;
- ``checks``: one function per kind of claim, reading a run's typed tables;
- ``differences``: how a run's preset differs from the paper's experiment;
- ``tables``: the run and its tables, read with their column types;
- ``verdicts``: the columns and verdicts, and how a check's outcome becomes one;
- ``render``: the CSV and Markdown files.

This module imports none of them, so that a script importing one (``paper``) depends on that
one alone (``visrnn.common.sources``).
"""
