"""``python -m tokportal_async``: the command line."""

from .cli import console

console()
