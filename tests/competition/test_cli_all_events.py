"""`tito benchmark run --all-events` runs what this machine has data for and names the files the rest need."""

from competition.cli import _available
from competition.datasets import unavailable_reason
from competition.rules import load_rules


def test_downloaded_datasets_are_unavailable_in_an_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    reason = unavailable_reason("mnist")
    assert reason is not None and "t10k-images-idx3-ubyte.gz" in reason and "TINYTORCH_DATA" in reason
    assert unavailable_reason("mnist_bundled") is None
    assert unavailable_reason("shakespeare") is None


def test_all_events_skips_events_without_data_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    events = ["mlp_sprint", "mlp_sprint_offline", "cnn_marathon", "transformer_decathlon"]
    assert _available(events, load_rules()) == ["mlp_sprint_offline", "transformer_decathlon"]
    err = capsys.readouterr().err
    assert "skipped mlp_sprint" in err and "skipped cnn_marathon" in err and "cifar-10-binary.tar.gz" in err
