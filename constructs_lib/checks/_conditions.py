"""IAM's matching of one value: ``*``/``?`` wildcards, and the condition operators, on symbolic strings.

Values are rendered by :mod:`._env`: an account or region that only deploy time knows is a placeholder,
and a name CloudFormation generates is a symbol (``«Stack/Queue»``, with the prefix it is known to start
with, ``«Stack/Queue|Orders-»``). A pattern meets such a value the way IAM would meet the deployed one:
it matches when it matches every string the symbol could stand for, fails when it matches none, and
cannot be decided otherwise.
"""

from __future__ import annotations

import operator as op
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache

from ._env import ACCOUNT, GENERATED, REGION, meets_literal, readable

#: A check's answer, and when it is None, what could not be decided.
Verdict = tuple[bool | None, str]
#: What a caller sends for a condition key: a value, several it may send (``s3:TlsVersion`` is 1.2 or
#: 1.3), or None for a key it is known not to send.
ContextValue = str | tuple[str, ...] | None


def all_of(results: Iterable[bool | None]) -> bool | None:
    values = list(results)
    return False if False in values else (None if None in values else True)


def any_of(results: Iterable[bool | None]) -> bool | None:
    values = list(results)
    return True if True in values else (None if None in values else False)


def _pattern(text: str, *, wildcards: bool = True) -> str:
    if not wildcards:
        return re.escape(text)
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def wildcard_match(
    pattern: str, value: str, *, ignore_case: bool = False, wildcards: bool = True
) -> bool | None:
    """IAM's ``*``/``?`` matching (or equality, without ``wildcards``) of a literal pattern and a rendered
    value. Where the value holds what only deploy time knows (a placeholder account or region, a
    generated name known by its prefix): True when the pattern matches every value it may stand for,
    False when it matches none, else None. A symbolic pattern (an ARN of the app) and a literal value
    are undecided where a placeholder meets a literal account or region, and unequal otherwise."""
    flags = (re.I if ignore_case else 0) | re.S
    if re.fullmatch(_pattern(pattern, wildcards=wildcards), value, flags):
        return True
    if GENERATED.search(pattern):
        return None if meets_literal(pattern, value) else False
    # A placeholder in both is one account or region (the stacks of one app): only the value's others,
    # and its generated names, are holes.
    holes = _holes(tuple(p for p in (ACCOUNT, REGION) if p not in pattern))
    if holes.search(value):
        return _symbolic_match(pattern, value, flags, wildcards, holes)
    return None if meets_literal(pattern, value) else False


@cache
def _holes(placeholders: tuple[str, ...]) -> re.Pattern[str]:
    """What a rendered value holds that only deploy time knows: a generated name or attribute (with its
    shape where known), and ``placeholders`` (an account or region the pattern does not share)."""
    return re.compile("|".join([GENERATED.pattern, *map(re.escape, placeholders)]))


#: The shape of each kind of hole (``#``: a run of characters without ``:`` or ``/``, as in one part of
#: an ARN): an account is twelve digits, a region one part.
_ACCOUNT_SHAPE, _REGION_SHAPE = "?" * 12, "#"
#: A character no pattern holds, standing for the unknown part of a value.
_FRESH = "\x00"


def _shape(hole: re.Match[str]) -> str:
    if hole.group(0) == ACCOUNT:
        return _ACCOUNT_SHAPE
    if hole.group(0) == REGION:
        return _REGION_SHAPE
    return hole.groupdict().get("shape") or "*"


def _symbolic_match(
    pattern: str, value: str, flags: int, wildcards: bool, holes: re.Pattern[str]
) -> bool | None:
    """``pattern`` against a value with holes, each known only by its shape: True when it matches
    whatever fills the holes, False when it can match nothing, else None."""
    literals: list[str] = []
    shapes: list[str] = []
    position = 0
    for hole in holes.finditer(value):
        literals.append(value[position : hole.start()])
        shapes.append(_shape(hole))
        position = hole.end()
    literals.append(value[position:])
    fixed = re.split(r"[*?]", pattern, maxsplit=1)[0] if wildcards else pattern
    common = min(len(fixed), len(literals[0]))
    same = fixed[:common].lower() == literals[0][:common].lower() if flags & re.I else None
    if not (same if same is not None else fixed[:common] == literals[0][:common]):
        return False  # they differ before the first hole or wildcard
    regex = re.compile(_pattern(pattern, wildcards=wildcards), flags)
    # A fresh character matches only wildcards, so matching every run of them means matching any fill.
    fills = [[_filled(shape, n) for shape in shapes] for n in range(len(pattern) + 2)]
    if all(regex.fullmatch(_joined(literals, fill)) for fill in fills):
        return True
    glob = "".join(
        _escape_glob(literal) + (shapes[i] if i < len(shapes) else "") for i, literal in enumerate(literals)
    )
    own = pattern if wildcards else _escape_glob(pattern)
    return None if _globs_meet(own, glob, flags & re.I != 0) else False


def _filled(shape: str, n: int) -> str:
    """A string of ``shape`` whose wildcards are fresh characters: ``*`` and ``#`` as ``n`` of them, ``?``
    as one."""
    return shape.replace("*", _FRESH * n).replace("#", _FRESH * n).replace("?", _FRESH)


def _joined(literals: list[str], fills: list[str]) -> str:
    return "".join(literal + (fills[i] if i < len(fills) else "") for i, literal in enumerate(literals))


def _escape_glob(text: str) -> str:
    """Literal text in a glob: ``*``, ``?`` and ``#`` taken as themselves (as the rare names that hold
    them)."""
    return text.replace("*", "\x01").replace("?", "\x02").replace("#", "\x03")


_SEPARATORS = ":/"


@cache
def _globs_meet(one: str, other: str, ignore_case: bool = False) -> bool:
    """Whether an IAM pattern (``*``, ``?``) and a value's shape (``*``, ``?`` and ``#``, a run without
    ``:`` or ``/``) match a common string."""
    if ignore_case:
        one, other = one.lower(), other.lower()

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(one) and j == len(other):
            return True
        if i < len(one) and one[i] == "*":
            return meet(i + 1, j) or (j < len(other) and meet(i, j + 1))
        if j < len(other) and other[j] in "*#":
            # The run ends, or takes one more character of the pattern (a ``#`` takes no separator).
            takes = i < len(one) and (other[j] == "*" or one[i] not in _SEPARATORS)
            return meet(i, j + 1) or (takes and meet(i + 1, j))
        if i == len(one) or j == len(other):
            return False
        a, b = one[i], other[j]
        return (a == b or "?" in (a, b)) and meet(i + 1, j + 1)

    return meet(0, 0)


# ---------------------------------------------------------------------------------------- conditions

_STRING_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Bool",
        "Null",
    }
)
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "NumericEquals": op.eq,
    "NumericNotEquals": op.ne,
    "NumericLessThan": op.lt,
    "NumericLessThanEquals": op.le,
    "NumericGreaterThan": op.gt,
    "NumericGreaterThanEquals": op.ge,
}
#: The operators the evaluation models (with ``IfExists`` and the ``ForAnyValue:``/``ForAllValues:``
#: set forms, over the single-valued keys the pack knows).
OPERATORS = _STRING_OPERATORS | frozenset(_NUMERIC)


def condition(
    operator: str, key: str, values: tuple[str | None, ...], context: Mapping[str, ContextValue]
) -> Verdict:
    """One condition of a statement against the request's context."""
    set_form, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in OPERATORS or set_form not in ("", "ForAnyValue", "ForAllValues"):
        return None, f"the pack does not model the condition operator {operator}"
    if key.lower() not in context:
        return None, f"the pack cannot know the condition key {key} at synth"
    sent = context[key.lower()]
    if base == "Null":
        wanted = any_of(None if v is None else v.lower() == "true" for v in values)
        return (None if wanted is None else wanted == (sent is None)), f"the value of {key}"
    negated = "Not" in base
    if sent is None:  # AWS: a missing key fails a condition, passes a negated or IfExists one
        return (if_exists or negated or set_form == "ForAllValues"), ""
    outcomes = {_one_value(base, values, actual, negated) for actual in _alternatives(sent)}
    if len(outcomes) > 1:
        return None, f"{key} may be {' or '.join(_alternatives(sent))}, which the condition tells apart"
    outcome = outcomes.pop()
    if outcome is None and None in values:
        return None, f"{key} is compared with a value only deploy time knows"
    if outcome is None:
        shown = ", ".join(v for v in values if v is not None)
        return None, (
            f"{key} is {readable(str(sent))}, which may or may not match {shown}: its account, region or "
            "generated name only deploy time knows"
        )
    return outcome, ""


def _alternatives(sent: str | tuple[str, ...]) -> tuple[str, ...]:
    return sent if isinstance(sent, tuple) else (sent,)


def _one_value(base: str, values: tuple[str | None, ...], actual: str, negated: bool) -> bool | None:
    if base in _NUMERIC:
        return _numeric(base, values, actual)
    matches = any_of(_compare(base, v, actual) for v in values)
    return None if matches is None else (not matches if negated else matches)


def _numeric(base: str, values: tuple[str | None, ...], actual: str) -> bool | None:
    """A numeric operator: any value satisfies it (``NumericNotEquals``: none is equal)."""
    try:
        number = float(actual)
        wanted = [None if v is None else float(v) for v in values]
    except ValueError:
        return False  # AWS: a value that is not a number fails the comparison
    compare = _NUMERIC[base]
    if base == "NumericNotEquals":
        return all_of(None if w is None else compare(number, w) for w in wanted)
    return any_of(None if w is None else compare(number, w) for w in wanted)


def _compare(base: str, expected: str | None, actual: str) -> bool | None:
    if expected is None:
        return None
    if base == "Bool" or base.endswith("IgnoreCase"):
        return expected.lower() == actual.lower()
    return wildcard_match(expected, actual, wildcards=base.endswith("Like") or base.startswith("Arn"))
