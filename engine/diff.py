"""What changed between two diagrams: elements added, removed and changed (and in what), by element id.

Only what runs counts: moving a shape on the canvas is not a change; renaming it, moving it to another lane,
changing its form, operation, script, condition or timer is.
"""

import re

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_NOT_TRACKED = {"definitions", "laneSet", "collaboration", "extensionElements", "conditionExpression", "script",
                "documentation", "incoming", "outgoing", "flowNodeRef", "childLaneSet"}
_STRUCTURE = {"incoming", "outgoing", "flowNodeRef", "childLaneSet", "laneSet"}
# How a changed part is named to the analyst (the web layer translates these words).
ASPECTS = {"type": "type", "name": "name", "lane": "lane", "attributes": "settings", "extensionElements": "properties",
           "conditionExpression": "condition", "script": "script", "timerEventDefinition": "timer",
           "messageEventDefinition": "message", "documentation": "documentation", "flow": "connections"}


def _local(el) -> str:
    return etree.QName(el).localname


def _read(bpmn):
    if isinstance(bpmn, str):
        bpmn = bpmn.encode()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)
    return etree.fromstring(bytes(bpmn), parser)


def _is_event_definition(el) -> bool:
    return _local(el).endswith("EventDefinition")


def _tracked(root) -> dict:
    found = {}
    for el in root.iter(f"{{{BPMN}}}*"):
        if el.get("id") and _local(el) not in _NOT_TRACKED and not _is_event_definition(el):
            found[el.get("id")] = el
    return found


def _lanes(root) -> dict[str, str]:
    return {ref.text.strip(): lane.get("name") or lane.get("id")
            for lane in root.iter(f"{{{BPMN}}}lane") for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef") if ref.text}


def _canonical(el) -> str:
    text = etree.tostring(el, method="c14n")
    return re.sub(rb">\s+<", b"><", text).strip().decode()


def _signature(el, tracked_ids: set, lanes: dict) -> dict:
    signature = {"type": _local(el), "name": (el.get("name") or "").strip(), "lane": lanes.get(el.get("id"), ""),
                 "attributes": sorted((k, v) for k, v in el.attrib.items() if k not in ("id", "name", "default")),
                 "flow": sorted(child.text.strip() for child in el if isinstance(child.tag, str)
                                and _local(child) in ("incoming", "outgoing") and child.text)}
    if el.get("default"):
        signature["attributes"].append(("default", el.get("default")))
    for child in el:
        if not isinstance(child.tag, str) or _local(child) in _STRUCTURE:
            continue
        if child.get("id") in tracked_ids:
            continue  # a nested element (a subprocess's steps) is compared on its own
        key = _local(child)
        signature[key] = signature.get(key, "") + _canonical(child)
    if _local(el) == "sequenceFlow":
        signature["flow"] = [el.get("sourceRef") or "", el.get("targetRef") or ""]
    return signature


def _summary(el) -> dict:
    return {"id": el.get("id"), "type": _local(el), "name": (el.get("name") or "").strip()}


def diff(old_bpmn, new_bpmn) -> dict:
    """-> {"added": [{"id", "type", "name"}], "removed": [...], "changed": [{..., "aspects": [words]}]}"""
    old_root, new_root = _read(old_bpmn), _read(new_bpmn)
    old, new = _tracked(old_root), _tracked(new_root)
    old_lanes, new_lanes = _lanes(old_root), _lanes(new_root)
    added = [_summary(new[i]) for i in new if i not in old]
    removed = [_summary(old[i]) for i in old if i not in new]
    changed = []
    for element_id in (i for i in new if i in old):
        before = _signature(old[element_id], set(old), old_lanes)
        after = _signature(new[element_id], set(new), new_lanes)
        keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        if keys:
            aspects = sorted({ASPECTS.get(k, k) for k in keys})
            changed.append({**_summary(new[element_id]), "aspects": aspects})
    return {"added": added, "removed": removed, "changed": changed}
