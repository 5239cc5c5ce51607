import pytest

from autoresearch.records import FailureKind
from autoresearch.sandbox import validate
from autoresearch.tasks import get_task

HEAD = "import harness\nimport torch\nimport os\nimport sys\n"
TAIL = "\nharness.evaluate(model, context=8)\n"


def test_baseline_is_valid():
    assert validate(get_task("shakespeare").baseline_source()).ok


def test_syntax_error_names_the_line():
    result = validate("import harness\nx = (\n")
    assert result.failure is FailureKind.SYNTAX and "line" in result.reason


def test_missing_evaluate_is_rejected():
    result = validate("import harness\nprint('hello')\n")
    assert result.failure is FailureKind.VALIDATION
    assert "harness.evaluate()" in result.reason


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("import subprocess", "subprocess"),
        ("import socket", "socket"),
        ("from ctypes import CDLL", "ctypes"),
        ("os.system('ls')", "os.system"),
        ("os.environ['KEY']", "os.environ"),
        ("eval('1+1')", "eval()"),
        ("exec('x=1')", "exec()"),
        ("torch.manual_seed(0)", "sets a seed"),
        ("harness.SEED = 1", "monkeypatching"),
        ("torch.nn.functional.cross_entropy = None", "monkeypatching"),
        ("x = harness._sealed", "private"),
        ("sys.modules['harness'] = None", "sys.modules"),
        ("open('/etc/passwd')", "outside"),
        ("open('../store.db', 'w')", "outside"),
        ("x = ().__class__.__bases__", "__class__"),
        ("getattr(os, name)", "literal attribute"),
        ("import importlib", "importlib"),
        ("from autoresearch.sandbox import harness", "autoresearch"),
    ],
)
def test_forbidden_patterns(snippet, expected):
    result = validate(HEAD + snippet + TAIL)
    assert result.failure is FailureKind.VALIDATION
    assert expected in result.reason


def test_own_generator_seeded_from_harness_seed_is_allowed():
    code = HEAD + "g = torch.Generator().manual_seed(harness.SEED + 1)" + TAIL
    assert validate(code).ok
