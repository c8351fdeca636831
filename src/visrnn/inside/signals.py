"""Structural signals of a text: what an interpretable cell might be tracking.

The paper shows LSTM cells that follow the position in a line, quotes, bracket depth,
indentation and comments. To find such cells automatically we describe the text by a few
simple per-position signals and correlate every cell with them (see ``visrnn.inside.cells``).

Every signal has one value per byte, and the value at position ``t`` describes the state
*after* reading byte ``t`` -- exactly what the network has seen when it produces its state
at step ``t``. So an opening quote is already inside the quotes, and a closing quote is
already outside. The text is read in one pass by a small state machine.

Conventions, chosen so that each signal means one thing:

- A line end is ``\\n``, ``\\r\\n`` or a lone ``\\r``. A CRLF is ONE line end: the ``\\r``
  ends the line, and the ``\\n`` that follows it changes nothing; it repeats every value of
  the ``\\r`` (so it neither starts a second line nor ends a comment or string twice).
- ``line_position`` counts the bytes read since the last line end: 1 after the first
  character of a line, 0 on the line end itself.
- ``indent_depth`` is the width of the leading spaces and tabs of the current line (a tab
  advances to the next multiple of 8 columns). It grows while the indentation is read and is
  then held until the line end, where it drops to 0.
- Prose (``code=False``): only ``"`` toggles ``in_double_quotes``; single quotes are
  ignored altogether, because in prose they are mostly apostrophes ("don't"). A paragraph
  break (an empty or whitespace-only line) closes any open quote: English prose leaves the
  quote of a multi-paragraph speech unclosed and reopens it in the next paragraph, and the
  reset also keeps one stray quote from inverting the rest of the book. Brackets count
  everywhere in prose, quoted or not.
- Code (``code=True``, C-like): ``in_string`` is 1 inside a ``"..."`` literal (backslash
  escapes such as ``\\"`` and ``\\\\`` are honoured; an unescaped line end ends it),
  ``in_comment`` inside ``/* ... */`` or ``// ...`` up to the line end. Characters inside
  comments, strings and char literals (``'{'``, ``'"'``) affect no other signal. The ``/``
  that opens a comment is not yet inside it (it might be a division), the final ``/`` of
  ``*/`` is already outside. ``in_string`` takes the place of the prose signal
  ``in_double_quotes``. The preprocessor is not interpreted (both branches of an ``#if``
  count), and a backslash does not continue a ``//`` comment onto the next line.
- ``paren_depth``, ``bracket_depth``, ``brace_depth`` count open ``()``, ``[]``, ``{}``;
  a closer at depth 0 is ignored, so depths never go below 0.
"""

from __future__ import annotations

import enum
import itertools

import numpy as np

SIGNALS_PROSE = (
    "line_position",
    "indent_depth",
    "in_double_quotes",
    "paren_depth",
    "bracket_depth",
    "brace_depth",
)
SIGNALS_CODE = (
    "line_position",
    "indent_depth",
    "in_string",
    "in_comment",
    "paren_depth",
    "bracket_depth",
    "brace_depth",
)
#: The signals that are 0 or 1 (outside or inside): a cell for one of them is an on/off
#: detector, judged by its precision and recall as well as by its correlation.
BINARY_SIGNALS = frozenset({"in_double_quotes", "in_string", "in_comment"})

TAB_WIDTH = 8

_CR, _LF, _TAB, _SPACE = 0x0D, 0x0A, 0x09, 0x20
_DOUBLE_QUOTE, _SINGLE_QUOTE, _BACKSLASH, _SLASH, _STAR = (ord(c) for c in "\"'\\/*")
_DEPTH_NAMES = ("paren_depth", "bracket_depth", "brace_depth")
_FLAG_NAMES = {True: ("in_string", "in_comment"), False: ("in_double_quotes",)}
#: byte -> (index into _DEPTH_NAMES, +1 for an opener or -1 for a closer)
_BRACKETS = {
    ord("("): (0, 1),
    ord(")"): (0, -1),
    ord("["): (1, 1),
    ord("]"): (1, -1),
    ord("{"): (2, 1),
    ord("}"): (2, -1),
}


class CodeState(enum.Enum):
    """Where the C scanner is after reading a byte."""

    CODE = enum.auto()
    SLASH = enum.auto()  # a '/' in code that may open a comment
    LINE_COMMENT = enum.auto()
    BLOCK_COMMENT = enum.auto()
    BLOCK_COMMENT_STAR = enum.auto()  # a '*' in a block comment that may close it
    STRING = enum.auto()
    STRING_ESCAPE = enum.auto()  # just read a backslash inside a string
    CHAR = enum.auto()
    CHAR_ESCAPE = enum.auto()  # just read a backslash inside a char literal


_COMMENT_STATES = frozenset(
    {CodeState.LINE_COMMENT, CodeState.BLOCK_COMMENT, CodeState.BLOCK_COMMENT_STAR}
)
_STRING_STATES = frozenset({CodeState.STRING, CodeState.STRING_ESCAPE})


def _is_line_end(byte: int) -> bool:
    return byte in (_CR, _LF)


def next_code_state(state: CodeState, byte: int) -> tuple[CodeState, bool]:
    """The C scanner's state after ``byte``, and whether ``byte`` was read as program text.

    Only bytes read as program text can open or close brackets.
    """
    if state is CodeState.SLASH:
        if byte == _STAR:
            return CodeState.BLOCK_COMMENT, False
        if byte == _SLASH:
            return CodeState.LINE_COMMENT, False
        state = CodeState.CODE  # the '/' was a division: read this byte as code
    if state is CodeState.CODE:
        if byte == _SLASH:
            return CodeState.SLASH, True
        if byte == _DOUBLE_QUOTE:
            return CodeState.STRING, False
        if byte == _SINGLE_QUOTE:
            return CodeState.CHAR, False
        return CodeState.CODE, True
    if state is CodeState.LINE_COMMENT:
        return (CodeState.CODE if _is_line_end(byte) else state), False
    if state in (CodeState.BLOCK_COMMENT, CodeState.BLOCK_COMMENT_STAR):
        if byte == _STAR:
            return CodeState.BLOCK_COMMENT_STAR, False
        if byte == _SLASH and state is CodeState.BLOCK_COMMENT_STAR:
            return CodeState.CODE, False
        return CodeState.BLOCK_COMMENT, False
    if state in (CodeState.STRING, CodeState.CHAR):
        escape, closer = (
            (CodeState.STRING_ESCAPE, _DOUBLE_QUOTE)
            if state is CodeState.STRING
            else (CodeState.CHAR_ESCAPE, _SINGLE_QUOTE)
        )
        if byte == _BACKSLASH:
            return escape, False
        if byte == closer or _is_line_end(byte):
            return CodeState.CODE, False
        return state, False
    # STRING_ESCAPE / CHAR_ESCAPE: the escaped byte (even a quote or a line end) is content.
    return (CodeState.STRING if state is CodeState.STRING_ESCAPE else CodeState.CHAR), False


def next_prose_quote_state(inside_quotes: bool, byte: int, paragraph_break: bool) -> bool:
    """Whether prose is inside double quotes after ``byte`` (see the module docstring)."""
    if paragraph_break:
        return False
    if byte == _DOUBLE_QUOTE:
        return not inside_quotes
    return inside_quotes


def structural_signals(text: bytes, code: bool) -> dict[str, np.ndarray]:
    """Per-byte structural signals of ``text``: ``SIGNALS_CODE`` or ``SIGNALS_PROSE``.

    Each value is a float64 array of length ``len(text)``; see the module docstring for
    what each signal means at each position.
    """
    names = SIGNALS_CODE if code else SIGNALS_PROSE
    # One row per byte: line_position, indent_depth, the three depths, then the flags.
    rows: list[tuple[int, ...]] = []

    line_position = 0
    indent = 0
    reading_indent = True  # only spaces and tabs so far on this line
    after_cr = False
    depths = [0, 0, 0]
    code_state = CodeState.CODE
    inside_quotes = False

    for byte in text:
        if byte == _LF and after_cr:  # the \n of a CRLF: same line end, same values
            after_cr = False
            rows.append(rows[-1])
            continue
        after_cr = byte == _CR

        if _is_line_end(byte):
            paragraph_break = reading_indent  # this line held nothing but whitespace
            line_position, indent, reading_indent = 0, 0, True
        else:
            paragraph_break = False
            line_position += 1
            if reading_indent and byte == _SPACE:
                indent += 1
            elif reading_indent and byte == _TAB:
                indent = (indent // TAB_WIDTH + 1) * TAB_WIDTH
            else:
                reading_indent = False

        if code:
            code_state, is_program_text = next_code_state(code_state, byte)
            flags: tuple[int, ...] = (
                code_state in _STRING_STATES,
                code_state in _COMMENT_STATES,
            )
        else:
            inside_quotes = next_prose_quote_state(inside_quotes, byte, paragraph_break)
            is_program_text = True
            flags = (inside_quotes,)
        if is_program_text and byte in _BRACKETS:
            which, step = _BRACKETS[byte]
            depths[which] = max(0, depths[which] + step)

        rows.append((line_position, indent, *depths, *flags))

    order = ("line_position", "indent_depth", *_DEPTH_NAMES, *_FLAG_NAMES[code])
    flat = itertools.chain.from_iterable(rows)
    table = np.fromiter(flat, dtype=np.float64, count=len(text) * len(order))
    table = table.reshape(len(text), len(order))
    return {name: table[:, order.index(name)].copy() for name in names}


def signal_on(values: np.ndarray) -> np.ndarray:
    """Where a signal is "on": its value above 0 (inside quotes, at a bracket depth of 1 or
    more, indented ...; a line position everywhere but at line ends). The ablation's subsets
    and the clamped samples' measure both count this."""
    return np.asarray(values) > 0
