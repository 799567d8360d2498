"""The OpenAPI 3 document, built from the routes and their marshmallow schemas.

Each endpoint says what it takes and gives with `@doc(...)`; the document is read off the URL map,
so a route without `@doc` is simply not described (and a test says so).
"""

import re

from marshmallow import Schema, fields, validate

_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
ERROR_STATUSES = (400, 401, 403, 404, 409, 415, 422, 429)
_UNAUTHENTICATED_ERRORS = (400, 404, 415, 422, 429)


def doc(summary: str, *, tag: str, query=None, body=None, out=None, many: bool = False, page: bool = False,
        status: int = 200, media: str = "application/json", body_media: str = "application/json",
        description: str = "", extra_responses: dict | None = None):
    """Describe an endpoint: `query` and `body` are the schemas it loads, `out` the one it dumps
    (`many`: a list, `page`: a page of them)."""
    def decorate(view):
        view.openapi = {"summary": summary, "tag": tag, "query": query, "body": body, "out": out, "many": many,
                        "page": page, "status": status, "media": media, "body_media": body_media,
                        "description": description, "extra": extra_responses or {}}
        return view
    return decorate


def _name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema")


class Builder:
    def __init__(self):
        self.components: dict[str, dict] = {}

    def ref(self, schema) -> dict:
        name = _name(schema)
        if name not in self.components:
            self.components[name] = {}  # reserve first: schemas may nest themselves
            instance = schema() if isinstance(schema, type) else schema
            self.components[name] = self.object_schema(instance)
        return {"$ref": f"#/components/schemas/{name}"}

    def object_schema(self, schema: Schema) -> dict:
        properties, required = {}, []
        for name, field in schema.fields.items():
            if field.load_only and field.dump_only:
                continue
            key = field.data_key or name
            properties[key] = self.field_schema(field)
            if field.required:
                required.append(key)
        out = {"type": "object", "properties": properties}
        if required:
            out["required"] = required
        return out

    def field_schema(self, field) -> dict:
        out = self._base(field)
        for validator in field.validators:
            if isinstance(validator, validate.Range):
                if validator.min is not None:
                    out["minimum"] = validator.min
                if validator.max is not None:
                    out["maximum"] = validator.max
            elif isinstance(validator, validate.Length):
                key = "Items" if out.get("type") == "array" else "Length"
                if validator.min is not None:
                    out[f"min{key}"] = validator.min
                if validator.max is not None:
                    out[f"max{key}"] = validator.max
            elif isinstance(validator, validate.OneOf):
                out["enum"] = list(validator.choices)
            elif isinstance(validator, validate.Regexp):
                out["pattern"] = validator.regex.pattern
        if field.allow_none:
            out["nullable"] = True
        if field.metadata.get("description"):
            out["description"] = str(field.metadata["description"])
        if field.metadata.get("example") is not None:
            out["example"] = field.metadata["example"]
        return out

    def _base(self, field) -> dict:
        if isinstance(field, fields.Nested):
            ref = self.ref(field.nested if not callable(field.nested) or isinstance(field.nested, type)
                           else field.nested())
            return {"type": "array", "items": ref} if field.many else ref
        if isinstance(field, fields.List):
            return {"type": "array", "items": self.field_schema(field.inner)}
        if isinstance(field, fields.Dict):
            out = {"type": "object"}
            if field.value_field is not None:
                out["additionalProperties"] = self.field_schema(field.value_field)
            return out
        if isinstance(field, fields.Boolean):
            return {"type": "boolean"}
        if isinstance(field, fields.Integer):
            return {"type": "integer"}
        if isinstance(field, fields.Decimal):
            return {"type": "string", "format": "decimal"} if field.as_string else {"type": "number"}
        if isinstance(field, fields.Number):
            return {"type": "number"}
        if isinstance(field, fields.DateTime):
            return {"type": "string", "format": "date-time"}
        if isinstance(field, fields.Date):
            return {"type": "string", "format": "date"}
        if isinstance(field, fields.Email):
            return {"type": "string", "format": "email"}
        if isinstance(field, fields.Url):
            return {"type": "string", "format": "uri"}
        if isinstance(field, fields.String):
            return {"type": "string"}
        return {}


def _path_and_parameters(rule) -> tuple[str, list[dict]]:
    parameters = []

    def replace(match):
        converter, variable = match[1] or "default", match[2]
        schema = ({"type": "integer", "minimum": 1, "maximum": 999_999_999_999} if converter in ("id", "int")
                  else {"type": "string", "minLength": 1, "maxLength": 64})
        parameters.append({"name": variable, "in": "path", "required": True, "schema": schema})
        return "{" + variable + "}"

    return _VARIABLE.sub(replace, rule.rule), parameters


def _query_parameters(builder: Builder, schema) -> list[dict]:
    instance = schema() if isinstance(schema, type) else schema
    return [{"name": field.data_key or name, "in": "query", "required": field.required,
             "schema": builder.field_schema(field)}
            for name, field in instance.fields.items() if not field.dump_only]


def _success(builder: Builder, meta: dict) -> dict:
    if meta["out"] is None:
        return {"description": "OK", "content": {meta["media"]: {"schema": {"type": "string"}}}}
    item = builder.ref(meta["out"])
    if meta["page"]:
        schema = {"type": "object", "required": ["total", "page", "per_page", "items"], "properties": {
            "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "items": {"type": "array", "items": item}}}
    elif meta["many"]:
        schema = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": item}}}
    else:
        schema = item
    return {"description": "OK", "content": {meta["media"]: {"schema": schema}}}


PROBLEM_SCHEMA = {
    "type": "object", "required": ["type", "title", "status", "detail", "error"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "error": {"type": "string"}, "instance": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {}},
    },
}


def build(app, title: str, version: str) -> dict:
    builder = Builder()
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None or not rule.endpoint.startswith("api."):
            continue
        path, parameters = _path_and_parameters(rule)
        permission = getattr(view, "required_permission", "public")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = {"operationId": rule.endpoint.removeprefix("api.") + ("" if method in ("GET", "POST")
                                                                               else f"_{method.lower()}"),
                         "summary": meta["summary"], "tags": [meta["tag"]]}
            if meta["description"]:
                operation["description"] = meta["description"]
            params = list(parameters)
            if meta["query"] is not None:
                params += _query_parameters(builder, meta["query"])
            if params:
                operation["parameters"] = params
            if meta["body"] is not None:
                operation["requestBody"] = {"required": True, "content": {
                    meta["body_media"]: {"schema": builder.ref(meta["body"])}}}
            responses = {str(meta["status"]): _success(builder, meta)}
            statuses = _UNAUTHENTICATED_ERRORS if permission == "public" else ERROR_STATUSES
            for status in statuses:
                responses[str(status)] = {"description": "Problem", "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            responses.update(meta["extra"])
            operation["responses"] = responses
            if permission == "public":
                operation["security"] = []
            else:
                operation["description"] = (operation.get("description", "") + f"\n\nScope: `{permission}`").strip()
            paths.setdefault(path, {})[method.lower()] = operation
    builder.components["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version,
                 "description": "Madam's integration API. Errors are problem JSON (RFC 7807) in Persian or English "
                                "by `Accept-Language` (Persian by default)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": dict(sorted(builder.components.items())),
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                                     "description": "An integration client's token (mdm_…)"},
                                           "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"token": []}, {"session": []}],
    }
