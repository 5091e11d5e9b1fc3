// Time spent on an item, as the labeler experiences it: the clock runs while the page is visible
// and the labeler is active (a key, the pointer, or audio playing within the last IDLE_MS).
// A coffee break with the page open does not count as minutes spent on one item.

const IDLE_MS = 3 * 60 * 1000;
const TICK_MS = 250;

export class ActiveTimer {
  constructor({ isBusy = () => false } = {}) {
    this.isBusy = isBusy; // e.g. "audio is playing": activity without input
    this.total = 0;
    this.last = performance.now();
    this.lastActivity = this.last;
    const activity = () => { this.lastActivity = performance.now(); };
    for (const type of ["keydown", "pointerdown", "pointermove", "wheel"]) {
      document.addEventListener(type, activity, { passive: true, capture: true });
    }
    document.addEventListener("visibilitychange", () => this.tick());
    setInterval(() => this.tick(), TICK_MS);
  }

  tick() {
    const now = performance.now();
    const active = !document.hidden && (now - this.lastActivity < IDLE_MS || this.isBusy());
    if (active) this.total += now - this.last;
    this.last = now;
  }

  restart() {
    this.total = 0;
    this.last = performance.now();
    this.lastActivity = this.last;
  }

  elapsedMs() {
    this.tick();
    return Math.max(1, Math.round(this.total));
  }
}
