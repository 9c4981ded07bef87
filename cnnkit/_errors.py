"""The one template every user-facing error in cnnkit is built from.

DESIGN.md "Errors": say what is wrong (naming the layer or argument), what was
expected, ``Received: name=value``, and the valid choices with a close-match
suggestion for unknown names. Every library module raises through these
helpers so the wording stays uniform and testable with
``pytest.raises(match=...)``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["close_matches", "format_error", "invalid_type", "invalid_value", "unknown_name"]


def close_matches(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` entries of ``choices`` that look like ``name``.

    Case is ignored, and a choice that starts with ``name`` counts as close, so
    ``"sobel"`` suggests ``"sobel_x"`` and ``"sobel_y"``.
    """
    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    key = str(name).lower()
    found = [lowered[m] for m in difflib.get_close_matches(key, list(lowered), n=n, cutoff=0.6)]
    for c in choices:
        if len(found) >= n:
            break
        if c.lower().startswith(key) and c not in found and key:
            found.append(c)
    return found


def format_error(
    problem: str,
    *,
    expected: str | None = None,
    received: dict[str, Any] | None = None,
    choices: Iterable[str] | None = None,
    suggestion: str | None = None,
    hint: str | None = None,
) -> str:
    """Build the message text; the pieces appear in the order DESIGN.md lists them.

    Args:
        problem: What is wrong, naming the layer or argument, e.g.
            ``"Conv2D 'conv2d_1': `filters` must be a positive integer."``.
        expected: What was expected, e.g. ``"an integer >= 1"``.
        received: The offending values, rendered as ``Received: name=value``.
        choices: The valid choices, listed in full.
        suggestion: A close match for an unknown name (``Did you mean ...?``).
        hint: How to fix it, when that is not obvious from the rest.
    """
    parts = [problem.rstrip()]
    if expected:
        parts.append(f"Expected {expected}.")
    if received:
        parts.append("Received: " + ", ".join(f"{k}={v!r}" for k, v in received.items()))
    if suggestion:
        parts.append(f"Did you mean {suggestion}?")
    if choices is not None:
        parts.append("Valid choices: " + ", ".join(repr(c) for c in choices) + ".")
    if hint:
        parts.append(hint.rstrip())
    return " ".join(parts)


def invalid_value(problem: str, **kwargs: Any) -> ValueError:
    """A ``ValueError`` in the template; ``kwargs`` as for :func:`format_error`."""
    return ValueError(format_error(problem, **kwargs))


def invalid_type(problem: str, **kwargs: Any) -> TypeError:
    """A ``TypeError`` in the template; ``kwargs`` as for :func:`format_error`."""
    return TypeError(format_error(problem, **kwargs))


def unknown_name(kind: str, name: Any, choices: Iterable[str], *, argument: str) -> ValueError:
    """The error for an unknown name (activation, kernel, loss, model, ...).

    Example message::

        Unknown activation 'relu7'. Received: activation='relu7' Did you mean
        'relu6', 'relu'? Valid choices: 'elu', 'gelu', ...
    """
    choices = sorted(str(c) for c in choices)
    matches = close_matches(str(name), choices)
    suggestion = ", ".join(repr(m) for m in matches) if matches else None
    return ValueError(
        format_error(
            f"Unknown {kind} {name!r}.",
            received={argument: name},
            suggestion=suggestion,
            choices=choices,
        )
    )
