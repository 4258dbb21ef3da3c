"""``bplab build``: the student release, the autograder zip, and what must never leak."""

import ast
import base64
import inspect
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
from bplab import REPO_ROOT, packaging
from bplab.build import (
    GRADER_ONLY_CHECKS,
    BuildError,
    Release,
    build,
    otter_config,
)
from bplab.definitions import load_definitions
from bplab.layout import Assignment
from bplab.testfile import (
    QuestionFileError,
    case_functions,
    mentions_reference,
    strip_hidden,
)
from fake_assignment import make_fake_repo

TEST_FILE = textwrap.dedent('''
    """Docstring."""

    from otter.test_files import test_case

    OK_FORMAT = False
    name = "Q"
    points = 3


    @test_case(hidden=False, points=1)
    def public_one(f):
        assert f(1) == 2


    # The hidden case compares with the reference.
    # (Two comment lines.)
    @test_case(points=1, hidden=True)
    def hidden_one(f):
        from solutions.hw1 import dsin_x2 as reference

        assert f(2) == reference(2)
        # a trailing comment inside the case


    @test_case()
    def public_two(f):
        assert f(0) == 0
    ''')


def test_strip_hidden_removes_hidden_cases_and_their_comments():
    public = strip_hidden(TEST_FILE)
    ast.parse(public)
    assert [c.function for c in case_functions(public)] == ["public_one", "public_two"]
    assert "solutions" not in public and "hidden_one" not in public and "comment" not in public
    assert "\n\n\n\n" not in public
    assert 'name = "Q"' in public


@pytest.mark.parametrize(
    "planted, message",
    [
        # the reference imported at module level would ship to students
        (TEST_FILE.replace('"""Docstring."""', "import solutions.hw1"), "solutions"),
        (TEST_FILE.replace("from otter", "from solutions import hw1\nfrom otter"), "solutions"),
        (TEST_FILE.replace("hidden=True", "hidden=HIDDEN"), "literal"),
        (TEST_FILE.replace("hidden=False", "hidden=True").replace("@test_case()",
                                                                  "@test_case(hidden=True)"),
         "no public test case"),
        (TEST_FILE + "\nextra = test_case(hidden=True)(lambda f: None)\n", "decorator"),
    ],
)
def test_strip_hidden_refuses_what_would_leak_or_break(planted, message):
    with pytest.raises(QuestionFileError, match=message):
        strip_hidden(planted)


@pytest.fixture
def fake(tmp_path) -> Assignment:
    return make_fake_repo(tmp_path / "repo", with_data=True)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_build_layout(fake, tmp_path):
    release = build(fake, tmp_path / "dist")
    student = _tree(release.student_dir)
    assert "hw1.ipynb" in student and "data/points.csv" in student
    assert "tests/MatMul.py" in student and "bplab_checks/__init__.py" in student
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in student)
    public = student["tests/MatMul.py"].decode()
    assert "forward_shape" in public and "matches_reference" not in public
    assert "solutions" not in public

    nb = nbformat.reads(student["hw1.ipynb"].decode(), as_version=4)
    assert nb.metadata.otter.assignment_name == "hw1"
    assert not any("# BEGIN SOLUTION" in c.source for c in nb.cells)

    with zipfile.ZipFile(release.autograder_zip) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        config = json.loads(zf.read("otter_config.json"))
        full_test = zf.read("tests/MatMul.py").decode()
        reqs = zf.read("requirements.txt").decode()
    solutions = {n for n in names if n.startswith("files/solutions/")}
    assert solutions == {"files/solutions/__init__.py", "files/solutions/hw1.py"}  # no hw2.py
    assert {"tests/MatMul.py", "files/data/points.csv", "files/bplab_checks/__init__.py",
            "otter_config.json", "requirements.txt", "setup.sh", "run_autograder"} <= names
    assert not any(n.startswith("student/") or "__pycache__" in n for n in names)
    assert "matches_reference" in full_test
    assert modes["run_autograder"] == 0o755 and modes["setup.sh"] == 0o755
    assert modes["otter_config.json"] == 0o644
    assert config["assignment_name"] == "hw1" and config["lang"] == "python"
    assert "otter-grader[grading]==7.0.0" in reqs and re.search(r"^numpy", reqs, re.M)
    assert re.search(r"^matplotlib", reqs, re.M)
    assert any("no test file" in w for w in release.warnings)  # the fake has one question only
    for name in ("README.md", "requirements.txt"):
        assert name in student
    # the copy embedded in the notebook is exactly the release's public folders, byte for byte
    embedded = zipfile.ZipFile(io.BytesIO(base64.b64decode(nb.metadata.bplab.checks)))
    assert nb.metadata.bplab.assignment == "hw1"
    assert {n: embedded.read(n) for n in embedded.namelist()} == {
        f"hw1/{name}": data for name, data in student.items()
        if name.split("/")[0] in ("tests", "bplab_checks", "data")}
    with zipfile.ZipFile(release.student_zip) as zf:
        assert {f"hw1/{name}" for name in student} == set(zf.namelist())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_otter_config_uses_only_otters_keys():
    from otter.run import AutograderConfig

    config = otter_config(Assignment.named("hw1"))
    known = {key for key in dir(AutograderConfig) if not key.startswith("_")}
    assert set(config) <= known
    assert AutograderConfig(config).assignment_name == "hw1"


def test_every_requirements_file_comes_from_the_one_submission_list(fake, tmp_path):
    """A package added to what a submission may import reaches pyproject (through setuptools'
    dynamic dependencies), both zips' requirements and the student's."""
    listed = fake.root / packaging.REQUIREMENTS_DIR / "submission.txt"
    listed.write_text(listed.read_text() + "scipy>=1.11  # planted\n")
    release = build(fake, tmp_path / "dist")
    reqs = [zipfile.ZipFile(z).read("requirements.txt").decode()
            for z in (release.autograder_zip, release.secure_zip)]
    reqs.append((release.student_dir / "requirements.txt").read_text())
    for text in reqs:
        assert "scipy>=1.11" in text.splitlines() and "numpy>=1.26" in text.splitlines()
    assert "scipy" in (release.student_dir / "README.md").read_text()
    student = (release.student_dir / "requirements.txt").read_text()
    assert "otter-grader==7.0.0" in student and "[grading]" not in student
    # pyproject names the files, never a second copy of a requirement
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    files = project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    assert files == [f"{packaging.REQUIREMENTS_DIR.as_posix()}/{n}.txt"
                     for n in (packaging.SUBMISSION, packaging.GRADER)]
    assert "dependencies" in project["project"]["dynamic"]
    assert "dependencies" not in project["project"]


def test_installed_dependencies_are_the_two_lists():
    from importlib.metadata import requires

    runtime = {r for r in requires("backprop-lab") if "extra ==" not in r}
    assert runtime == set(packaging.requirement_lines(REPO_ROOT, packaging.SUBMISSION,
                                                      packaging.GRADER))


def test_zips_ship_only_their_own_assignments_reference(tmp_path):
    """Issue 10: hw1's zips carry no hw2 answer (Adam, softmax, training); hw2's carry hw1's
    reference only because hw2's reference imports its blocks (handed out in hw2 anyway)."""
    hw1 = packaging.reference_files(REPO_ROOT / "solutions", "hw1")
    hw2 = packaging.reference_files(REPO_ROOT / "solutions", "hw2")
    assert [p.name for p in hw1] == ["__init__.py", "hw1.py"]
    assert [p.name for p in hw2] == ["__init__.py", "hw1.py", "hw2.py"]
    release = build(Assignment.named("hw1"), tmp_path / "hw1")
    for path, prefix in ((release.autograder_zip, "files/solutions/"),
                         (release.secure_zip, "lib/solutions/")):
        names = {n for n in zipfile.ZipFile(path).namelist() if n.startswith(prefix)}
        assert names == {prefix + "__init__.py", prefix + "hw1.py"}, path.name
    for path in (release.autograder_zip, release.secure_zip, release.student_zip):
        for name in zipfile.ZipFile(path).namelist():
            assert "hw2" not in name, (path.name, name)


def test_reference_files_follow_imports_and_catch_a_planted_one(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    (solutions / "__init__.py").write_text("")
    (solutions / "hw1.py").write_text("import numpy as np\n")
    (solutions / "hw2.py").write_text("from solutions.hw1 import x\n")
    (solutions / "hw3.py").write_text("from solutions import hw2\nimport solutions.hw1\n")
    assert [p.name for p in packaging.reference_files(solutions, "hw1")] == [
        "__init__.py", "hw1.py"]
    assert [p.name for p in packaging.reference_files(solutions, "hw3")] == [
        "__init__.py", "hw1.py", "hw2.py", "hw3.py"]


def test_hidden_visibility_and_late_policy_are_set_at_build_time(fake, tmp_path):
    release = build(fake, tmp_path / "dist", hidden_visibility="hidden", late_policy="cap:50",
                    language="bg")
    config = json.loads(zipfile.ZipFile(release.secure_zip).read("bplab_gradescope.json"))
    assert config == {"assignment": "hw1", "hidden_visibility": "hidden",
                      "late_policy": "cap:50", "questions": fake.question_order(),
                      "default_language": "bg"}
    otter = json.loads(zipfile.ZipFile(release.autograder_zip).read("otter_config.json"))
    assert otter["show_hidden"] is False
    with pytest.raises(ValueError, match="visibility"):
        build(fake, tmp_path / "x", hidden_visibility="sometimes")
    with pytest.raises(ValueError, match="late policy"):
        build(fake, tmp_path / "x", late_policy="per-week:3")


def test_build_command_refuses_a_bad_late_policy_as_a_usage_error(tmp_path):
    from bplab.cli import main
    from click.testing import CliRunner

    out = tmp_path / "dist"
    done = CliRunner().invoke(main, ["build", "hw1", "--out", str(out), "--late-policy", "x:1"])
    assert done.exit_code == 2 and "late-policy" in done.output and not out.exists()
    done = CliRunner().invoke(main, ["build", "hw1", "--out", str(out),
                                     "--hidden-visibility", "always"])
    assert done.exit_code == 2 and not out.exists()


ENTRY_MODULES = ("packaging", "late", "gradescope", "gradescope_results")


def _entry_violations(source: str) -> list[str]:
    """Top-level imports of ``source`` that Python 3.10 could not run before ``main``'s guard:
    a third-party package, a 3.11-only module (tomllib), or a bplab module outside the entry."""
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        names = [a.name for a in node.names]
        if module == "bplab":
            found += [n for n in names if n not in ENTRY_MODULES]
        elif module is not None and module.startswith("bplab."):
            found += [module] if module.split(".")[1] not in ENTRY_MODULES else []
        elif (module or "").split(".")[0] not in (sys.stdlib_module_names - {"tomllib"}) | {
                "__future__"}:
            found.append(module or "")
    return found


def test_secure_zip_entry_imports_only_the_standard_library_at_top_level():
    bplab = REPO_ROOT / "autograder" / "bplab"
    for name in ENTRY_MODULES:
        assert _entry_violations((bplab / f"{name}.py").read_text()) == [], name
    # planted: what broke the zip on 3.10, and what would break it next
    planted = "import tomllib\nimport numpy as np\nfrom bplab.build import build\n"
    assert _entry_violations(planted) == ["tomllib", "numpy", "bplab.build"]


def test_build_is_byte_for_byte_reproducible(fake, tmp_path):
    first = build(fake, tmp_path / "one")
    second = build(fake, tmp_path / "two")
    assert _tree(first.out_dir) == _tree(second.out_dir)
    assert first.autograder_zip.read_bytes() == second.autograder_zip.read_bytes()


def test_build_replaces_previous_output(fake, tmp_path):
    out = tmp_path / "dist"
    build(fake, out)
    (out / "student" / "stale.txt").write_text("old")
    build(fake, out)
    assert not (out / "student" / "stale.txt").exists()


def test_stale_notebook_is_reported(fake, tmp_path):
    text = fake.notebook.read_text()
    old = 'raise NotImplementedError(\\"MatMul.forward'
    assert text.count(old) == 1
    fake.notebook.write_text(text.replace(old, 'pass  # (\\"MatMul.forward'))
    release = build(fake, tmp_path / "dist")
    assert any("stale" in w for w in release.warnings)
    assert "pass  #" not in release.notebook.read_text()  # the build renders from the sources


# --- nothing of the reference reaches students ------------------------------------------------

ASSIGNMENTS = [a for a in Assignment.all() if a.test_files()]
# A line shorter than this, or a bare `return name, ...`, says nothing about the solution; nor
# does a line the published contract already states (up to the `np.` prefix).
MIN_LINE = 20
_RETURN_NAMES = re.compile(r"return [\w, ]+")
CONTRACT = (REPO_ROOT / "docs" / "contract.md").read_text().replace("np.", "")
# Known overlaps, reported to their owners; remove an entry once it is fixed (the test then
# insists, so that a fixed leak cannot come back unnoticed).
KNOWN_LEAKS: dict[tuple[str, str], set[str]] = {
    # Found when hw3 joined this test (Assignment.all()): the shipped public checks rebuild the
    # contract's set-up (docs/contract.md, hw3) with the reference's own lines.
    ("hw3", "bplab_checks/deep.py"): {
        "Ws = [rng.standard_normal((width, width)) * scale / np.sqrt(width) for _ in range(depth)]",
        "for l in range(1, L + 1):", "for l in range(1, len(sizes)):",
        'params[f"b{l}"] = np.zeros(sizes[l])'},
    ("hw3", "bplab_checks/lr_range.py"): {
        "best = min(best, loss)", "if not np.isfinite(loss) or loss > diverge * best:"},
}


def _solution_lines(assignment: Assignment) -> set[str]:
    lines = set()
    for definition in load_definitions(assignment.solution).values():
        for line in definition.solution_lines():
            line = line.strip()
            trivial = len(line) < MIN_LINE or _RETURN_NAMES.fullmatch(line) is not None
            trivial = trivial or line.replace("np.", "") in CONTRACT
            if not trivial and not line.startswith("#"):
                lines.add(line)
    return lines


def _release_lines(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        return [ln for c in nbformat.read(path, as_version=4).cells for ln in c.source.splitlines()]
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return []


@pytest.fixture(scope="module", params=ASSIGNMENTS, ids=lambda a: a.name)
def real_release(request, tmp_path_factory) -> Release:
    return build(request.param, tmp_path_factory.mktemp(request.param.name))


def _leaks(student_dir: Path, assignment: Assignment) -> dict[tuple[str, str], set[str]]:
    secret = _solution_lines(assignment)
    assert len(secret) > 10  # the check has something to look for
    leaks = {}
    for path in sorted(student_dir.rglob("*")):
        if path.is_file():
            found = secret & {ln.strip() for ln in _release_lines(path)}
            if found:
                leaks[(assignment.name, path.relative_to(student_dir).as_posix())] = found
    return leaks


def test_student_release_has_no_line_of_any_reference_body(real_release):
    name = real_release.assignment.name
    expected = {k: v for k, v in KNOWN_LEAKS.items() if k[0] == name}
    assert _leaks(real_release.student_dir, real_release.assignment) == expected


def test_leak_check_catches_a_planted_leak(real_release, tmp_path):
    assignment = real_release.assignment
    student = tmp_path / "student"
    shutil.copytree(real_release.student_dir, student)
    secret = sorted(_solution_lines(assignment))[:2]
    nb = nbformat.read(student / f"{assignment.name}.ipynb", as_version=4)
    nb.cells[-1].source += "\n    " + secret[0]  # e.g. a hint that quotes the reference
    nbformat.write(nb, student / f"{assignment.name}.ipynb")
    (student / "tests" / "notes.py").write_text(f"def f():\n        {secret[1]}\n")
    leaks = _leaks(student, assignment)
    assert secret[0] in leaks[(assignment.name, f"{assignment.name}.ipynb")]
    assert leaks[(assignment.name, "tests/notes.py")] == {secret[1]}


def test_student_tests_have_no_hidden_case(real_release):
    full = {p.stem: p.read_text() for p in real_release.assignment.test_files()}
    student = {p.stem: p.read_text() for p in (real_release.student_dir / "tests").glob("*.py")}
    assert set(student) == set(full)
    for question, source in student.items():
        hidden = {c.function for c in case_functions(full[question]) if c.hidden}
        public = {c.function for c in case_functions(source)}
        assert public and not public & hidden, question
        assert not any(c.hidden for c in case_functions(source))
        assert mentions_reference(source) == [], question
        for name in hidden:
            assert not re.search(rf"\b{name}\b", source), (question, name)


def test_default_build_also_writes_the_sandboxed_gradescope_zip(real_release):
    with zipfile.ZipFile(real_release.out_dir / "gradescope-secure.zip") as zf:
        assert "run_autograder" in zf.namelist()


# --- the numerical_gradient answer stays with the grader --------------------------------------


def _per_entry_difference_loops(source: str) -> list[int]:
    """Lines of loops that write array entries one by one *and* take a difference quotient
    ``(a - b) / ...``: the shape of a full numerical gradient, i.e. of hw1's
    numerical_gradient answer (``x[i] = old + h ... grad[i] = (f_plus - f_minus) / (2 * h)``)."""
    found = []
    for loop in ast.walk(ast.parse(source)):
        if not isinstance(loop, ast.For | ast.While):
            continue
        nodes = [n for stmt in loop.body for n in ast.walk(stmt)]
        targets = [t for n in nodes if isinstance(n, ast.Assign) for t in n.targets]
        targets += [n.target for n in nodes if isinstance(n, ast.AugAssign)]
        entry_store = any(isinstance(t, ast.Subscript) for t in targets)
        quotient = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)
                       and isinstance(n.left, ast.BinOp) and isinstance(n.left.op, ast.Sub)
                       for n in nodes)
        if entry_store and quotient:
            found.append(loop.lineno)
    return found


def _release_python(student_dir: Path) -> dict[str, str]:
    """Every piece of Python in a release: .py files and the notebook's code cells."""
    sources = {p.relative_to(student_dir).as_posix(): p.read_text(encoding="utf-8")
               for p in sorted(student_dir.rglob("*.py"))}
    for path in student_dir.glob("*.ipynb"):
        for k, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                sources[f"{path.name}[{k}]"] = cell.source
    return sources


def test_student_release_has_no_full_numerical_gradient(real_release):
    """The check library ships without its grader-only modules (numgrad: numerical_grad,
    numerical_vjp), nothing shipped defines or computes a per-entry central difference, and
    autograder.zip still carries the whole library for hidden use. (hw2's notebook may show
    one: numerical_gradient is hw1's question, and hw2 hands out hw1's answers anyway.)"""
    student = real_release.student_dir
    graded = "numerical_gradient" in real_release.questions
    assert (student / "bplab_checks" / "gradcheck.py").is_file()
    with zipfile.ZipFile(real_release.autograder_zip) as zf:
        in_zip = set(zf.namelist())
    for module in GRADER_ONLY_CHECKS:
        assert not (student / "bplab_checks" / module).exists()
        assert f"files/bplab_checks/{module}" in in_zip
    sources = {name: source for name, source in _release_python(student).items()
               if graded or not name.endswith("]")}
    assert any(name.startswith("bplab_checks/") for name in sources)
    assert any(name.endswith("]") for name in sources) == graded
    for name, source in sources.items():
        assert _per_entry_difference_loops(source) == [], name
        assert not re.search(r"\bdef numerical_(grad|vjp)\b", source), name


def test_per_entry_loop_detector_catches_every_way_of_writing_it():
    """The detector fires on the grader-only module, the reference answer, correct variants
    and a planted forward-difference bug, and not on the shipped directional check."""
    from bplab.variants import variants
    from bplab_checks import gradcheck, numgrad

    reference = load_definitions(REPO_ROOT / "solutions" / "hw1.py")["numerical_gradient"]
    planted = [inspect.getsource(numgrad), reference.reference]
    bank = {v.name: v.source for v in variants("hw1") if v.question == "numerical_gradient"}
    planted += [bank[name] for name in ("numerical_gradient_flat", "numerical_gradient_nditer",
                                        "forward differences with step h")]
    for source in planted:
        assert _per_entry_difference_loops(textwrap.dedent(source)), source[:80]
    assert _per_entry_difference_loops(inspect.getsource(gradcheck)) == []


PUBLIC_RUN = """
import importlib, sys
from pathlib import Path
student, hw, grader_only = sys.argv[1], sys.argv[2], sys.argv[3:]
solution = importlib.import_module(f"solutions.{hw}")
from otter.test_files import ExceptionTestFile
assert "bplab_checks" not in sys.modules
# Students have no editable install of this project: drop its finder, which would resolve
# bplab_checks.<anything> from the repository.
sys.meta_path = [f for f in sys.meta_path
                 if not getattr(f, "__module__", "").startswith("__editable__")]
sys.path.insert(0, student)
import bplab_checks
assert Path(bplab_checks.__file__).is_relative_to(student), bplab_checks.__file__
for module in grader_only:
    try:
        importlib.import_module(f"bplab_checks.{module}")
    except ModuleNotFoundError:
        pass
    else:
        sys.exit(f"grader-only bplab_checks.{module} is importable from the release")
env = {k: v for k, v in vars(solution).items() if not k.startswith("__")}
failed = []
for path in sorted(Path(student, "tests").glob("*.py")):
    test_file = ExceptionTestFile.from_file(str(path))
    test_file.run(dict(env, __name__="__main__"))
    assert test_file.test_case_results and not any(
        r.test_case.hidden for r in test_file.test_case_results)
    failed += [f"{path.stem}: {r.message}" for r in test_file.test_case_results if not r.passed]
sys.exit("\\n".join(failed) or None)
"""


def _run_public(student: Path, hw: str) -> subprocess.CompletedProcess:
    modules = [Path(m).stem for m in GRADER_ONLY_CHECKS]
    return subprocess.run([sys.executable, "-c", PUBLIC_RUN, str(student), hw, *modules],
                          cwd=student, capture_output=True, text=True, timeout=300)


def test_public_cases_run_on_the_shipped_library_alone(real_release, tmp_path):
    """What a student runs (grader.check in the notebook): the release's public cases with the
    release's own bplab_checks, in a fresh interpreter; the reference passes them all."""
    done = _run_public(real_release.student_dir, real_release.assignment.name)
    assert done.returncode == 0, done.stdout + done.stderr
    # Planted: a shipped module that needs a grader-only one breaks the student's release.
    student = tmp_path / "student"
    shutil.copytree(real_release.student_dir, student)
    blocks = student / "bplab_checks" / "blocks.py"
    blocks.write_text(blocks.read_text() + "\nfrom bplab_checks.numgrad import numerical_vjp\n")
    done = _run_public(student, real_release.assignment.name)
    assert done.returncode != 0 and "No module named 'bplab_checks.numgrad'" in done.stderr


def test_build_refuses_a_public_case_that_imports_a_grader_only_module(fake, tmp_path):
    test_file = fake.tests_dir / "MatMul.py"
    source = test_file.read_text()
    # Inside a hidden case the import is fine: hidden cases run with the full library.
    hidden_use = source.replace(
        "    from solutions.hw1 import MatMul as reference\n",
        "    from solutions.hw1 import MatMul as reference\n"
        "    from bplab_checks.numgrad import numerical_vjp  # noqa: F401\n",
    )
    assert hidden_use != source
    test_file.write_text(hidden_use)
    build(fake, tmp_path / "ok")
    for public_use in ("from bplab_checks.numgrad import numerical_grad",
                       "from bplab_checks import numgrad",
                       "import bplab_checks.numgrad"):
        test_file.write_text(f"{public_use}\n{source}")
        with pytest.raises(BuildError, match="grader-only bplab_checks.numgrad"):
            build(fake, tmp_path / "refused")
