"""``bplab similarity OUT``: rank pairs of submissions of a graded folder by shared code.

Where each student's code comes from, first found wins:

1. ``--submissions PATH...``: the same paths as given to ``bplab grade`` (``sources.from_paths``);
2. the store that an earlier ``bplab similarity OUT`` wrote (``OUT/similarity/fingerprints.json``);
3. the notebook each record says it was graded from (``sources.from_record``).

The assignment is ``--assignment``, else the store's, else the one the records name.

Every input is checked before anything is written: a bad option, a missing store or a store of
another scheme or assignment is a usage error (exit 2) and writes nothing. Student code is read
as text and never run.
"""

from __future__ import annotations

from pathlib import Path

import click

from bplab.layout import GradingDir
from bplab.report.load import load_grading_dir
from bplab.similarity.compare import WHOLE, Comparison, Student, compare, prepare, template_hashes
from bplab.similarity.extract import Template, extract, load_template
from bplab.similarity.sources import from_paths, from_record, recorded_assignment
from bplab.similarity.store import (
    CSV_NAME,
    StoreError,
    export_for,
    load_store,
    save_store,
    store_path,
    write_csv,
)


def _students(codes: dict[str, bytes | None], template: Template,
              diagnoses: dict[str, dict[str, list[str]]]) -> list[Student]:
    ignore = {q: template_hashes("\n".join(template.stubs.get(n, "") for n in names))
              for q, names in template.names.items()}
    students = []
    for stem in diagnoses:
        data = codes.get(stem)
        snippets = extract(data, template).snippets if data else {}
        students.append(Student(stem, {q: prepare(s, ignore[q]) for q, s in snippets.items()},
                                diagnoses[stem]))
    return students


def run_similarity(out: Path, assignment: str | None = None,
                   submissions: list[Path] | None = None, against: list[Path] | None = None,
                   export: tuple[str, Path] | None = None) -> Comparison:
    """Compare the submissions graded into ``out``; write the CSV, the pages and the store.

    Raises:
        click.UsageError: anything wrong with the inputs (nothing is written then).
    """
    from bplab.layout import Assignment
    from bplab.similarity.render import write_pages

    out = Path(out)
    folder = GradingDir(out)
    try:
        graded = load_grading_dir(folder)
    except (FileNotFoundError, ValueError) as e:
        raise click.UsageError(str(e)) from e
    diagnoses = {s.stem: s.diagnoses for s in graded.submissions if s.stem}
    stored: list[Student] | None = None
    if not submissions and store_path(out).is_file():
        try:
            assignment, stored = load_store(out, assignment)
        except StoreError as e:
            raise click.UsageError(str(e)) from e
    assignment = assignment or recorded_assignment(folder)
    if assignment is None:
        raise click.UsageError("--assignment is needed (e.g. -a hw1): neither a similarity store "
                               "nor the records of OUT name it")
    try:
        template = load_template(Assignment.named(assignment))
    except (ValueError, OSError) as e:
        raise click.UsageError(f"cannot read the template of {assignment!r}: {e}") from e
    earlier: list[Student] = []
    cohorts: set[str] = set()
    for previous in against or []:
        name = Path(previous).resolve().name or "earlier"
        cohort, n = name, 1
        while cohort in cohorts:  # two earlier folders of the same name stay apart
            n += 1
            cohort = f"{name}-{n}"
        cohorts.add(cohort)
        try:
            earlier += load_store(Path(previous), assignment, cohort)[1]
        except StoreError as e:
            raise click.UsageError(f"--against {previous}: {e}") from e
    if export is not None and export[1].exists() and any(export[1].iterdir()):
        raise click.UsageError(f"--export-for: {export[1]} exists and is not empty")
    if submissions:
        try:
            codes = from_paths(list(submissions), assignment, folder)
        except ValueError as e:  # grade's intake refuses the paths (e.g. an empty archive)
            raise click.UsageError(f"--submissions: {e}") from e
        current = _students(codes, template, diagnoses)
    else:  # the store's code; for records it does not know, the notebook the record names
        known = {s.stem: s for s in stored or []}
        codes = {stem: from_record(folder, stem, assignment)
                 for stem in diagnoses if stem not in known}
        if not known and not any(codes.values()):
            raise click.UsageError("no student code found: pass --submissions PATH... (the "
                                   "paths given to `bplab grade`)")
        fresh = {s.stem: s for s in _students(codes, template,
                                              {stem: diagnoses[stem] for stem in codes})}
        current = [Student(stem, known[stem].codes, dx) if stem in known else fresh[stem]
                   for stem, dx in diagnoses.items()]
    comparison = compare([*current, *earlier], list(template.questions))
    save_store(out, assignment, current)
    write_csv(out / CSV_NAME, comparison)
    write_pages(out, comparison, f"Similarity: {out.resolve().name}")
    if export is not None:
        export_for(export[0], export[1], current, template)
    return comparison


def _printable(text: str) -> str:
    """``text`` without control characters (a stem must not drive the terminal)."""
    return "".join(c if c.isprintable() else "?" for c in text)


@click.command("similarity")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--assignment", "-a", default=None, help="Assignment name, e.g. hw1.")
@click.option("--submissions", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="The notebooks, folders or zips given to `bplab grade` (repeatable).")
@click.option("--against", multiple=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="An earlier cohort's graded folder (with its similarity store; repeatable).")
@click.option("--export-for", "export", default=None,
              type=(click.Choice(["jplag", "dolos"]), click.Path(path_type=Path)),
              help="Also write one folder per student, one .py per question: TOOL DIR.")
def similarity(out: Path, assignment: str | None, submissions: tuple[Path, ...],
               against: tuple[Path, ...], export: tuple[str, Path] | None) -> None:
    """Rank pairs of submissions graded into OUT by the code they share (template removed).

    Writes OUT/similarity.csv, OUT/similarity.html (pair views in OUT/similarity/) and the
    fingerprint store OUT/similarity/fingerprints.json. Run `bplab report OUT` afterwards for
    the report's section. Similarity is evidence for a human to weigh, never a verdict.
    """
    comparison = run_similarity(out, assignment, list(submissions), list(against), export)
    students = comparison.students
    top = [p for p in comparison.pairs if p.question == WHOLE][:5]
    for p in top:
        dx = f"  same rare diagnosis: {'; '.join(p.shared_diagnosis)}" if p.shared_diagnosis else ""
        click.echo(_printable(f"{p.similarity:.2f}  {p.matched_tokens:5d} tokens  "
                              f"{students[p.a].label} ~ {students[p.b].label}{dx}"))
    without = sum(not s.codes for s in students if not s.cohort)
    if without:
        click.echo(f"{without} submission(s) had no code to compare", err=True)
    click.echo(f"wrote {out / CSV_NAME} and {out / 'similarity.html'}")
