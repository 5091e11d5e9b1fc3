"""The demo box project: the phone images again, each scratch or dent outlined by simulated
labelers whose boxes drift, miss and mix up classes by how reliable they are, so IoU agreement
and box consensus show real numbers."""

BOX_CLASSES = ["scratch", "dent"]
BOX_INSTRUCTIONS = """Draw a **tight** box around every defect and give it its class.

- **scratch**: a line, deep or shallow.
- **dent**: a rounded, shaded deformation.
- A phone without a defect gets no box: submit it empty.
"""


def box_class(defect: str) -> str | None:
    return "scratch" if defect.endswith("scratch") else "dent" if defect == "dent" else None


def box_answer(item, reliability: float, rng) -> list[dict]:
    """A labeler's boxes for an item: the generated box moved and resized by up to
    ``(1 - reliability)`` of its size; now and then missed, or given the other class."""
    truth = item.metadata.get("_generated_box")
    label = box_class(item.metadata.get("_generated_defect", "none"))
    if not truth or label is None:
        return []
    if rng.random() > 0.5 + reliability / 2:  # missed it
        return []
    slack = 1 - reliability + 0.05
    w = max(4, round(truth["w"] * (1 + rng.uniform(-slack, slack))))
    h = max(4, round(truth["h"] * (1 + rng.uniform(-slack, slack))))
    x = max(0, round(truth["x"] + truth["w"] * rng.uniform(-slack, slack) / 2))
    y = max(0, round(truth["y"] + truth["h"] * rng.uniform(-slack, slack) / 2))
    if rng.random() > reliability + 0.1:
        label = "dent" if label == "scratch" else "scratch"
    return [{"x": x, "y": y, "w": w, "h": h, "class": label}]
