"""The image tasks from the command line (no training: listing and the offline error)."""

from __future__ import annotations

from ..conftest import run_cli


def test_tasks_lists_the_image_tasks(cli_env):
    out = run_cli(["tasks"], cli_env)
    assert out.returncode == 0
    for name in ("cifar10", "fashion_mnist"):
        assert name in out.stdout
    assert "error_rate" in out.stdout


def test_cifar10_offline_without_the_tarball_is_one_clear_line(cli_env, tmp_path):
    env = {**cli_env, "AUTORESEARCH_CACHE": str(tmp_path / "empty-cache")}
    out = run_cli(["baseline", "--task", "cifar10"], env)
    assert out.returncode == 4, out.stderr
    message = " ".join(out.stderr.split())
    assert "cifar-10-python.tar.gz" in message and "downloads" in message
    assert "Traceback" not in out.stderr
