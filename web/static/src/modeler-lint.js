/* Linting in the canvas: bpmnlint, through bpmn-js-bpmnlint, with Madam's own rules (lint-rules.js) for what the
   engine can run. bpmnlint resolves its rules when the linter is built, so this entry is bundled by esbuild in
   `make static` (web/static/vendor/madam/modeler-lint.js, never committed) and exposes window.MadamLint:
     MadamLint.module                    the bpmn-js additional module (bpmn-js-bpmnlint)
     MadamLint.config(catalogue, texts)  a bpmnlint config { config, resolver } for this page
     MadamLint.spiffworkflow             the moddle descriptor of the SpiffWorkflow extensions
   The page passes what only the server knows (roles, registered operations, the draft's forms) and the
   messages in the user's language; each rule reads them from its rule config. */

import lintModule from "bpmn-js-bpmnlint";
import { config, RULES, SPIFF_DESCRIPTOR } from "./lint-rules.js";

window.MadamLint = { module: lintModule, config: config, rules: Object.keys(RULES), spiffworkflow: SPIFF_DESCRIPTOR };
