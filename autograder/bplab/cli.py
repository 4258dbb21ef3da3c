"""The `bplab` command line: one subcommand per job, each defined in its own module."""

import click


@click.group()
@click.version_option(package_name="backprop-lab")
def main() -> None:
    """Backprop Lab: build releases, grade submissions, report on a class."""


# Each module below defines one click command; register it here with one line.
# (Imports are inside a function so that `bplab --help` stays fast.)
def _register() -> None:
    from bplab.notebook import sync_command; main.add_command(sync_command)  # noqa: E702, I001
    from bplab.export import export_command; main.add_command(export_command)  # noqa: E702, I001
    from bplab.build import build_command; main.add_command(build_command)  # noqa: E702, I001
    from bplab.examples import examples_command; main.add_command(examples_command)  # noqa: E501, E702, I001
    from bplab.report.command import report; main.add_command(report)  # noqa: E702, I001
    from bplab.grade.command import grade; main.add_command(grade)  # noqa: E702, I001
    from bplab.grade.merge import merge; main.add_command(merge)  # noqa: E702, I001
    from bplab.i18n import i18n_command; main.add_command(i18n_command)  # noqa: E702, I001
    from bplab.similarity.command import similarity; main.add_command(similarity)  # noqa: E501, E702, I001


_register()
