/* The analyst's modeler: bpmn-js's modeler with a properties panel limited to what Madam reads (lane → role,
   form, SLA, service operation and parameters, script, condition, default flow, timer, message), linting in the
   canvas by bpmnlint with Madam's own rules (web/static/src/modeler-lint.js, bundled as window.MadamLint), and
   the server's verdict pinned to the elements. No inline scripts (CSP):
   the page hands its data over in <script type="application/json"> blocks and data attributes. */
(function () {
  "use strict";

  var BARE_ISO = /^((R\d*\/)?P(?=.*\d)[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.+\-Z]+)?)$/i;

  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; }
      else if (key.indexOf("on") === 0) { node.addEventListener(key.slice(2), attrs[key]); }
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function is(bo, type) { return bo && bo.$instanceOf && bo.$instanceOf(type); }

  function Workbench(root) {
    this.root = root;
    this.t = json("modeler-texts") || {};
    this.catalogue = json("modeler-catalogue") || { roles: [], operations: [], forms: [] };
    this.canvasEl = root.querySelector("[data-modeler-canvas]");
    this.panel = root.querySelector("[data-modeler-panel]");
    this.problemsEl = root.querySelector("[data-modeler-problems]");
    this.statusEl = root.querySelector("[data-modeler-status]");
    this.lint = {};
    this.server = {};
    var t = this.t;
    var translate = { translate: ["value", function (template, replacements) {
      return (t.bpmnjs[template] || template).replace(/{([^}]+)}/g, function (all, key) {
        return replacements && replacements[key] !== undefined ? replacements[key] : all;
      });
    }] };
    this.modeler = new window.BpmnJS({ container: this.canvasEl, height: "100%",
      moddleExtensions: { spiffworkflow: window.MadamLint.spiffworkflow },
      additionalModules: [window.MadamLint.module, translate],
      linting: { active: true, bpmnlint: window.MadamLint.config(this.catalogue, t) },
      textRenderer: { defaultStyle: { fontFamily: "Vazirmatn, Arial, sans-serif" },
                      externalStyle: { fontFamily: "Vazirmatn, Arial, sans-serif" } } });
    window.madamModeler = this.modeler;  // for tests and the browser console
    if (window.MadamRtl) { window.MadamRtl.attach(this.canvasEl); }
  }

  Workbench.prototype.get = function (name) { return this.modeler.get(name); };

  Workbench.prototype.start = function () {
    var self = this;
    self.get("eventBus").on("linting.completed", function (event) { self.lintDone(event.issues); });
    fetch(self.root.dataset.src, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (xml) { return self.modeler.importXML(xml); })
      .then(function () {
        self.get("canvas").zoom("fit-viewport");
        self.get("eventBus").on("selection.changed", function (event) {
          self.showPanel(event.newSelection[0]);
        });
        var timer = null;
        self.get("eventBus").on("elements.changed", function () {
          self.setStatus(self.t.unsaved, "warning");
          clearTimeout(timer);
          timer = setTimeout(function () { self.refreshPanel(); }, 250);
        });
        self.showPanel(null);
        var verdict = json("modeler-verdict");
        if (verdict) { self.showVerdict(verdict); }
        self.wireButtons();
        self.root.dataset.ready = "true";
      })
      .catch(function (error) {
        self.setStatus(String(error), "danger");
      });
  };

  Workbench.prototype.setStatus = function (text, kind) {
    if (!this.statusEl) { return; }
    this.statusEl.textContent = text || "";
    this.statusEl.className = "small text-" + (kind || "body-secondary");
  };

  // --- Saving, validating, deploying -------------------------------------------------------------------------------

  Workbench.prototype.xml = function () {
    return this.modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
  };

  Workbench.prototype.save = function () {
    var self = this;
    self.setStatus(self.t.saving);
    return self.xml().then(function (xml) {
      return fetch(self.root.dataset.saveUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": self.root.dataset.csrf, "Accept": "application/json" },
        body: JSON.stringify({ bpmn: xml })
      });
    }).then(function (response) { return response.json(); })
      .then(function (verdict) {
        if (!verdict.saved) { self.setStatus(verdict.message, "danger"); return verdict; }
        self.catalogue.forms = verdict.forms || self.catalogue.forms;
        self.relint();
        self.showVerdict(verdict);
        self.root.dataset.saved = String((Number(self.root.dataset.saved) || 0) + 1);
        return verdict;
      });
  };

  Workbench.prototype.wireButtons = function () {
    var self = this;
    self.root.querySelectorAll("[data-modeler-save]").forEach(function (button) {
      button.addEventListener("click", function () { self.save(); });
    });
    var deploy = document.getElementById("deploy-form");
    if (deploy) {
      deploy.addEventListener("submit", function (event) {
        if (deploy.dataset.filled === "true") { return; }
        event.preventDefault();
        self.xml().then(function (xml) {
          deploy.querySelector("[name=bpmn]").value = xml;
          deploy.dataset.filled = "true";
          deploy.submit();
        });
      });
    }
    self.root.querySelectorAll("[data-select-element]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        self.select(link.dataset.selectElement);
      });
    });
  };

  Workbench.prototype.select = function (id) {
    var element = this.get("elementRegistry").get(id);
    if (!element) { return; }
    this.get("selection").select(element);
    this.get("canvas").scrollToElement(element);
  };

  Workbench.prototype.showVerdict = function (verdict) {
    var self = this;
    self.server = {};
    (verdict.errors || []).forEach(function (error) {
      (self.server[error.element] = self.server[error.element] || []).push(error.message);
    });
    self.pin();
    self.setStatus(verdict.ok ? self.t.valid : self.t.invalid.replace("%(n)s", (verdict.errors || []).length),
                   verdict.ok ? "success" : "danger");
    self.root.dataset.verdict = verdict.ok ? "ok" : "errors";
  };

  // --- Markers and overlays: the server's verdict and the linter's findings ------------------------------------

  Workbench.prototype.pin = function () {
    var self = this;
    var overlays = self.get("overlays");
    var canvas = self.get("canvas");
    var registry = self.get("elementRegistry");
    overlays.remove({ type: "madam-problems" });
    registry.getAll().forEach(function (element) {
      canvas.removeMarker(element, "madam-error");
      canvas.removeMarker(element, "madam-lint");
    });
    var list = [];
    function add(source, id, messages, marker) {
      var element = registry.get(id);
      messages.forEach(function (message) { list.push({ id: id, message: message, source: source, found: !!element }); });
      if (!element || element.type === "label") { return; }
      canvas.addMarker(element, marker);
      if (source === "lint") { return; }  // bpmn-js-bpmnlint draws its own overlay
      overlays.add(element, "madam-problems", {
        position: { top: -10, left: -10 },
        html: h("span", { "class": "madam-badge " + marker, title: messages.join("\n"), "data-element": id,
                          text: String(messages.length) })
      });
    }
    Object.keys(self.server).forEach(function (id) { add("server", id, self.server[id], "madam-error"); });
    Object.keys(self.lint).forEach(function (id) {
      if (!self.server[id]) { add("lint", id, self.lint[id], "madam-lint"); }
    });
    if (!self.problemsEl) { return; }
    self.problemsEl.textContent = "";
    list.forEach(function (item) {
      var link = h("a", { href: "#", "class": "link-body-emphasis", dir: "ltr", text: item.id,
        onclick: function (event) { event.preventDefault(); self.select(item.id); } });
      self.problemsEl.appendChild(h("li", { "class": "list-group-item small madam-problem-" + item.source,
        "data-element": item.id }, [
        h("span", { "class": "badge me-1 " + (item.source === "server" ? "text-bg-danger" : "text-bg-warning"),
                    text: item.source === "server" ? self.t.server : self.t.lint }),
        link, h("span", { text: " — " }), h("span", { dir: "ltr", text: item.message })]));
    });
    if (!list.length) {
      self.problemsEl.appendChild(h("li", { "class": "list-group-item small text-success", text: self.t.noProblems }));
    }
  };

  /* bpmnlint's findings, {element id: [issue]}, for the problems list and the panel; the overlays on the
     canvas are bpmn-js-bpmnlint's own. An issue of an element that is not drawn (the process of a pool) comes
     with the id it was reported on as actualElementId. */
  Workbench.prototype.lintDone = function (issues) {
    var found = {};
    Object.keys(issues || {}).forEach(function (shown) {
      issues[shown].forEach(function (issue) {
        var id = issue.actualElementId || shown;
        (found[id] = found[id] || []).push(issue.message);
      });
    });
    this.lint = found;
    this.root.dataset.lintCount = String(Object.keys(found).length);
    this.root.dataset.linted = String((Number(this.root.dataset.linted) || 0) + 1);
    this.pin();
    this.refreshPanel();
  };

  /* The rules read the page's roles, operations and forms: a new form re-lints the diagram. */
  Workbench.prototype.relint = function () {
    this.get("linting").setLinterConfig(window.MadamLint.config(this.catalogue, this.t));
  };

  // --- The business object: extensions Madam reads ------------------------------------------------------------------

  Workbench.prototype.ext = function (bo, type) {
    var values = (bo.extensionElements && bo.extensionElements.values) || [];
    for (var i = 0; i < values.length; i++) { if (values[i].$type === type) { return values[i]; } }
    return null;
  };

  Workbench.prototype.property = function (bo, name) {
    var properties = this.ext(bo, "spiffworkflow:Properties");
    var found = ((properties && properties.properties) || []).filter(function (p) { return p.name === name; })[0];
    return found ? found.value : "";
  };

  Workbench.prototype.ensureExt = function (element, type) {
    var bo = element.businessObject;
    var moddle = this.get("moddle");
    var modeling = this.get("modeling");
    var extensions = bo.extensionElements;
    if (!extensions) {
      extensions = moddle.create("bpmn:ExtensionElements", { values: [] });
      modeling.updateProperties(element, { extensionElements: extensions });
    }
    var found = this.ext(bo, type);
    if (!found) {
      found = moddle.create(type);
      modeling.updateModdleProperties(element, extensions, { values: extensions.get("values").concat([found]) });
    }
    return found;
  };

  Workbench.prototype.setProperty = function (element, name, value) {
    var properties = this.ensureExt(element, "spiffworkflow:Properties");
    var modeling = this.get("modeling");
    var list = properties.get("properties");
    var existing = list.filter(function (p) { return p.name === name; })[0];
    if (!value) {
      if (existing) { modeling.updateModdleProperties(element, properties, { properties: list.filter(function (p) { return p !== existing; }) }); }
      return;
    }
    if (existing) { modeling.updateModdleProperties(element, existing, { value: value }); return; }
    var created = this.get("moddle").create("spiffworkflow:Property", { name: name, value: value });
    modeling.updateModdleProperties(element, properties, { properties: list.concat([created]) });
  };

  Workbench.prototype.setOperator = function (element, name, params, resultVariable) {
    var moddle = this.get("moddle");
    var operator = this.ensureExt(element, "spiffworkflow:ServiceTaskOperator");
    var parameters = Object.keys(params).filter(function (key) { return params[key] !== ""; }).map(function (key) {
      return moddle.create("spiffworkflow:Parameter", { id: key, type: "any", value: params[key] });
    });
    this.get("modeling").updateModdleProperties(element, operator, {
      id: name, resultVariable: resultVariable || undefined,
      parameterList: moddle.create("spiffworkflow:Parameters", { parameters: parameters })
    });
  };

  Workbench.prototype.laneOf = function (bo) {
    var lanes = this.get("elementRegistry").filter(function (element) { return element.type === "bpmn:Lane"; });
    for (var i = 0; i < lanes.length; i++) {
      var refs = lanes[i].businessObject.flowNodeRef || [];
      if (refs.indexOf(bo) !== -1) { return lanes[i].businessObject; }
    }
    return null;
  };

  // --- The properties panel -----------------------------------------------------------------------------------------

  Workbench.prototype.refreshPanel = function () {
    var active = document.activeElement;
    if (active && this.panel.contains(active)) { return; }  // never under the analyst's typing
    this.showPanel(this.current);
  };

  function field(label, input, help) {
    var id = "p-" + Math.random().toString(36).slice(2, 9);
    input.id = id;
    return h("div", { "class": "mb-2" }, [
      h("label", { "class": "form-label small mb-0", "for": id, text: label }), input,
      help ? h("div", { "class": "form-text", text: help }) : null]);
  }

  function textInput(value, onchange, attrs) {
    var input = h("input", Object.assign({ "class": "form-control form-control-sm", value: value || "", dir: "auto" }, attrs || {}));
    input.addEventListener("change", function () { onchange(input.value.trim()); });
    return input;
  }

  function textArea(value, onchange, attrs) {
    var area = h("textarea", Object.assign({ "class": "form-control form-control-sm font-monospace", rows: "4", dir: "ltr" }, attrs || {}));
    area.value = value || "";
    area.addEventListener("change", function () { onchange(area.value); });
    return area;
  }

  function select(options, value, onchange) {
    var node = h("select", { "class": "form-select form-select-sm" }, options.map(function (option) {
      return h("option", { value: option[0], selected: option[0] === value ? "selected" : null, text: option[1] });
    }));
    node.addEventListener("change", function () { onchange(node.value); });
    return node;
  }

  Workbench.prototype.showPanel = function (element) {
    var self = this;
    var t = self.t;
    self.current = element || null;
    var panel = self.panel;
    panel.textContent = "";
    if (!element || element.type === "label") {
      panel.appendChild(h("p", { "class": "text-body-secondary small", text: t.selectHint }));
      return;
    }
    var bo = element.businessObject;
    var modeling = self.get("modeling");
    panel.dataset.element = bo.id;
    panel.appendChild(h("h2", { "class": "h6", text: (t.types[bo.$type] || bo.$type.replace("bpmn:", "")) }));
    panel.appendChild(h("p", { "class": "small text-body-secondary", dir: "ltr", text: bo.id }));
    if (!is(bo, "bpmn:Lane")) {
      panel.appendChild(field(t.name, textInput(bo.name, function (value) { modeling.updateLabel(element, value); }, { "data-prop": "name" })));
    }
    var kinds = ["bpmn:Task", "bpmn:UserTask", "bpmn:ServiceTask", "bpmn:ScriptTask", "bpmn:ManualTask"];
    if (kinds.indexOf(bo.$type) !== -1) {
      var kindSelect = select(kinds.map(function (kind) { return [kind, t.types[kind] || kind]; }), bo.$type, function (kind) {
        var name = bo.name;
        var replaced = self.get("bpmnReplace").replaceElement(element, { type: kind });
        if (name && replaced.businessObject.name !== name) { self.get("modeling").updateLabel(replaced, name); }
        self.get("selection").select(replaced);
      });
      kindSelect.setAttribute("data-prop", "kind");
      panel.appendChild(field(t.kind, kindSelect));
    }
    if (is(bo, "bpmn:Lane")) {
      var roles = [["", "—"]].concat(self.catalogue.roles.map(function (r) { return [r.code, r.names.join(" / ") + " (" + r.code + ")"]; }));
      if (bo.name && !self.catalogue.roles.some(function (r) { return r.code === bo.name; })) { roles.push([bo.name, bo.name + " ?"]); }
      panel.appendChild(field(t.role, select(roles, bo.name || "", function (value) {
        modeling.updateProperties(element, { name: value });
      }), t.roleHelp));
    }
    if (is(bo, "bpmn:UserTask")) { self.userTaskPanel(element, bo); }
    if (is(bo, "bpmn:ServiceTask")) { self.servicePanel(element, bo); }
    if (is(bo, "bpmn:ScriptTask")) {
      panel.appendChild(field(t.script, textArea(bo.script, function (value) {
        modeling.updateProperties(element, { script: value, scriptFormat: "python" });
      }, { "data-prop": "script", rows: "6" }), t.scriptHelp));
    }
    if (is(bo, "bpmn:SequenceFlow") && bo.sourceRef && (is(bo.sourceRef, "bpmn:ExclusiveGateway") || is(bo.sourceRef, "bpmn:InclusiveGateway"))) {
      var condition = bo.conditionExpression ? bo.conditionExpression.body : "";
      panel.appendChild(field(t.condition, textInput(condition, function (value) {
        modeling.updateProperties(element, { conditionExpression: value ? self.get("moddle").create("bpmn:FormalExpression", { body: value }) : undefined });
      }, { dir: "ltr", "data-prop": "condition" }), t.conditionHelp));
    }
    if (is(bo, "bpmn:ExclusiveGateway") || is(bo, "bpmn:InclusiveGateway")) {
      var flows = (bo.outgoing || []).map(function (f) { return [f.id, (f.name ? f.name + " — " : "") + f.id]; });
      panel.appendChild(field(t.defaultFlow, select([["", "—"]].concat(flows), bo["default"] ? bo["default"].id : "", function (value) {
        var flow = (bo.outgoing || []).filter(function (f) { return f.id === value; })[0];
        modeling.updateProperties(element, { "default": flow || undefined });
      })));
    }
    (bo.eventDefinitions || []).forEach(function (definition) {
      if (is(definition, "bpmn:TimerEventDefinition")) { self.timerPanel(element, definition); }
      if (is(definition, "bpmn:MessageEventDefinition")) { self.messagePanel(element, definition); }
    });
    var problems = (self.server[bo.id] || []).concat(self.lint[bo.id] || []);
    if (problems.length) {
      panel.appendChild(h("ul", { "class": "small text-danger ps-3 mt-2" }, problems.map(function (m) {
        return h("li", { dir: "ltr", text: m });
      })));
    }
  };

  Workbench.prototype.userTaskPanel = function (element, bo) {
    var self = this;
    var t = self.t;
    var lane = self.laneOf(bo);
    self.panel.appendChild(h("p", { "class": "small" }, [h("span", { text: t.role + ": " }),
      h("strong", { dir: "ltr", text: lane ? lane.name : t.noLaneShort })]));
    var formKey = self.property(bo, "formKey");
    var options = [["", "—"]].concat(self.catalogue.forms.map(function (key) { return [key, key]; }));
    if (formKey && self.catalogue.forms.indexOf(formKey) === -1) { options.push([formKey, formKey + " ?"]); }
    var formSelect = select(options, formKey, function (value) { self.setProperty(element, "formKey", value); });
    formSelect.setAttribute("data-prop", "formKey");
    self.panel.appendChild(field(t.form, formSelect));
    var actions = h("div", { "class": "d-flex gap-1 mb-2" });
    if (formKey) {
      actions.appendChild(h("a", { "class": "btn btn-sm btn-outline-secondary", target: "_blank",
        href: self.catalogue.formUrl.replace("__key__", encodeURIComponent(formKey)), text: t.editForm }));
    }
    var newKey = h("input", { "class": "form-control form-control-sm", dir: "ltr", placeholder: t.newFormKey, "aria-label": t.newFormKey });
    actions.appendChild(newKey);
    actions.appendChild(h("button", { type: "button", "class": "btn btn-sm btn-outline-primary", text: t.newForm,
      onclick: function () { self.createForm(element, newKey.value.trim()); } }));
    self.panel.appendChild(actions);
    self.panel.appendChild(field(t.sla, textInput(self.property(bo, "sla"), function (value) {
      self.setProperty(element, "sla", value);
    }, { dir: "ltr", placeholder: "PT4H", "data-prop": "sla" }), t.slaHelp));
  };

  Workbench.prototype.createForm = function (element, key) {
    var self = this;
    if (!key) { return; }
    fetch(self.root.dataset.formsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": self.root.dataset.csrf, "Accept": "application/json" },
      body: JSON.stringify({ key: key })
    }).then(function (response) { return response.json(); }).then(function (result) {
      if (!result.ok) { self.setStatus(result.message, "danger"); return; }
      if (self.catalogue.forms.indexOf(key) === -1) { self.catalogue.forms.push(key); self.catalogue.forms.sort(); }
      self.relint();
      self.setProperty(element, "formKey", key);
      self.showPanel(element);
    });
  };

  Workbench.prototype.servicePanel = function (element, bo) {
    var self = this;
    var t = self.t;
    var operator = self.ext(bo, "spiffworkflow:ServiceTaskOperator");
    var name = operator ? operator.id : "";
    var given = {};
    ((operator && operator.parameterList && operator.parameterList.parameters) || []).forEach(function (p) { given[p.id] = p.value; });
    var options = [["", "—"]].concat(self.catalogue.operations.map(function (op) { return [op.name, op.name]; }));
    var chosen = self.catalogue.operations.filter(function (op) { return op.name === name; })[0];
    var operationSelect = select(options, name, function (value) { self.setOperator(element, value, given, operator && operator.resultVariable); self.showPanel(element); });
    operationSelect.setAttribute("data-prop", "operation");
    self.panel.appendChild(field(t.operation, operationSelect, chosen ? chosen.description : ""));
    if (!chosen) { return; }
    chosen.required.concat(chosen.optional).forEach(function (param) {
      var required = chosen.required.indexOf(param) !== -1;
      self.panel.appendChild(field(param + (required ? " *" : ""), textInput(given[param], function (value) {
        var next = Object.assign({}, given);
        next[param] = value;
        self.setOperator(element, name, next, operator && operator.resultVariable);
      }, { dir: "ltr", "data-param": param })));
    });
    self.panel.appendChild(field(t.resultVariable, textInput(operator && operator.resultVariable, function (value) {
      self.setOperator(element, name, given, value);
    }, { dir: "ltr" })));
    self.panel.appendChild(h("p", { "class": "form-text", text: t.paramHelp }));
    self.panel.appendChild(h("div", { "class": "small mb-2", "data-prop": "result" }, [
      h("div", { "class": "form-label small mb-0", text: t.result }),
      h("pre", { "class": "bg-body-tertiary p-1 mb-0", dir: "ltr", text: JSON.stringify(chosen.result || {}, null, 1) }),
      h("div", { "class": "form-text", text: chosen.declared ? t.resultHelp : t.resultGuessed })]));
  };

  Workbench.prototype.timerPanel = function (element, definition) {
    var self = this;
    var t = self.t;
    var kind = definition.timeDate ? "timeDate" : definition.timeCycle ? "timeCycle" : "timeDuration";
    var expression = definition[kind];
    var value = expression ? expression.body : "";
    function update(newKind, newValue) {
      var props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      props[newKind] = self.get("moddle").create("bpmn:FormalExpression", { body: newValue });
      self.get("modeling").updateModdleProperties(element, definition, props);
    }
    self.panel.appendChild(field(t.timerKind, select([["timeDuration", t.duration], ["timeDate", t.date], ["timeCycle", t.cycle]], kind,
      function (newKind) { update(newKind, value); })));
    self.panel.appendChild(field(t.timer, textInput(value, function (newValue) {
      if (BARE_ISO.test(newValue)) { newValue = "\"" + newValue + "\""; }  // Madam reads timers as Python
      update(kind, newValue);
    }, { dir: "ltr", placeholder: "\"PT1H\"", "data-prop": "timer" }), t.timerHelp));
  };

  Workbench.prototype.messagePanel = function (element, definition) {
    var self = this;
    var current = definition.messageRef ? definition.messageRef.name : "";
    self.panel.appendChild(field(self.t.message, textInput(current, function (name) {
      var definitions = self.get("canvas").getRootElement().businessObject.$parent;
      var message = (definitions.rootElements || []).filter(function (e) { return is(e, "bpmn:Message") && e.name === name; })[0];
      if (!message && name) {
        message = self.get("moddle").create("bpmn:Message", { id: "Message_" + name.replace(/\W/g, "_"), name: name });
        message.$parent = definitions;
        definitions.get("rootElements").push(message);
      }
      self.get("modeling").updateModdleProperties(element, definition, { messageRef: message || undefined });
    }, { dir: "ltr", "data-prop": "message" })));
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-modeler]");
    if (root && window.BpmnJS && window.MadamLint) { new Workbench(root).start(); }
  });
})();
