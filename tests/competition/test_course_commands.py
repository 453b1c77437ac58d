"""Every course command works or names its replacement; expected failures end in one line, never a traceback."""

import hashlib
import io
import subprocess
import sys

import pytest

import competition
from competition import setup_check
from competition.cli import main
from competition.datasets import unavailable_reason
from tests.competition.test_validation_folder import FIXTURES, valid_entry

REPORTS = FIXTURES.parent / "reports"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and competition.__version__ in capsys.readouterr().out


def test_setup_validate_prints_one_check_per_line_within_80_columns(capsys):
    code, out, _ = run(capsys, "setup", "--validate")
    lines = out.splitlines()
    assert code == 0 and lines[-1].startswith("ready")
    assert max(map(len, lines)) <= 80
    firsts = [line for line in lines[:-1] if not line.startswith("     ")]  # continuations are indented
    for name in ("python", "packages", "install", "blas", "jail", "data"):
        assert any(line.split(":")[0].split()[-1] == name for line in firsts), name
    assert all(line.split()[0] in ("ok", "warn", "FAIL") for line in firsts)


def test_a_long_check_wraps_with_its_fix_indented_and_wide_keeps_one_line(capsys, monkeypatch):
    detail, fix = "word " * 30, "run " + "this " * 25
    monkeypatch.setattr(setup_check, "CHECKS", (lambda: setup_check.Check("jail", "warn", detail, fix),))
    _, out, _ = run(capsys, "setup", "--validate")
    lines = out.splitlines()[:-1]
    assert max(map(len, lines)) <= 80 and lines[0].startswith("warn jail: word")
    assert all(line.startswith("     ") for line in lines[1:]) and any("-> run this" in line for line in lines)
    _, out, _ = run(capsys, "setup", "--validate", "--wide")
    assert len(out.splitlines()) == 2


def test_setup_fails_with_the_fix_when_a_check_fails(capsys, monkeypatch):
    monkeypatch.setattr(setup_check, "CHECKS", (lambda: setup_check.Check("python", "fail", "Python 3.8", "use 3.11"),))
    code, out, _ = run(capsys, "setup")
    assert code == 1 and "FAIL python: Python 3.8\n     -> use 3.11" in out and "not ready" in out


def test_setup_reports_each_jail_probe_with_its_fix(monkeypatch):
    from competition.sandbox import diagnose

    probes = [diagnose.Check("bubblewrap jail", True, "works", ""),
              diagnose.Check("network: loopback only", False, "eth0 visible", "bwrap must run with --unshare-net")]
    monkeypatch.setattr(diagnose, "diagnose", lambda: probes)
    checks = setup_check.check_jail()
    assert [(c.name, c.status) for c in checks] == [("jail: bubblewrap jail", "ok"),
                                                    ("jail: network: loopback only", "warn")]
    assert "eth0 visible" in checks[1].detail and checks[1].fix == "bwrap must run with --unshare-net"


def test_a_broken_check_is_reported_not_raised(monkeypatch):
    def broken():
        raise RuntimeError("probe exploded")

    monkeypatch.setattr(setup_check, "CHECKS", (broken,))
    assert setup_check.run_checks() == [setup_check.Check("broken", "fail", "RuntimeError: probe exploded",
                                                          "report this output as a bug")]


# -- tito data download ---------------------------------------------------------------------------------------------

@pytest.fixture
def fake_mnist(monkeypatch):
    """Four small 'MNIST' files served by a stub mirror; their SHA-256 stand in for the official ones."""
    from tinytorch.data import cache, mnist

    payloads = {name: f"payload of {name}".encode() * 1000 for name in mnist.MNIST_SHA256}
    monkeypatch.setattr(mnist, "MNIST_SHA256", {n: hashlib.sha256(p).hexdigest() for n, p in payloads.items()})
    served = []

    def open_url(url):
        served.append(url)
        return io.BytesIO(payloads[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(cache, "open_url", open_url)
    return payloads, served


def test_data_download_fetches_and_verifies(fake_mnist, tmp_path, capsys):
    payloads, served = fake_mnist
    code, out, _ = run(capsys, "data", "download", "mnist", "--root", str(tmp_path))
    assert code == 0 and "4 file(s) verified (SHA-256)" in out
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == payloads
    assert len(served) == 4
    assert run(capsys, "data", "download", "mnist", "--root", str(tmp_path))[0] == 0
    assert len(served) == 4  # present files are verified, not fetched again


def test_data_download_offline_is_one_line_naming_files_and_folder(monkeypatch, tmp_path, capsys):
    from tinytorch.data import cache

    def offline(url):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(cache, "open_url", offline)
    code, out, err = run(capsys, "data", "download", "cifar10", "--root", str(tmp_path))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "cifar-10-binary.tar.gz" in lines[0] and str(tmp_path) in lines[0]
    assert "tito data download cifar10" in lines[0]


def test_data_download_refuses_a_corrupt_file(fake_mnist, tmp_path, capsys):
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the official file")
    code, _, err = run(capsys, "data", "download", "mnist", "--root", str(tmp_path))
    assert code == 2 and "checksum mismatch" in err and "t10k-labels-idx1-ubyte.gz" in err


def test_missing_data_messages_name_a_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    assert "tito data download mnist" in unavailable_reason("mnist").splitlines()[0]


# -- tito submit ------------------------------------------------------------------------------------------------------

def test_submit_file_validate_only(capsys):
    assert run(capsys, "submit", "--file", str(REPORTS / "valid.json"), "--validate-only")[0] == 0
    assert run(capsys, "submit", "--validate-only", str(REPORTS / "valid.json"))[0] == 0
    assert run(capsys, "submit", "--file", str(REPORTS / "implausible.json"), "--validate-only")[0] == 1


def test_submit_without_validate_only_points_to_the_pull_request(capsys):
    code, out, _ = run(capsys, "submit", str(REPORTS / "valid.json"))
    assert code == 0 and "submitted by pull request" in out and "tito benchmark submit" in out


def test_submit_with_nothing_to_check_says_what_to_type(capsys):
    code, _, err = run(capsys, "submit", "--validate-only")
    assert code == 2 and "tito submit --validate-only submissions/NAME" in err


# -- tito benchmark submit --------------------------------------------------------------------------------------------

def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def fork(tmp_path, monkeypatch):
    """A git clone of a fork on main with one commit, and an uncommitted valid entry in submissions/ada."""
    for var, value in (("GIT_AUTHOR_NAME", "Ada"), ("GIT_AUTHOR_EMAIL", "ada@example.com"),
                       ("GIT_COMMITTER_NAME", "Ada"), ("GIT_COMMITTER_EMAIL", "ada@example.com")):
        monkeypatch.setenv(var, value)
    repo = tmp_path / "fork"
    (repo / "submissions").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("fork\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "start")
    git(repo, "remote", "add", "origin", "git@github.com:ada/tinymlperf.git")
    valid_entry(repo / "submissions", "ada")
    monkeypatch.chdir(repo)
    return repo


def test_benchmark_submit_commits_on_a_branch_and_prints_the_pr_steps(fork, capsys):
    code, out, _ = run(capsys, "benchmark", "submit", "--event", "cnn_marathon_offline", "--team", "Ada")
    assert code == 0
    assert git(fork, "rev-parse", "--abbrev-ref", "HEAD") == "entry/ada"
    assert git(fork, "show", "--name-only", "--format=%s", "HEAD").splitlines()[0] == "Add ada (cnn_marathon_offline)"
    assert "git push -u origin entry/ada" in out
    assert "https://github.com/ada/tinymlperf/pull/new/entry/ada" in out
    assert "only submissions/ada/" in out
    code, out, _ = run(capsys, "benchmark", "submit", "--event", "cnn_marathon_offline", "--team", "Ada")
    assert code == 0 and "already committed" in out


def test_benchmark_submit_lists_problems_and_commits_nothing(fork, capsys):
    (fork / "submissions" / "ada" / "README.md").unlink()
    code, out, _ = run(capsys, "benchmark", "submit", "--event", "cnn_marathon_offline", "--team", "ada")
    assert code == 1 and "README.md" in out and "run `tito benchmark submit" in out
    assert git(fork, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_benchmark_submit_checks_the_event_and_the_folder(fork, capsys):
    code, out, _ = run(capsys, "benchmark", "submit", "--event", "mlp_sprint", "--team", "ada", "--no-git")
    assert code == 1 and "does not enter mlp_sprint" in out
    code, _, err = run(capsys, "benchmark", "submit", "--event", "mlp_sprint", "--team", "grace")
    assert code == 2 and "tito submission new grace" in err and len(err.strip().splitlines()) == 1


def test_benchmark_submit_outside_git_says_where_the_folder_goes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    valid_entry(tmp_path / "submissions", "ada")
    code, out, _ = run(capsys, "benchmark", "submit", "--event", "cnn_marathon_offline", "--team", "ada")
    assert code == 0 and "your fork" in out


# -- events without data or baseline --------------------------------------------------------------------------------

def test_an_event_without_baseline_says_so(capsys):
    code, _, err = run(capsys, "baseline", "--event", "cnn_marathon")
    assert code == 2 and "CNN Marathon has no baseline yet" in err and "tito baseline train --event cnn_marathon" in err
    code, out, _ = run(capsys, "baseline", "status")
    assert code == 0 and "cnn_marathon: CNN Marathon has no baseline yet" in out


def test_profile_without_data_is_one_line_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    code, _, err = run(capsys, "benchmark", "profile", "--event", "mlp_sprint")
    assert code == 2
    assert err.splitlines()[0].startswith("error: mnist data not found: run `tito data download mnist`")


def test_benchmark_run_skips_an_event_without_baseline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("competition.datasets.unavailable_reason", lambda dataset: None)
    code, _, err = run(capsys, "benchmark", "run", "--event", "cnn_marathon", "--out", str(tmp_path))
    assert code == 2 and "skipped cnn_marathon: CNN Marathon has no baseline yet" in err


# -- tito baseline train (the official CNN Marathon's baseline) ------------------------------------------------------

@pytest.fixture
def baseline_copy(tmp_path, monkeypatch):
    """A copy of the baseline's submission.yaml in a temporary folder, and a temporary weights folder."""
    from competition import baseline
    from competition.validation import BASELINE_DIR

    folder = tmp_path / "baseline"
    folder.mkdir()
    (folder / "submission.yaml").write_text((BASELINE_DIR / "submission.yaml").read_text())
    weights = tmp_path / "weights"
    weights.mkdir()
    monkeypatch.setattr(baseline, "BASELINE_DIR", folder)
    monkeypatch.setattr(baseline, "_weights_dir", lambda: weights)
    return folder, weights


def test_baseline_train_without_data_names_the_download(baseline_copy, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "empty"))
    code, _, err = run(capsys, "baseline", "train", "--event", "cnn_marathon")
    assert code == 2 and err.strip() == "error: cifar10 data is not on this machine: run `tito data download cifar10` first"
    code, _, err = run(capsys, "baseline", "train", "--event", "mlp_sprint")
    assert code == 2 and "no baseline training recipe" in err


def test_baseline_train_records_weights_card_and_enters_the_event(baseline_copy, tmp_path, monkeypatch, capsys):
    from competition.baseline import baseline_status
    from tests.tinytorch.test_train import generated_cifar10

    folder, weights = baseline_copy
    generated_cifar10(tmp_path / "data", monkeypatch)
    assert not baseline_status("cnn_marathon")[0]
    code, out, _ = run(capsys, "baseline", "train", "--event", "cnn_marathon", "--epochs", "1")
    assert code == 0 and "held-out accuracy" in out and "floor: 75 %" in out
    assert (weights / "cifar10_cnn.json").is_file()
    assert (folder / "cifar10_cnn.npz").read_bytes() == (weights / "cifar10_cnn.npz").read_bytes()
    manifest = (folder / "submission.yaml").read_text()
    assert "cnn_marathon]" in manifest and manifest.startswith("# The reference entrant")  # comments kept
    ok, message = baseline_status("cnn_marathon")
    assert ok, message
    (folder / "cifar10_cnn.npz").unlink()
    ok, message = baseline_status("cnn_marathon")
    assert not ok and "cifar10_cnn.npz is missing" in message


def test_a_failed_baseline_run_is_one_line(monkeypatch, capsys):
    from competition import api

    def failed(*args, **kwargs):
        raise api.ReportError("the run produced no measurements to report (load: model.py raised)")

    monkeypatch.setattr(api, "generate_baseline", failed)
    code, _, err = run(capsys, "baseline", "--event", "cnn_marathon_offline")
    assert code == 2 and err.strip() == "error: the run produced no measurements to report (load: model.py raised)"
