"""benchmarks/extraction.py runs on any dataset in the AEB layout (a tiny one made here)."""

import gzip
import json
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BODY = "Volunteers pulled shopping trolleys, tyres and a sofa out of the river on Saturday morning. " * 4


def test_benchmark_scores_both_extractors_page_paired(tmp_path, capsys):
    (tmp_path / "html").mkdir()
    truth = {}
    for key in ("a1", "b2"):
        html = f"<html><body><nav>Home News Sport</nav><article><p>{BODY}</p><p>Read more: Another story</p></article></body></html>"
        (tmp_path / "html" / f"{key}.html.gz").write_bytes(gzip.compress(html.encode()))
        truth[key] = {"articleBody": BODY.strip(), "url": f"http://valley.test/{key}"}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    out = tmp_path / "out.json"

    module = runpy.run_path(str(ROOT / "benchmarks" / "extraction.py"))
    assert module["main"](["--dataset", str(tmp_path), "--json", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "| newsarchive | 1.000 | 1.000 | 1.000 | 1.000 |" in printed
    assert "page-paired, newsarchive vs plain trafilatura: 2 better, 0 worse, 0 equal" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["newsarchive"]["pages"]["a1"]["text"] == BODY.strip()


def test_benchmark_without_a_dataset_is_a_usage_error(tmp_path):
    module = runpy.run_path(str(ROOT / "benchmarks" / "extraction.py"))
    assert module["main"](["--dataset", str(tmp_path)]) == 2
