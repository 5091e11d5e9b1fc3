// Bounding boxes on an SVG overlay, in pixels of the original image.
const SVG = "http://www.w3.org/2000/svg";

export class BoxEditor {
  constructor(svg, { classes, onChange }) {
    this.svg = svg;
    this.classes = classes;
    this.onChange = onChange;
    this.boxes = [];
    this.selected = -1;
    this.currentClass = classes.length ? classes[0].name : "";
    this.drag = null;
    svg.addEventListener("pointerdown", (e) => this.down(e));
    svg.addEventListener("pointermove", (e) => this.move(e));
    svg.addEventListener("pointerup", (e) => this.up(e));
  }

  setSize(width, height) {
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.width = width;
    this.height = height;
  }

  reset() { this.boxes = []; this.selected = -1; this.render(); }

  point(event) {
    const p = this.svg.createSVGPoint();
    p.x = event.clientX; p.y = event.clientY;
    const local = p.matrixTransform(this.svg.getScreenCTM().inverse());
    return { x: Math.max(0, Math.min(this.width, local.x)), y: Math.max(0, Math.min(this.height, local.y)) };
  }

  down(event) {
    const hit = event.target.closest("[data-index]");
    if (hit) {
      this.selected = Number(hit.dataset.index);
      const start = this.point(event);
      const box = this.boxes[this.selected];
      this.drag = { mode: "move", start, origin: { ...box } };
    } else {
      this.selected = -1;
      this.drag = { mode: "draw", start: this.point(event) };
    }
    this.svg.setPointerCapture(event.pointerId);
    this.render();
  }

  move(event) {
    if (!this.drag) return;
    const p = this.point(event);
    if (this.drag.mode === "draw") {
      this.drag.preview = this.rect(this.drag.start, p);
    } else {
      const box = this.boxes[this.selected];
      box.x = Math.max(0, Math.min(this.width - box.w, this.drag.origin.x + p.x - this.drag.start.x));
      box.y = Math.max(0, Math.min(this.height - box.h, this.drag.origin.y + p.y - this.drag.start.y));
    }
    this.render();
  }

  up(event) {
    if (this.drag && this.drag.mode === "draw") {
      const box = this.rect(this.drag.start, this.point(event));
      if (box.w >= 3 && box.h >= 3) {
        this.boxes.push({ ...box, class: this.currentClass });
        this.selected = this.boxes.length - 1;
      }
    }
    this.drag = null;
    this.render();
    this.onChange();
  }

  rect(a, b) {
    return { x: Math.round(Math.min(a.x, b.x)), y: Math.round(Math.min(a.y, b.y)), w: Math.round(Math.abs(a.x - b.x)), h: Math.round(Math.abs(a.y - b.y)) };
  }

  setClass(name) {
    this.currentClass = name;
    if (this.selected >= 0) this.boxes[this.selected].class = name;
    this.render();
    this.onChange();
  }

  removeSelected() {
    if (this.selected < 0) return false;
    this.boxes.splice(this.selected, 1);
    this.selected = -1;
    this.render();
    this.onChange();
    return true;
  }

  nudge(dx, dy, resize) {
    if (this.selected < 0) return false;
    const box = this.boxes[this.selected];
    if (resize) { box.w = Math.max(3, box.w + dx); box.h = Math.max(3, box.h + dy); }
    else { box.x = Math.max(0, box.x + dx); box.y = Math.max(0, box.y + dy); }
    this.render();
    this.onChange();
    return true;
  }

  color(name) {
    const found = this.classes.find((c) => c.name === name);
    return found ? found.color : "#fab005";
  }

  render() {
    this.svg.replaceChildren();
    const shapes = this.boxes.map((b, i) => ({ ...b, index: i }));
    if (this.drag && this.drag.preview) shapes.push({ ...this.drag.preview, class: this.currentClass, index: -1 });
    for (const b of shapes) {
      const g = document.createElementNS(SVG, "g");
      if (b.index >= 0) g.dataset.index = String(b.index);
      const r = document.createElementNS(SVG, "rect");
      for (const [k, v] of Object.entries({ x: b.x, y: b.y, width: b.w, height: b.h })) r.setAttribute(k, v);
      r.setAttribute("class", b.index === this.selected ? "box selected" : "box");
      r.style.stroke = this.color(b.class);
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", b.x + 3);
      label.setAttribute("y", Math.max(12, b.y - 4));
      label.setAttribute("class", "box-label");
      label.textContent = b.class;
      g.append(r, label);
      this.svg.append(g);
    }
  }

  value() { return this.boxes.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, class: b.class })); }
}
