"""The API's description: the OpenAPI 3 document and a plain page that renders it (no JavaScript)."""

import json

from flask import current_app, jsonify, render_template_string

from api import bp
from api.access import public
from api.openapi import build

_cache: dict[int, dict] = {}


def document() -> dict:
    app = current_app._get_current_object()
    if id(app) not in _cache:
        _cache[id(app)] = build(app, "Madam API", "1.0")
    return _cache[id(app)]


@bp.get("/openapi.json")
@public
def openapi_json():
    return jsonify(document())


def _schema_name(schema: dict | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"[{_schema_name(schema.get('items'))}]"
    if "items" in schema.get("properties", {}):
        kind = "page" if "total" in schema["properties"] else "list"
        return f"{kind} of {_schema_name(schema['properties']['items'].get('items'))}"
    return schema.get("type", "")


PAGE = """<!doctype html>
<html lang="en" dir="ltr"><head><meta charset="utf-8"><title>{{ doc.info.title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2rem} code{background:#f4f4f4;padding:0 .2rem}
.op{border:1px solid #ddd;border-radius:4px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:bold} .GET{color:#0a6} .POST{color:#06c}
.PATCH{color:#a60} .DELETE{color:#c00} table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head><body>
<h1>{{ doc.info.title }} <small>{{ doc.info.version }}</small></h1>
<p>{{ doc.info.description }}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a>. Authenticate with
<code>Authorization: Bearer mdm_…</code>. SOAP for banks: <a href="soap/bank?wsdl">WSDL</a>.</p>
{% for tag, ops in tags %}
<h2 id="{{ tag }}">{{ tag }}</h2>
{% for path, method, op, answers in ops %}
<div class="op"><span class="m {{ method|upper }}">{{ method|upper }}</span> <code>{{ path }}</code>
 — {{ op.summary }}
 {% if op.description %}<div><small>{{ op.description }}</small></div>{% endif %}
 {% if op.parameters %}<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th></tr>
 {% for p in op.parameters %}<tr><td>{{ p.name }}</td><td>{{ p['in'] }}</td>
 <td>{{ p.schema.type }}{% if p.schema.enum %}: {{ p.schema.enum|join(', ') }}{% endif %}</td>
 <td>{{ 'yes' if p.required else '' }}</td></tr>{% endfor %}</table>{% endif %}
 {% if op.requestBody %}<div>body: <a href="#schema-{{ body_name(op) }}">{{ body_name(op) }}</a></div>{% endif %}
 <div>responses: {{ answers }}; errors: problem JSON</div>
</div>
{% endfor %}{% endfor %}
<h2 id="schemas">Schemas</h2>
{% for name, schema in doc.components.schemas.items() %}
<h3 id="schema-{{ name }}">{{ name }}</h3>
<table><tr><th>field</th><th>type</th><th>required</th></tr>
{% for field, s in schema.get('properties', {}).items() %}<tr><td>{{ field }}</td>
<td>{{ type_of(s) }}{% if s.nullable %} or null{% endif %}{% if s.enum %}: {{ s.enum|join(', ') }}{% endif %}</td>
<td>{{ 'yes' if field in schema.get('required', []) else '' }}</td></tr>{% endfor %}</table>
{% endfor %}
</body></html>"""


@bp.get("/docs")
@public
def docs_page():
    doc = document()
    tags: dict[str, list] = {}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            answers = ", ".join(f"{code} {_schema_name(next(iter(r['content'].values()))['schema'])}"
                                for code, r in op["responses"].items() if not code.startswith("4"))
            tags.setdefault(op["tags"][0], []).append((path, method, op, answers))

    def type_of(schema):
        return _schema_name(schema) or json.dumps(schema)

    def body_name(op):
        return _schema_name(next(iter(op["requestBody"]["content"].values()))["schema"])

    return render_template_string(PAGE, doc=doc, tags=sorted(tags.items()), type_of=type_of, body_name=body_name)
