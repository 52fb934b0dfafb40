"""``python -m markettina`` is the ``markettina`` command."""

from markettina.cli import main

main()
