"""`madam tariff quote` and `madam ids validate` (issue 6, requirement 5)."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from billing.tariff import EXAMPLES_DIR
from core.identifiers import make_bill_id, make_payment_id
from madam.cli import main
from madam.settings import REPO_ROOT

RESIDENTIAL = str(EXAMPLES_DIR / "electricity-residential-normal.json")


@pytest.fixture
def run(monkeypatch, tmp_path):
    """The CLI as a user runs it; neither command touches the database."""
    monkeypatch.setenv("MADAM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MADAM_DATABASE_URL", raising=False)
    monkeypatch.delenv("MADAM_REDIS_URL", raising=False)

    def invoke(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def write(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_quote_prints_lines_and_totals(run, tmp_path):
    # Aban 1404 (30 days), 250 kWh on the example residential tariff: blocks 100 × 400 + 100 × 470 + 50 × 1,000
    # = 40,000 + 47,000 + 50,000 = 137,000; fixed (1phase_25A) 25,000; charges 162,000; VAT 10 % = 16,200;
    # electricity levy 3 % × 137,000 = 4,110; total 182,310 → payable 182,000, rounding 310
    usage = write(tmp_path, "usage.json", {"start": "1404/08/01", "end": "1404/08/30", "registers": {"total": 250},
                                           "capacity_class": "1phase_25A"})
    result = run("tariff", "quote", "--tariff", RESIDENTIAL, "--usage", usage)
    assert result.exit_code == 0, result.output
    quote = json.loads(result.stdout)
    assert [(line["code"], line["amount"]) for line in quote["lines"]] == [
        ("energy.tier1", 40_000), ("energy.tier2", 47_000), ("energy.tier3", 50_000), ("fixed", 25_000),
        ("vat", 16_200), ("levy.electricity", 4_110), ("rounding", -310)]
    assert (quote["charges"], quote["vat"], quote["levies"], quote["total"], quote["payable"]) == (
        162_000, 16_200, {"electricity": 4_110}, 182_310, 182_000)
    assert quote["lines"][0]["label"] == "بهای مصرف — پلهٔ 1"  # Persian labels for the printed bill


def test_quote_with_several_versions(run, tmp_path):
    # 1,000 rials/kWh flat, then 2,000 from Aban 16: 300 kWh over Aban = 150 × 1,000 + 150 × 2,000
    base = {"utility": "electricity", "tariff_type": "1", "code": "F"}
    versions = write(tmp_path, "versions.json", [
        {**base, "effective_from": "1404/01/01", "blocks": [{"upto": None, "rate": 1000}]},
        {**base, "effective_from": "1404/08/16", "blocks": [{"upto": None, "rate": 2000}]}])
    usage = write(tmp_path, "usage.json", {"start": "1404/08/01", "end": "1404/08/30", "registers": {"total": 300}})
    result = run("tariff", "quote", "--tariff", versions, "--usage", usage)
    assert result.exit_code == 0, result.output
    assert [line["amount"] for line in json.loads(result.stdout)["lines"]] == [150_000, 300_000]


def test_quote_refuses_bad_input_naming_each_field_in_persian(run, tmp_path):
    tariff = write(tmp_path, "tariff.json", {"utility": "electricity", "tariff_type": "1",
                                             "blocks": [{"upto": 100, "rate": 400}, {"upto": 50, "rate": "x"}]})
    usage = write(tmp_path, "usage.json", {"start": "1404/08/01", "end": "1404/07/01", "registers": {"total": 250}})
    result = run("tariff", "quote", "--tariff", tariff, "--usage", usage)
    assert result.exit_code == 2 and result.stdout == ""
    assert json.loads(result.stderr)["errors"] == [{"field": "usage.end", "message": "پایان دوره پیش از آغاز آن است."}]
    usage = write(tmp_path, "usage.json", {"start": "1404/08/01", "end": "1404/08/30", "registers": {"total": 250}})
    result = run("tariff", "quote", "--tariff", tariff, "--usage", usage)
    assert result.exit_code == 2
    assert json.loads(result.stderr)["errors"] == [
        {"field": "tariff.blocks[1].rate", "message": "یک عدد وارد کنید."},
        {"field": "tariff.blocks[1].upto", "message": "سقف هر پله باید از سقف پلهٔ قبلی بیشتر باشد."},
        {"field": "tariff.blocks[1].upto", "message": "پلهٔ آخر باید بی‌سقف باشد (upto: null)."}]


def test_quote_refuses_a_file_that_is_not_json(run, tmp_path):
    usage = write(tmp_path, "usage.json", '{"start": "1404/08/01",\n "end": }')
    result = run("tariff", "quote", "--tariff", RESIDENTIAL, "--usage", usage)
    assert result.exit_code == 2
    assert json.loads(result.stderr)["errors"] == [
        {"field": "usage", "message": "پرونده JSON معتبر نیست (سطر 2، ستون 9)."}]
    result = run("tariff", "quote", "--tariff", str(tmp_path / "missing.json"), "--usage", usage)
    assert result.exit_code == 2
    assert [e["field"] for e in json.loads(result.stderr)["errors"]] == ["tariff", "usage"]


def test_ids_validate_prints_what_the_ids_encode(run):
    bill_id = make_bill_id(1234567, 41, 2)
    payment_id = make_payment_id(1_254_000, 1405, 9, bill_id)
    result = run("ids", "validate", bill_id, payment_id)
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    assert described["valid"] is True
    bill, payment = described["bill"], described["payment"]
    assert (bill["file_code"], bill["company_code"], bill["service_digit"], bill["service_name"]) == (
        "1234567", "041", 2, "برق")
    assert (payment["amount_rials"], payment["year_digit"], payment["period"]) == (1_254_000, 5, "09")


def test_ids_validate_says_which_check_digit_fails(run):
    bill_id = make_bill_id(1234567, 41, 2)  # 123456704128
    payment_id = make_payment_id(1_254_000, 1405, 9, bill_id)  # 125450962
    wrong_bill = bill_id[:-1] + "7"
    result = run("ids", "validate", wrong_bill, payment_id)
    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    # the bill's own check digit is wrong, and C2 — computed over the bill ID — no longer matches either
    assert errors[0] == {"field": "bill_id",
                         "message": "رقم کنترل شناسهٔ قبض (رقم آخر) 7 است، اما از رقم‌های دیگر آن 8 به دست می‌آید."}
    assert [e["field"] for e in errors] == ["bill_id", "payment_id"] and "C2" in errors[1]["message"]
    result = run("ids", "validate", bill_id, payment_id[:-2] + "12")  # C1 6 → 1
    errors = json.loads(result.stdout)["errors"]
    assert errors[0]["field"] == "payment_id" and errors[0]["message"].startswith("رقم کنترل اول شناسهٔ پرداخت (C1")
    result = run("ids", "validate", "12a45", payment_id)
    assert [e["message"] for e in json.loads(result.stdout)["errors"]] == [
        "شناسهٔ قبض فقط از رقم تشکیل می‌شود.", "شناسهٔ قبض ۶ تا ۱۳ رقم دارد؛ این شناسه 4 رقم دارد.",
        "رقم کنترل دوم شناسهٔ پرداخت (C2، رقم آخر) 2 است، اما از شناسهٔ قبض، بخش‌های شناسهٔ پرداخت و C1 مقدار "
        f"{json.loads(result.stdout)['payment']['expected_c2']} به دست می‌آید."]


def test_the_installed_command_exits_2_on_invalid_ids(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "MADAM_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    done = subprocess.run([str(REPO_ROOT / ".venv/bin/madam"), "ids", "validate", "100504121", "12345"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    described = json.loads(done.stdout)
    assert described["bill"]["expected_check_digit"] == 0  # remainder 1 gives check digit 0
    assert [e["field"] for e in described["errors"]] == ["bill_id", "payment_id"]
