// Bounding boxes on an SVG overlay whose viewBox is the image's own pixel grid, so every
// coordinate is in pixels of the original image whatever the zoom. Draw by dragging on the
// image, move a box by dragging it, resize it by its handles; the keyboard does the rest.

const SVG = "http://www.w3.org/2000/svg";
const HANDLES = { nw: "nwse", n: "ns", ne: "nesw", e: "ew", se: "nwse", s: "ns", sw: "nesw", w: "ew" };
const MIN_SCREEN_PX = 4;

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export class BoxEditor {
  constructor(svg, { colorOf, currentClass, onChange }) {
    this.svg = svg;
    this.colorOf = colorOf;
    this.currentClass = currentClass;
    this.onChange = onChange;
    this.boxes = [];
    this.selected = -1;
    // The box just drawn stays selected (handles, arrow keys) but a class key does not re-class
    // it: "1, draw, 2, draw" gives a box of class 1 and one of class 2. Picking a box (click,
    // list, Tab) makes the keys re-class it.
    this.justDrawn = false;
    this.drag = null;
    this.width = 0;
    this.height = 0;
    this.scale = 1; // screen pixels per image pixel
    this.pending = null; // boxes to show once the image's size is known
    this.flash = -1; // the box just re-classed, drawn highlighted once
    svg.addEventListener("pointerdown", (e) => this.down(e));
    svg.addEventListener("pointermove", (e) => this.move(e));
    svg.addEventListener("pointerup", (e) => this.up(e));
    svg.addEventListener("pointercancel", () => { this.drag = null; this.render(); });
  }

  get ready() { return this.width > 0; }

  setSize(width, height) {
    this.width = width;
    this.height = height;
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.classList.remove("pending");
    if (this.pending) {
      this.boxes = this.pending.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, class: b.class }));
      this.pending = null;
      this.onChange();
    }
    this.render();
  }

  // Boxes to start from (an earlier answer, the model's suggestion), shown when the image is there.
  load(boxes) {
    this.pending = Array.isArray(boxes) ? boxes : null;
    if (this.ready && this.pending) this.setSize(this.width, this.height);
  }

  setScale(scale) {
    this.scale = scale || 1;
    this.render();
  }

  reset() {
    this.boxes = [];
    this.selected = -1;
    this.justDrawn = false;
    this.pending = null;
    this.drag = null;
    this.width = 0;
    this.height = 0;
    this.svg.removeAttribute("viewBox");
    this.svg.classList.add("pending");
    this.render();
  }

  point(event) {
    const matrix = this.svg.getScreenCTM();
    const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    return { x: Math.max(0, Math.min(this.width, p.x)), y: Math.max(0, Math.min(this.height, p.y)) };
  }

  down(event) {
    if (!this.ready || event.button !== 0) return;
    event.preventDefault();
    const start = this.point(event);
    const handle = event.target.closest("[data-handle]");
    const hit = event.target.closest("[data-index]");
    if (handle && this.selected >= 0) {
      this.drag = { mode: "resize", edges: handle.dataset.handle, start, origin: { ...this.boxes[this.selected] } };
    } else if (hit) {
      const index = Number(hit.dataset.index);
      // Adjusting the box just drawn is not picking it: the keys still set the next box's class.
      if (!(this.justDrawn && index === this.selected)) this.select(index);
      this.drag = { mode: "move", start, origin: { ...this.boxes[this.selected] } };
    } else {
      this.drag = { mode: "draw", start, preview: null };
    }
    this.svg.setPointerCapture(event.pointerId);
    this.render();
  }

  move(event) {
    if (!this.drag) return;
    const p = this.point(event);
    const dx = p.x - this.drag.start.x;
    const dy = p.y - this.drag.start.y;
    if (this.drag.mode === "draw") {
      this.drag.preview = this.rect(this.drag.start, p);
    } else if (this.drag.mode === "move") {
      const box = this.boxes[this.selected];
      const o = this.drag.origin;
      box.x = Math.round(Math.max(0, Math.min(this.width - o.w, o.x + dx)));
      box.y = Math.round(Math.max(0, Math.min(this.height - o.h, o.y + dy)));
    } else {
      const o = this.drag.origin;
      const edges = this.drag.edges;
      let left = o.x, top = o.y, right = o.x + o.w, bottom = o.y + o.h;
      if (edges.includes("w")) left += dx;
      if (edges.includes("e")) right += dx;
      if (edges.includes("n")) top += dy;
      if (edges.includes("s")) bottom += dy;
      const box = this.rect({ x: left, y: top }, { x: right, y: bottom });
      Object.assign(this.boxes[this.selected], { x: box.x, y: box.y, w: Math.max(1, box.w), h: Math.max(1, box.h) });
    }
    this.render();
  }

  up(event) {
    if (!this.drag) return;
    if (this.drag.mode === "draw") {
      const box = this.rect(this.drag.start, this.point(event));
      const min = MIN_SCREEN_PX / this.scale;
      if (box.w >= min && box.h >= min) {
        this.boxes.push({ ...box, class: this.currentClass() });
        this.selected = this.boxes.length - 1;
        this.justDrawn = true;
      } else {
        this.selected = -1; // a click on the image: deselect
        this.justDrawn = false;
      }
    }
    this.drag = null;
    this.render();
    this.onChange();
  }

  rect(a, b) {
    const clamp = (v, max) => Math.max(0, Math.min(max, v));
    const x0 = clamp(Math.min(a.x, b.x), this.width), x1 = clamp(Math.max(a.x, b.x), this.width);
    const y0 = clamp(Math.min(a.y, b.y), this.height), y1 = clamp(Math.max(a.y, b.y), this.height);
    const x = Math.round(x0), y = Math.round(y0);
    return { x, y, w: Math.round(x1) - x, h: Math.round(y1) - y };
  }

  select(index) {
    this.selected = index >= 0 && index < this.boxes.length ? index : -1;
    this.justDrawn = false;
    this.render();
    this.onChange();
  }

  selectedBox() { return this.selected >= 0 ? this.boxes[this.selected] : null; }

  // The selected box takes the class, unless it is the box just drawn. Returns the class it had.
  setClassOfSelected(name) {
    const box = this.selectedBox();
    if (!box || this.justDrawn || box.class === name) return null;
    const was = box.class;
    box.class = name;
    this.flash = this.selected;
    this.render();
    this.onChange();
    this.flash = -1;
    return was;
  }

  remove(index) {
    if (index < 0 || index >= this.boxes.length) return false;
    this.boxes.splice(index, 1);
    this.selected = -1;
    this.justDrawn = false;
    this.render();
    this.onChange();
    return true;
  }

  removeSelected() { return this.remove(this.selected); }

  // Arrow keys: move the selected box, or with resize grow/shrink its right and bottom edges.
  nudge(dx, dy, resize) {
    const box = this.selectedBox();
    if (!box) return false;
    if (resize) {
      box.w = Math.max(1, Math.min(this.width - box.x, box.w + dx));
      box.h = Math.max(1, Math.min(this.height - box.y, box.h + dy));
    } else {
      box.x = Math.max(0, Math.min(this.width - box.w, box.x + dx));
      box.y = Math.max(0, Math.min(this.height - box.h, box.y + dy));
    }
    this.render();
    this.onChange();
    return true;
  }

  render() {
    const unit = 1 / this.scale; // one screen pixel, in image pixels
    const nodes = [];
    const order = this.boxes.map((b, i) => i).filter((i) => i !== this.selected);
    if (this.selected >= 0) order.push(this.selected);
    for (const i of order) nodes.push(this.boxNode(this.boxes[i], i, unit));
    if (this.drag && this.drag.preview) {
      nodes.push(this.boxNode({ ...this.drag.preview, class: this.currentClass() }, -1, unit));
    }
    const box = this.selectedBox();
    if (box && !(this.drag && this.drag.mode === "draw")) {
      const size = 9 * unit;
      const xs = { w: box.x, n: box.x + box.w / 2, s: box.x + box.w / 2, e: box.x + box.w };
      const ys = { n: box.y, w: box.y + box.h / 2, e: box.y + box.h / 2, s: box.y + box.h };
      for (const [name, cursor] of Object.entries(HANDLES)) {
        const x = name.length === 2 ? xs[name[1]] : xs[name];
        const y = name.length === 2 ? ys[name[0]] : ys[name];
        const handle = el("rect", {
          x: x - size / 2, y: y - size / 2, width: size, height: size, class: "handle", "data-handle": name,
        });
        handle.style.cursor = `${cursor}-resize`;
        nodes.push(handle);
      }
    }
    this.svg.replaceChildren(...nodes);
  }

  boxNode(b, index, unit) {
    const state = index === this.selected ? "box selected" : index < 0 ? "box preview" : "box";
    const g = el("g", { class: index >= 0 && index === this.flash ? `${state} reclassed` : state });
    if (index >= 0) g.dataset.index = String(index);
    const color = this.colorOf(b.class);
    const rect = el("rect", { x: b.x, y: b.y, width: b.w, height: b.h });
    rect.style.stroke = color;
    rect.style.fill = color;
    const fontSize = 12 * unit;
    const labelY = b.y - 4 * unit > fontSize ? b.y - 4 * unit : b.y + fontSize + 2 * unit;
    const text = el("text", { x: b.x + 3 * unit, y: labelY, class: "box-label" });
    text.style.fontSize = `${fontSize}px`;
    text.style.strokeWidth = `${3 * unit}px`;
    text.textContent = index >= 0 ? `${index + 1} · ${b.class}` : b.class;
    const title = el("title");
    title.textContent = `Box ${index + 1}: ${b.class}, ${b.w}×${b.h} px at (${b.x}, ${b.y})`;
    g.append(title, rect, text);
    return g;
  }

  value() {
    return this.boxes.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, class: b.class }));
  }
}
