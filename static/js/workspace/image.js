// The image panel: the thumbnail shows at once, the full image replaces it when it has loaded;
// fit-to-view and zoom steps; optionally the box editor on top (drawing waits for the full image,
// whose pixel grid the boxes are measured in).
import { BoxEditor } from "./boxes.js";

const ZOOM_STEPS = [0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];

export class ImagePanel {
  constructor({ withBoxes, colorOf, currentClass, onBoxesChange, onError, onLoaded }) {
    this.viewport = document.getElementById("viewport");
    this.frame = document.getElementById("image-frame");
    this.img = document.getElementById("item-image");
    this.zoomLevel = document.getElementById("zoom-level");
    this.sizeLabel = document.getElementById("image-size");
    this.onError = onError;
    this.onLoaded = onLoaded;
    this.zoom = 1;
    this.natural = null; // the full image's size
    this.shown = null; // the size of what is shown (thumbnail until the full image is there)
    this.token = 0;
    this.editor = null;
    const svg = document.getElementById("box-layer");
    if (withBoxes && svg) {
      this.editor = new BoxEditor(svg, { colorOf, currentClass, onChange: onBoxesChange });
    }
    for (const button of document.querySelectorAll("[data-zoom]")) {
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => this.zoomBy(button.dataset.zoom));
    }
    new ResizeObserver(() => this.layout()).observe(this.viewport);
  }

  // boxes: to start from (an earlier answer or the model's suggestion), drawn once the image is there.
  show(item, { boxes = null } = {}) {
    const token = ++this.token;
    this.zoom = 1;
    this.natural = null;
    this.shown = null;
    if (this.editor) {
      this.editor.reset();
      this.editor.load(boxes);
    }
    this.sizeLabel.textContent = "";
    this.zoomLevel.textContent = "…";
    this.img.alt = `Image ${item.external_id}`;
    this.img.classList.add("preview");
    this.img.removeAttribute("src");
    if (!item.media_url) {
      this.onError("This item has no image to show. Skip it with the reason “broken media”.");
      return;
    }
    if (item.thumbnail_url) {
      this.img.onload = () => {
        if (token !== this.token || this.natural) return;
        this.shown = { w: this.img.naturalWidth, h: this.img.naturalHeight };
        this.layout();
      };
      this.img.src = item.thumbnail_url;
    }
    const full = new Image();
    full.decoding = "async";
    full.onload = () => {
      if (token !== this.token) return;
      this.img.onload = null;
      this.img.src = full.src;
      this.img.classList.remove("preview");
      this.natural = { w: full.naturalWidth, h: full.naturalHeight };
      this.shown = this.natural;
      this.sizeLabel.textContent = `${full.naturalWidth} × ${full.naturalHeight} px`;
      if (this.editor) this.editor.setSize(full.naturalWidth, full.naturalHeight);
      this.layout();
      if (this.onLoaded) this.onLoaded();
    };
    full.onerror = () => {
      // A retry asks the app again: a fresh presigned URL if the old one expired or the bucket was away.
      if (token === this.token) this.onError("The image could not be loaded. Try again, or skip it with the reason “broken media”.", () => this.show(item));
    };
    full.src = item.media_url;
  }

  get ready() { return Boolean(this.natural); }

  fitScale() {
    if (!this.shown) return 1;
    const style = getComputedStyle(this.viewport);
    const width = this.viewport.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = this.viewport.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    return Math.max(0.01, Math.min(width / this.shown.w, height / this.shown.h));
  }

  layout() {
    if (!this.shown) return;
    const width = Math.round(this.shown.w * this.fitScale() * this.zoom);
    const height = Math.round(this.shown.h * this.fitScale() * this.zoom);
    this.frame.style.width = `${width}px`;
    this.frame.style.height = `${height}px`;
    this.frame.classList.toggle("zoomed", this.zoom > 1);
    // The scale against the image's own pixels (100% = one image pixel per screen pixel).
    this.zoomLevel.textContent = this.natural ? `${Math.round((100 * width) / this.natural.w)}%` : "…";
    this.zoomLevel.title = this.zoom === 1 ? "Fitted to the view" : `${this.zoom}× the fitted size`;
    if (this.editor && this.natural) this.editor.setScale(width / this.natural.w);
  }

  zoomBy(direction) {
    if (!this.shown) return;
    const { scrollLeft, scrollTop, clientWidth, clientHeight, scrollWidth, scrollHeight } = this.viewport;
    const cx = (scrollLeft + clientWidth / 2) / Math.max(1, scrollWidth);
    const cy = (scrollTop + clientHeight / 2) / Math.max(1, scrollHeight);
    const at = ZOOM_STEPS.indexOf(this.zoom);
    if (direction === "fit") this.zoom = 1;
    else if (direction === "in") this.zoom = ZOOM_STEPS[Math.min(ZOOM_STEPS.length - 1, at + 1)];
    else this.zoom = ZOOM_STEPS[Math.max(0, at - 1)];
    this.layout();
    // Keep the point at the centre of the view where it was.
    this.viewport.scrollLeft = cx * this.viewport.scrollWidth - this.viewport.clientWidth / 2;
    this.viewport.scrollTop = cy * this.viewport.scrollHeight - this.viewport.clientHeight / 2;
  }

  clear() {
    this.token += 1;
    this.img.removeAttribute("src");
    this.natural = null;
    this.shown = null;
    if (this.editor) this.editor.reset();
  }
}
