"""Madam's bpmnlint rules (web/static/src/lint-rules.js) run under node with the catalogue and the Persian messages
the modeler page hands them: a diagram that deploys raises nothing, and each constraint of the engine is named on
its element."""

import json
import shutil
import subprocess

import pytest

from madam.settings import REPO_ROOT
from tests.engine_support import deploy_test_request, read_bpmn
from tests.helpers import login

NODE_MODULES = REPO_ROOT / "node_modules"
RUNNER = """
import { readFileSync } from "fs";
import { BpmnModdle } from "bpmn-moddle";
import { Linter } from "bpmnlint";
import { config, SPIFF_DESCRIPTOR } from "%(rules)s";

const input = JSON.parse(readFileSync(0, "utf8"));
const { rootElement } = await new BpmnModdle({ spiffworkflow: SPIFF_DESCRIPTOR }).fromXML(input.xml);
const issues = await new Linter(config(input.catalogue, input.texts)).lint(rootElement);
const found = [];
for (const [rule, reports] of Object.entries(issues)) {
  for (const report of reports) { found.push({ rule, element: report.id, message: report.message }); }
}
process.stdout.write(JSON.stringify(found));
"""

pytestmark = pytest.mark.skipif(not (NODE_MODULES / "bpmnlint").exists() or not shutil.which("node"),
                                reason="needs node and `make static`'s npm packages")


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lint")
    (folder / "runner.js").write_text(RUNNER % {"rules": REPO_ROOT / "web/static/src/lint-rules.js"})
    subprocess.run([str(NODE_MODULES / ".bin/esbuild"), str(folder / "runner.js"), "--bundle", "--platform=node",
                    "--format=esm", "--log-level=warning", f"--outfile={folder / 'runner.mjs'}"],
                   check=True, env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin"}, timeout=60)
    return folder / "runner.mjs"


@pytest.fixture
def page_data(client, session, demo):
    """The catalogue and the messages of a draft's modeler page, as the browser receives them."""
    version = deploy_test_request(session, demo["analyst"])
    session.commit()
    login(client, "analyst")
    page = client.get("/processes").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    draft = client.post(f"/processes/versions/{version.id}/draft", data={"csrf_token": token})
    html = client.get(draft.headers["Location"]).get_data(as_text=True)

    def block(name):
        return json.loads(html.split(f'id="{name}">')[1].split("</script>")[0])

    return block("modeler-catalogue"), block("modeler-texts")


def lint(runner, page_data, xml: str) -> dict[str, list[str]]:
    catalogue, texts = page_data
    done = subprocess.run(["node", str(runner)], input=json.dumps({"xml": xml, "catalogue": catalogue,
                                                                    "texts": texts}),
                          capture_output=True, text=True, timeout=60, check=True)
    found: dict[str, list[str]] = {}
    for issue in json.loads(done.stdout):
        found.setdefault(issue["element"], []).append(f'{issue["rule"]}: {issue["message"]}')
    return found


def test_a_diagram_the_engine_runs_raises_nothing(runner, page_data):
    assert lint(runner, page_data, read_bpmn("test_request.bpmn")) == {}


BROKEN = {
    'value="test_approve"': 'value="no_such_form"',
    'id="test.compute_fee"': 'id="test.no_such_operation"',
    '<bpmn:lane id="lane_engineer" name="engineer">': '<bpmn:lane id="lane_engineer" name="janitor">',
    '<bpmn:timeDuration>"PT2H"</bpmn:timeDuration>': "<bpmn:timeDuration>PT2H</bpmn:timeDuration>",
    'default="f_free"': "",
    '<spiffworkflow:property name="sla" value="PT4H" />': '<spiffworkflow:property name="sla" value="4 hours" />',
}


def test_each_constraint_of_the_engine_is_named_on_its_element(runner, page_data):
    found = lint(runner, page_data, read_bpmn("test_request.bpmn", **BROKEN))
    assert found["approve"] == ["madam/form-exists: فرم no_such_form در این پیش‌نویس نیست."]
    assert found["compute_fee"] == ["madam/known-operation: عملیات test.no_such_operation ثبت نشده است."]
    assert found["lane_engineer"] == ["madam/known-role: مسیر janitor نام هیچ نقشی نیست."]
    assert found["approve_late"] == ['madam/timer-format: مقدار زمان‌سنج PT2H نقل‌قول لازم دارد: "PT2H".']
    assert found["f_free"] == ["madam/exclusive-conditions: این جریان بدون شرط از دروازه خارج می‌شود و جریان "
                               "پیش‌فرض آن هم نیست."]
    assert found["register"] == ["madam/sla-format: مهلت 4 hours مدتی مانند PT4H نیست."]
    assert set(found) == {"approve", "compute_fee", "lane_engineer", "approve_late", "f_free", "register"}


def test_a_split_without_a_gateway_a_missing_parameter_and_a_missing_start(runner, page_data):
    xml = read_bpmn("test_request.bpmn", **{
        '<spiffworkflow:parameter id="capacity" type="int" value="capacity" />': "",
        '<bpmn:outgoing>f_register</bpmn:outgoing>':
            '<bpmn:outgoing>f_register</bpmn:outgoing><bpmn:outgoing>f_shortcut</bpmn:outgoing>',
        '<bpmn:sequenceFlow id="f_register" sourceRef="register" targetRef="compute_fee" />':
            '<bpmn:sequenceFlow id="f_register" sourceRef="register" targetRef="compute_fee" />'
            '<bpmn:sequenceFlow id="f_shortcut" sourceRef="register" targetRef="approve" />',
        '<bpmn:startEvent id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:startEvent>':
            '<bpmn:task id="start"><bpmn:outgoing>f_start</bpmn:outgoing></bpmn:task>',
        '<bpmn:timeDuration>"PT2H"</bpmn:timeDuration>': '<bpmn:timeDuration>"two hours"</bpmn:timeDuration>',
    })
    found = lint(runner, page_data, xml)
    assert [m.split(":")[0] for m in found["register"]] == ["madam/no-implicit-split"]
    assert found["compute_fee"] == ["madam/known-operation: پارامتر لازم capacity مقدار ندارد."]
    assert [m.split(":")[0] for m in found["test_request"]] == ["madam/start-event"]
    assert found["approve_late"] == ['madam/timer-format: مقدار زمان‌سنج two hours به شکل ISO 8601 مانند "PT1H" '
                                     "نیست."]
