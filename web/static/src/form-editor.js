/* The form-js editor, limited to the components Madam's server renderer supports. Bundled by esbuild in
   `make static` (web/static/vendor/madam/form-editor.js, never committed) because Madam's platform fields
   (subscriber, contract, meter, tariff type, document, map point, rial amount) are form-js custom fields built
   on the viewer's own components. Exposes window.MadamFormEditor.create(container, schema, options):
     options.supported  the component types the server renders (engine/formschema.SUPPORTED_TYPES)
     options.names      {type: the palette's name for a platform field}
   Every other form-js component is taken out of the palette, so it cannot be added. */

import { FormEditor } from "@bpmn-io/form-js-editor";
import { Numberfield, Textfield } from "@bpmn-io/form-js-viewer";

var PLATFORM = {
  "madam:subscriber": Textfield, "madam:contract": Textfield, "madam:meter": Textfield,
  "madam:tariffType": Textfield, "madam:document": Textfield, "madam:mapPoint": Textfield, "madam:rial": Numberfield
};
var ENTRIES = ["key", "label", "description", "disabled", "readonly", "required"];

function platformField(type, name, base) {
  function Field(props) { return base(props); }  // drawn like the field it stands on
  Field.config = Object.assign({}, base.config, {
    type: type, name: name, label: name, group: "basic-input", keyed: true, propertiesPanelEntries: ENTRIES,
    create: function (options) { return Object.assign({ label: name }, options || {}); }
  });
  return Field;
}

function limitModule(options) {
  function PlatformFields(formFields) {
    Object.keys(PLATFORM).forEach(function (type) {
      if (options.supported.indexOf(type) !== -1) {
        formFields.register(type, platformField(type, (options.names || {})[type] || type, PLATFORM[type]));
      }
    });
  }
  PlatformFields.$inject = ["formFields"];

  function LimitFields(formFields) {
    Object.keys(formFields._formFields).forEach(function (type) {
      if (type !== "default" && options.supported.indexOf(type) === -1) { delete formFields._formFields[type]; }
      else if ((options.names || {})[type]) { named(formFields._formFields[type], options.names[type]); }
    });
  }

  /* The palette shows the component in the user's language, and a new one is labelled so too. */
  function named(formField, name) {
    var base = formField.config;
    var labelled = "label" in (base.create ? base.create({}) : {});
    formField.config = Object.assign({}, base, { name: name, create: function (attrs) {
      var made = base.create ? base.create(attrs || {}) : Object.assign({}, attrs);
      if (labelled && !(attrs && attrs.label)) { made.label = name; }
      return made;
    } });
  }
  LimitFields.$inject = ["formFields"];

  return {
    __init__: ["madamPlatformFields", "madamLimitFields"],
    madamPlatformFields: ["type", PlatformFields],
    madamLimitFields: ["type", LimitFields]
  };
}

function create(container, schema, options) {
  var editor = new FormEditor({ container: container, additionalModules: [limitModule(options)] });
  return editor.importSchema(schema).then(function () { return editor; });
}

/* The types of a schema's components (nested in groups), for refusing one the editor cannot show. */
function typesOf(schema) {
  var found = [];
  (function walk(items) {
    (items || []).forEach(function (item) {
      if (item && item.type) { found.push(item.type); }
      if (item && Array.isArray(item.components)) { walk(item.components); }
    });
  })(schema && schema.components);
  return found;
}

window.MadamFormEditor = { create: create, typesOf: typesOf };
