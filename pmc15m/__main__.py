"""``python -m pmc15m``: the same command line as the ``pmc15m`` script."""

from pipelines.cli.main import entry

if __name__ == "__main__":
    entry()
