"""The `bplab` command line: one subcommand per job, each defined in its own module."""

import click


@click.group()
@click.version_option(package_name="backprop-lab")
def main() -> None:
    """Backprop Lab: build releases, grade submissions, report on a class."""


# Each module below defines one click command; register it here with one line.
# (Imports are inside a function so that `bplab --help` stays fast.)
def _register() -> None:
    pass


_register()
