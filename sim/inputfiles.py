"""The one reader of input files (scenario TOML and measured-calibration JSON) and the nesting
pre-scan that runs before any parser.

``read_text(path, limit, what)`` reads a regular file only -- devices (``/dev/zero``,
``/dev/urandom``), named pipes, sockets and directories are refused from ``os.stat`` before the
file is opened, and it is opened non-blocking and checked again with ``fstat``, so a file swapped
for a pipe in between cannot hang the reader -- and reads at most ``limit + 1`` bytes, so a file
that grows or lies about its size never fills memory. Every problem is an ``InputFileError`` with
a one-line message.

``toml_nesting_problem`` and ``json_nesting_problem`` refuse text nested deeper than
``MAX_NESTING`` levels (tables, arrays and the parts of dotted keys together) or with a dotted
key or table header of more than ``MAX_KEY_PARTS`` parts: tomllib and json parse nesting
recursively and end in RecursionError well before the 1 MB limit (500 ``[`` are enough), and
the loader's own walks over the data must stay shallow too. Hand-written scenarios nest at most
four levels (``[strategies.x.shares]``), calibration files five, so 64 leaves room for anything
legitimate.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from typing import Any, NamedTuple

__all__ = ["InputFileError", "FileIdentity", "read_text", "toml_nesting_problem",
           "json_nesting_problem", "MAX_NESTING", "MAX_KEY_PARTS"]

MAX_NESTING = 64  # levels of [ and { in a TOML or JSON file, or a --set value
MAX_KEY_PARTS = 64  # parts of a dotted key or table header (a --set path too)


class InputFileError(Exception):
    """A file that cannot be read; ``message`` is one line without the file name."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


class FileIdentity(NamedTuple):
    """(device, inode) of a file read: the same file under two names is one identity."""

    device: int
    inode: int


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno == errno.ELOOP:
        return "cannot read file: a loop of symbolic links"
    return f"cannot read file: {exc.strerror or exc.__class__.__name__}"


def read_text(path: str | os.PathLike, limit: int, what: str = "file") -> tuple[str, FileIdentity]:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, and its identity.

    ``what`` names the expected file in messages (``"scenario file"``). Raises InputFileError
    for a missing, unreadable or non-regular file, one over the limit, or bytes not UTF-8.
    """
    source = os.fspath(path)
    shown = source if isinstance(source, str) else os.fsdecode(source)
    if "\0" in shown:  # shown escaped: a NUL never reaches the terminal
        raise InputFileError(shown.replace("\0", "\\0"), "the file name holds a NUL byte")
    if not shown:
        raise InputFileError(shown, "the file name is empty")
    try:
        info = os.stat(source)
    except OSError as exc:
        raise InputFileError(shown, _os_problem(exc)) from None
    except ValueError as exc:  # a name the OS cannot take
        raise InputFileError(shown, f"cannot read file: {exc}") from None
    kind = _kind(info.st_mode)
    if kind is not None:
        raise InputFileError(shown, f"is {kind}, not a {what}" if kind.startswith("a ")
                             else f"is {kind}; a {what} must be a regular file")
    if info.st_size > limit:
        raise InputFileError(shown, f"file is too large ({info.st_size:,} bytes; the limit is "
                                    f"{limit:,})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        raise InputFileError(shown, _os_problem(exc)) from None
    try:
        info = os.fstat(fd)  # the file opened may not be the file stat'ed
        kind = _kind(info.st_mode)
        if kind is not None:
            raise InputFileError(shown, f"is {kind}, not a {what}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputFileError(shown, _os_problem(exc)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputFileError(shown, f"file is too large (more than {limit:,} bytes)")
    raw = b"".join(chunks)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(shown, f"not UTF-8 text (byte {exc.start})") from None
    return text, FileIdentity(info.st_dev, info.st_ino)


# TOML tokens that matter for nesting; strings and comments are skipped whole, so brackets and
# dots inside them do not count. Text the pattern cannot make sense of (an unterminated string)
# is scanned as code: that can only over-count, and tomllib refuses such text anyway.
_TOML_TOKEN = re.compile(r'''
    "{3}(?:[^"\\]|\\[\s\S]|"(?!""))*"{3,5}    # multi-line basic string
  | '{3}[\s\S]*?'{3,5}                        # multi-line literal string
  | "(?:[^"\\\n]|\\.)*"                       # basic string
  | '[^'\n]*'                                 # literal string
  | \#[^\n]*                                  # comment
  | [\[\]{}=,.\n]
''', re.VERBOSE)

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\[\s\S])*"|[\[\]{}]')


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def toml_nesting_problem(text: str) -> str | None:
    """A one-line problem when TOML ``text`` holds a dotted key or table header of more than
    MAX_KEY_PARTS parts, or nests deeper than MAX_NESTING levels, counting every level the data
    will have: the table header's parts, each key's parts and each ``[`` and ``{`` of a value
    (``[a.b]`` then ``c.d = {e = [1]}`` is 6 deep); else None."""
    base = 0  # depth of the current table: the parts of its header
    stack: list[int] = []  # depth of each open [ or { of a value
    dots = 0  # dots of the key being read
    key_parts = 0  # parts of the key whose value comes next
    header = False  # inside a table header: [a.b] or [[a.b]]
    header_done = False
    value_next = False  # at the top level: after "=", before the end of the line
    for m in _TOML_TOKEN.finditer(text):
        tok = m.group()
        if tok[0] in "\"'#":
            continue  # a string or a comment: neither nests nor separates keys
        if tok == ".":
            dots += 1
            if dots >= MAX_KEY_PARTS:
                return (f"a dotted key or table header has more than {MAX_KEY_PARTS} parts "
                        f"(line {_line(text, m.start())})")
            continue
        outer = stack[-1] if stack else base
        if tok == "=":
            key_parts, dots = dots + 1, 0
            if outer + key_parts > MAX_NESTING:
                return _too_deep(text, m.start())
            if not stack:
                value_next = True
        elif tok in ("[", "{"):
            if tok == "[" and not stack and not value_next:
                if not header:  # a table header starts its table afresh
                    header, header_done, dots = True, False, 0
                continue
            depth = outer + key_parts + 1
            if depth > MAX_NESTING:
                return _too_deep(text, m.start())
            stack.append(depth)
            key_parts = dots = 0
        elif tok in ("]", "}"):
            if header and not stack:
                if not header_done:  # [[a.b]]: one level more for the array of tables
                    base, header_done = dots + 2, True
                    if base > MAX_NESTING:
                        return _too_deep(text, m.start())
                continue
            if stack:
                stack.pop()
            key_parts = dots = 0
        elif tok == ",":
            key_parts = dots = 0
        elif tok == "\n":
            dots = 0
            if not stack:
                key_parts, header, value_next = 0, False, False
    return None


def _too_deep(text: str, pos: int) -> str:
    return (f"nested deeper than {MAX_NESTING} levels of tables, arrays and dotted keys "
            f"(line {_line(text, pos)})")


def json_nesting_problem(text: str) -> str | None:
    """A one-line problem when JSON ``text`` nests deeper than MAX_NESTING arrays and objects."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                return (f"nested deeper than {MAX_NESTING} levels of [ and {{ "
                        f"(line {_line(text, m.start())})")
        elif tok in ("]", "}"):
            depth = max(0, depth - 1)
    return None


def toml_value_problem(exc: ValueError) -> str:
    """A short reason for a ValueError from tomllib (an integer of 4,300+ digits, say)."""
    if "integer string conversion" in str(exc):
        return "an integer has more than 4,300 digits"
    return str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__


def read_toml(path: str | os.PathLike, limit: int,
              what: str = "file") -> tuple[dict[str, Any], FileIdentity]:
    """The TOML document of a file read by ``read_text`` (at most ``limit`` bytes), nesting
    checked before parsing; InputFileError (``message`` starts "not valid TOML: ") otherwise.
    The one TOML reader of scenarios, sweep specs and the priors file."""
    text, identity = read_text(path, limit, what)
    shown = os.fspath(path)
    problem = toml_nesting_problem(text)
    if problem is not None:
        raise InputFileError(shown, f"not valid TOML: {problem}")
    try:
        return tomllib.loads(text), identity
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(shown, f"not valid TOML: {exc}") from None
    except RecursionError:  # the pre-scan should have caught it: never a traceback
        raise InputFileError(shown, "not valid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise InputFileError(shown, f"not valid TOML: {toml_value_problem(exc)}") from None
