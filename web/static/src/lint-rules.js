/* Madam's bpmnlint rules: what the engine can run, checked in the canvas before the server is asked. Each rule
   is a bpmnlint rule factory, (config) -> { check(node, reporter) }, with config = { catalogue, texts }: the
   page's roles, registered operations and draft forms, and the messages in the user's language. Used by the
   modeler's bundle (modeler-lint.js) and by tests/test_modeler_lint.py, which runs them under node. */

import StaticResolver from "bpmnlint/lib/resolver/static-resolver";

/* The SpiffWorkflow extensions Madam reads, for bpmn-moddle: the modeler and the rules see them as typed elements. */
export var SPIFF_DESCRIPTOR = {
  name: "SpiffWorkflow", uri: "http://spiffworkflow.org/bpmn/schema/1.0/core", prefix: "spiffworkflow",
  xml: { tagAlias: "lowerCase" }, associations: [],
  types: [
    { name: "Properties", superClass: ["Element"], properties: [
      { name: "properties", type: "Property", isMany: true }] },
    { name: "Property", superClass: ["Element"], properties: [
      { name: "name", isAttr: true, type: "String" }, { name: "value", isAttr: true, type: "String" }] },
    { name: "ServiceTaskOperator", superClass: ["Element"], properties: [
      { name: "id", isAttr: true, type: "String" }, { name: "resultVariable", isAttr: true, type: "String" },
      { name: "parameterList", type: "Parameters" }] },
    { name: "Parameters", superClass: ["Element"], properties: [
      { name: "parameters", type: "Parameter", isMany: true }] },
    { name: "Parameter", superClass: ["Element"], properties: [
      { name: "id", isAttr: true, type: "String" }, { name: "type", isAttr: true, type: "String" },
      { name: "value", isAttr: true, type: "String" }] }
  ]
};

var PLUGIN = "bpmnlint-plugin-madam";
var BARE_ISO = /^((R\d*\/)?P(?=.*\d)[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.+\-Z]+)?)$/i;
var DURATION = /^P(?=.*\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?$/i;
var SLA = /^P(?=.*\d)(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?$/i;
var DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+\-]\d{2}:?\d{2})?)?$/;
var CYCLE = /^R\d*\/(.+)$/i;

function is(node, type) { return !!(node && node.$instanceOf && node.$instanceOf(type)); }

function say(template, values) {
  return String(template || "").replace(/%\((\w+)\)s/g, function (all, name) {
    return values && values[name] !== undefined ? values[name] : all;
  });
}

function extension(node, type) {
  var values = (node.extensionElements && node.extensionElements.values) || [];
  for (var i = 0; i < values.length; i++) { if (values[i].$type === type) { return values[i]; } }
  return null;
}

function property(node, name) {
  var properties = extension(node, "spiffworkflow:Properties");
  var found = ((properties && properties.properties) || []).filter(function (p) { return p.name === name; })[0];
  return found ? (found.value || "") : "";
}

function sequenceFlows(node) {
  return (node.outgoing || []).filter(function (flow) { return is(flow, "bpmn:SequenceFlow"); });
}

function processOf(node) {
  var parent = node.$parent;
  while (parent && !is(parent, "bpmn:Process")) { parent = parent.$parent; }
  return parent;
}

function leafLanes(laneSets) {
  var found = [];
  (laneSets || []).forEach(function (set) {
    (set.lanes || []).forEach(function (lane) {
      var children = lane.childLaneSet ? [lane.childLaneSet] : [];
      var below = leafLanes(children);
      if (below.length) { found = found.concat(below); } else { found.push(lane); }
    });
  });
  return found;
}

/* Each rule is a bpmnlint rule factory: (config) -> { check(node, reporter) }; config = { texts, catalogue }. */
export var RULES = {
  "start-event": function (config) {
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:Process") || !(node.flowElements || []).some(function (e) { return is(e, "bpmn:FlowNode"); })) { return; }
      if (!(node.flowElements || []).some(function (e) { return is(e, "bpmn:StartEvent"); })) {
        reporter.report(node.id, config.texts.noStart);
      }
    } };
  },
  "exclusive-conditions": function (config) {
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:ExclusiveGateway") && !is(node, "bpmn:InclusiveGateway")) { return; }
      var outgoing = sequenceFlows(node);
      if (outgoing.length < 2) { return; }
      outgoing.forEach(function (flow) {
        if (!flow.conditionExpression && node["default"] !== flow) {
          reporter.report(flow.id, config.texts.noCondition, ["conditionExpression"]);
        }
      });
    } };
  },
  "no-implicit-split": function (config) {
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:FlowNode") || is(node, "bpmn:Gateway")) { return; }
      if (sequenceFlows(node).length > 1) { reporter.report(node.id, config.texts.implicitSplit); }
    } };
  },
  "timer-format": function (config) {
    var t = config.texts;
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:TimerEventDefinition")) { return; }
      var owner = node.$parent;
      var kind = node.timeDate ? "timeDate" : node.timeCycle ? "timeCycle" : "timeDuration";
      var body = node[kind] ? String(node[kind].body || "").trim() : "";
      if (!body) { reporter.report(owner.id, t.noTimer); return; }
      if (BARE_ISO.test(body)) { reporter.report(owner.id, say(t.bareTimer, { value: body })); return; }
      var quoted = /^(["'])(.*)\1$/.exec(body);
      if (!quoted) { return; }  // a Python expression over the request's data: only a running request computes it
      var value = quoted[2].trim();
      var cycle = CYCLE.exec(value);
      var ok = kind === "timeDate" ? DATE.test(value)
        : kind === "timeCycle" ? !!cycle && (DURATION.test(cycle[1]) || DATE.test(cycle[1].split("/")[0]))
        : DURATION.test(value);
      if (!ok) { reporter.report(owner.id, say(t.badTimer, { value: value, example: t["timerExample_" + kind] })); }
    } };
  },
  "known-operation": function (config) {
    var t = config.texts;
    var operations = {};
    (config.catalogue.operations || []).forEach(function (op) { operations[op.name] = op; });
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:ServiceTask")) { return; }
      var operator = extension(node, "spiffworkflow:ServiceTaskOperator");
      if (!operator || !operator.id) { reporter.report(node.id, t.noOperation); return; }
      var known = operations[operator.id];
      if (!known) { reporter.report(node.id, say(t.unknownOperation, { op: operator.id })); return; }
      var given = {};
      ((operator.parameterList && operator.parameterList.parameters) || []).forEach(function (p) { given[p.id] = p.value; });
      known.required.forEach(function (name) {
        if (!given[name]) { reporter.report(node.id, say(t.missingParam, { param: name })); }
      });
    } };
  },
  "known-role": function (config) {
    var t = config.texts;
    var roles = {};
    (config.catalogue.roles || []).forEach(function (role) { roles[role.code] = true; });
    return { check: function (node, reporter) {
      if (is(node, "bpmn:Lane")) {
        var leaf = !(node.childLaneSet && node.childLaneSet.lanes && node.childLaneSet.lanes.length);
        if (leaf && !roles[node.name || ""]) { reporter.report(node.id, say(t.unknownRole, { role: node.name || "—" })); }
        return;
      }
      if (!is(node, "bpmn:UserTask")) { return; }
      var process = processOf(node);
      var inLane = leafLanes(process && process.laneSets).some(function (lane) {
        return (lane.flowNodeRef || []).indexOf(node) !== -1;
      });
      if (!inLane) { reporter.report(node.id, t.noLane); }
    } };
  },
  "form-exists": function (config) {
    var t = config.texts;
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:UserTask")) { return; }
      var key = property(node, "formKey");
      if (!key) { reporter.report(node.id, t.noForm); }
      else if ((config.catalogue.forms || []).indexOf(key) === -1) { reporter.report(node.id, say(t.unknownForm, { form: key })); }
    } };
  },
  "sla-format": function (config) {
    return { check: function (node, reporter) {
      if (!is(node, "bpmn:UserTask")) { return; }
      var sla = property(node, "sla");
      if (sla && !SLA.test(sla)) { reporter.report(node.id, say(config.texts.badSla, { sla: sla })); }
    } };
  },
  "runnable-elements": function (config) {
    var t = config.texts;
    return { check: function (node, reporter) {
      if (is(node, "bpmn:ComplexGateway")) { reporter.report(node.id, t.unsupported_complex); }
      else if (is(node, "bpmn:BusinessRuleTask")) { reporter.report(node.id, t.unsupported_dmn); }
      else if (is(node, "bpmn:AdHocSubProcess")) { reporter.report(node.id, t.unsupported_adhoc); }
      else if (is(node, "bpmn:ScriptTask") && !String(node.script || "").trim()) { reporter.report(node.id, t.noScript); }
      else if (is(node, "bpmn:MessageEventDefinition") && !(node.messageRef && node.messageRef.name)) {
        reporter.report(node.$parent.id, t.noMessage);
      }
    } };
  }
};

export function config(catalogue, texts) {
  var cache = {};
  var rules = {};
  var shared = { catalogue: catalogue || {}, texts: texts || {} };
  Object.keys(RULES).forEach(function (name) {
    cache["rule:" + PLUGIN + "/" + name] = RULES[name];
    rules["madam/" + name] = ["error", shared];
  });
  return { config: { rules: rules }, resolver: new StaticResolver(cache) };
}
