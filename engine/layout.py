"""A diagram layout for BPMN files that have none (hand-written or generated ones), so the viewer can
draw them: steps left to right by their distance from the start, lanes as bands, straight arrows."""

from collections import deque
from functools import lru_cache

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NOT_NODES = {"sequenceFlow", "laneSet", "textAnnotation", "association", "dataObject", "dataObjectReference",
             "dataStoreReference", "ioSpecification", "extensionElements", "documentation", "property"}
STEP_X, LANE_H, MARGIN = 170, 170, 60


def _size(tag: str) -> tuple[int, int]:
    if tag.endswith("Event"):
        return 36, 36
    if tag.endswith("Gateway"):
        return 50, 50
    return 100, 80


def _local(element) -> str:
    return etree.QName(element).localname


@lru_cache(maxsize=128)
def with_layout(bpmn: str) -> str:
    """The same XML, with a generated BPMNDiagram when the file has none; otherwise unchanged."""
    root = etree.fromstring(bpmn.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    if root.find(f"{{{BPMNDI}}}BPMNDiagram") is not None:
        return bpmn
    process = root.find(f"{{{BPMN}}}process")
    if process is None:
        return bpmn
    nodes = {el.get("id"): el for el in process if isinstance(el.tag, str) and el.get("id")
             and _local(el) not in NOT_NODES}
    flows = [el for el in process if isinstance(el.tag, str) and _local(el) == "sequenceFlow"]
    lanes = {ref.text: index for index, lane in enumerate(process.iter(f"{{{BPMN}}}lane"))
             for ref in lane.iter(f"{{{BPMN}}}flowNodeRef")}
    level = _levels(nodes, flows)
    boxes = _place(nodes, level, lanes)
    plane = etree.SubElement(etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id="generated_diagram"),
                             f"{{{BPMNDI}}}BPMNPlane", id="generated_plane", bpmnElement=process.get("id"))
    for node_id, (x, y, w, h) in boxes.items():
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{node_id}_di", bpmnElement=node_id)
        etree.SubElement(shape, f"{{{DC}}}Bounds", x=str(x), y=str(y), width=str(w), height=str(h))
    for flow in flows:
        source, target = boxes.get(flow.get("sourceRef")), boxes.get(flow.get("targetRef"))
        if source and target:
            edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow.get('id')}_di",
                                    bpmnElement=flow.get("id"))
            for px, py in _route(source, target):
                etree.SubElement(edge, f"{{{DI}}}waypoint", x=str(px), y=str(py))
    return etree.tostring(root, encoding="unicode")


def _levels(nodes: dict, flows: list) -> dict:
    outgoing: dict[str, list[str]] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for node_id, el in nodes.items():  # a boundary event sits on its task and leads on from there
        if _local(el) == "boundaryEvent" and el.get("attachedToRef"):
            outgoing.setdefault(el.get("attachedToRef"), []).append(node_id)
    starts = [i for i, el in nodes.items() if _local(el) == "startEvent"] or list(nodes)[:1]
    level = {start: 0 for start in starts}
    queue = deque(starts)
    while queue:  # breadth first: back edges (loops) never push a node further right
        current = queue.popleft()
        for target in outgoing.get(current, []):
            if target in nodes and target not in level:
                boundary = _local(nodes[target]) == "boundaryEvent"
                level[target] = level[current] + (0 if boundary else 1)
                queue.append(target)
    for node_id in nodes:
        level.setdefault(node_id, max(level.values(), default=0) + 1)
    return level


def _place(nodes: dict, level: dict, lanes: dict) -> dict:
    used: dict[tuple[int, int], int] = {}
    boxes = {}
    for node_id, el in nodes.items():
        if _local(el) == "boundaryEvent":
            continue
        w, h = _size(_local(el))
        lane = lanes.get(node_id, 0)
        slot = used.get((level[node_id], lane), 0)
        used[(level[node_id], lane)] = slot + 1
        cx = MARGIN + level[node_id] * STEP_X + 50
        cy = MARGIN + lane * LANE_H + 60 + slot * 90
        boxes[node_id] = (cx - w // 2, cy - h // 2, w, h)
    for node_id, el in nodes.items():
        if _local(el) == "boundaryEvent" and el.get("attachedToRef") in boxes:
            x, y, w, h = boxes[el.get("attachedToRef")]
            boxes[node_id] = (x + w - 30, y + h - 18, 36, 36)
    return boxes


def _route(source, target) -> list[tuple[int, int]]:
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    start, end = (sx + sw, sy + sh // 2), (tx, ty + th // 2)
    if tx <= sx:  # a loop back: go below both
        low = max(sy + sh, ty + th) + 30
        return [(sx + sw // 2, sy + sh), (sx + sw // 2, low), (tx + tw // 2, low), (tx + tw // 2, ty + th)]
    if start[1] == end[1]:
        return [start, end]
    middle = (start[0] + end[0]) // 2
    return [start, (middle, start[1]), (middle, end[1]), end]
