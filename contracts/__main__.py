"""``python -m contracts``: the contracts commands without the main CLI."""

from contracts.cli import main

if __name__ == "__main__":
    main()
