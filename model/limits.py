"""The limits that keep one run, one file and one sweep within a machine's reach, and a safe reader.

A user can write any number into a scenario or sweep file. These limits are where the schema stops
accepting them, each chosen so that a run's memory stays bounded and every product the model forms
stays a finite float64 (the largest is about 1.8e308):

* token amounts are 0 or in [MIN_TOKENS, MAX_TOKENS] — a nano-token to a thousand trillion tokens;
* the token price is in [MIN_PRICE_FIAT, MAX_PRICE_FIAT] fiat per token;
* fiat costs and gains per round are at most MAX_COST_FIAT.

The worst product is then a profit of about (MAX_ROUNDS × MAX_TOKENS emitted) × MAX_PRICE_FIAT =
1e30 fiat divided by the smallest capital, MIN_TOKENS × MIN_PRICE_FIAT = 1e-18 fiat: 1e48, far
inside the float range; the smallest is 1e-18, far above the denormals.

Memory: a run's arrays are O(identities) — about 0.8 kB per identity, its Mesa agent included
(measured: 77 MB for 100,000 identities) — and its per-round records O(rounds × strategies): 48
bytes a round, about 250 bytes with a trajectory. MAX_IDENTITIES and MAX_ROUNDS so keep one run
under about 1.5 GB, well within a machine of a few GB per worker.

Files are read by :func:`read_toml_file`: at most MAX_FILE_BYTES from a regular file, nested at
most MAX_NESTING_DEPTH deep.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from model.params import ScenarioError

#: Most bytes read from a scenario or sweep file (1 MiB; the shipped ones are a few kB).
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of tables and arrays a file may have (a scenario needs 2, a sweep 4).
MAX_NESTING_DEPTH = 32

#: Smallest non-zero token amount (a nano-token); amounts below it would underflow products.
MIN_TOKENS = 1e-9
#: Largest token amount of any one setting (supply, stake, balance, emission per round).
MAX_TOKENS = 1e15
#: Cheapest token, in fiat per token.
MIN_PRICE_FIAT = 1e-9
#: Dearest token, in fiat per token.
MAX_PRICE_FIAT = 1e9
#: Largest fiat cost or gain per round (training, validation, a poisoner's outside gain).
MAX_COST_FIAT = 1e12
#: Most rounds one run may simulate.
MAX_ROUNDS = 1_000_000
#: Most identities (trainer identities, Sybil ones counted one by one, plus validators) in one run.
MAX_IDENTITIES = 1_000_000
#: Largest seed: seeds are stored as signed 64-bit integers.
MAX_SEED = 2**63 - 1

_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse(problem: str, path: str, kind: str) -> ScenarioError:
    return ScenarioError([problem], path, kind)


def read_text_file(path: str | Path, kind: str = "scenario") -> str:
    """The text of a ``kind`` file ("scenario" or "sweep"): UTF-8, at most MAX_FILE_BYTES.

    Refused with a ScenarioError naming the file: a path with a NUL byte, a path that is not a
    regular file (a directory, a device such as ``/dev/zero``, a FIFO — checked by ``stat`` before
    anything is read, so a stream that never ends is never opened), a file larger than the limit
    (also when it grows while being read), an unreadable file, and bytes that are not UTF-8.
    """
    where = str(path).replace("\x00", "\\x00")
    if "\x00" in str(path):
        raise _refuse(
            f"the path contains a NUL byte (\\x00) at position {str(path).index(chr(0))}: "
            "a file name cannot hold one",
            where,
            kind,
        )
    try:
        _check_regular(os.stat(path), where, kind)  # before opening: opening a device can act
        # Non-blocking, and checked again once open, in case a FIFO took the file's place meanwhile.
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as stream:
            _check_regular(os.fstat(stream.fileno()), where, kind)
            data = stream.read(MAX_FILE_BYTES + 1)  # one byte more tells a file that grew
    except OSError as exc:
        raise _refuse(f"cannot read the {kind} file: {exc.strerror}", where, kind) from None
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(_too_big(kind, "more bytes than that"), where, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(f"not a text file: a {kind} file is UTF-8 TOML", where, kind) from None


def _check_regular(info: os.stat_result, where: str, kind: str) -> None:
    """Refuse anything but a regular file of at most MAX_FILE_BYTES."""
    if not stat.S_ISREG(info.st_mode):
        what = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a regular file")
        raise _refuse(f"cannot read the {kind} file: it is {what}, not a regular file", where, kind)
    if info.st_size > MAX_FILE_BYTES:
        raise _refuse(_too_big(kind, f"{info.st_size:_} bytes"), where, kind)


def _too_big(kind: str, size: str) -> str:
    return (
        f"the {kind} file holds {size}; at most MAX_FILE_BYTES = {MAX_FILE_BYTES:_} bytes (1 MiB) "
        f"are read from a {kind} file"
    )


def parse_toml(text: str, source: str | None = None, kind: str = "scenario") -> dict[str, Any]:
    """Parse TOML text, refusing (ScenarioError) bad TOML and nesting deeper than MAX_NESTING_DEPTH.

    Python's TOML parser recurses once per level of arrays and inline tables, so a file nested
    thousands deep exhausts the interpreter's stack; dotted table headers nest without recursing
    and are caught by the depth check after parsing. An integer of more digits than Python converts
    (4,300) is refused as bad TOML.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(f"not valid TOML: {exc}", source, kind) from None
    except RecursionError:
        raise _refuse(_too_deep(kind, "somewhere"), source, kind) from None
    except ValueError as exc:  # e.g. an integer literal of more than 4,300 digits
        raise _refuse(f"not valid TOML: {exc}", source, kind) from None
    deep = too_deep_key(data)
    if deep is not None:
        raise _refuse(_too_deep(kind, f"at {deep!r}"), source, kind)
    return data


def _too_deep(kind: str, where: str) -> str:
    return (
        f"tables or arrays nested more than MAX_NESTING_DEPTH = {MAX_NESTING_DEPTH} levels deep ({where}); "
        f"a {kind} file needs only a few levels"
    )


def too_deep_key(data: Any, limit: int = MAX_NESTING_DEPTH) -> str | None:
    """The dotted key (first 80 characters) of a value nested more than ``limit`` deep, or None.

    Walks the tree with an explicit stack, so any depth is measured without recursing.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, key, depth = stack.pop()
        if depth > limit:
            return key[:80] + ("…" if len(key) > 80 else "")
        if isinstance(node, dict):
            stack.extend((v, f"{key}.{k}" if key else str(k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{key}[{i}]", depth + 1) for i, v in enumerate(node))
    return None


def read_toml_file(path: str | Path, kind: str = "scenario") -> dict[str, Any]:
    """Read and parse a ``kind`` file within the limits above; refuse it with a ScenarioError."""
    text = read_text_file(path, kind)
    return parse_toml(text, str(path), kind)
