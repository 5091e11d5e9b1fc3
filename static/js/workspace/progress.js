// The labeler's progress in the header: answered today (a skip is not "done": counted apart),
// answered in all, and answers the project still needs. Counted locally after each submit and
// refreshed from the server now and then.

const EVERY_SUBMITS = 20;
const EVERY_MS = 2 * 60 * 1000;
const $ = (id) => document.getElementById(id);

export class Progress {
  constructor(api) {
    this.api = api;
    this.figures = { doneToday: 0, doneTotal: 0, skippedToday: 0, openSlots: null };
    this.sinceRefresh = 0;
    this.refreshedAt = 0;
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && Date.now() - this.refreshedAt > EVERY_MS) this.refresh();
    });
    setInterval(() => { if (!document.hidden) this.refresh(); }, EVERY_MS);
  }

  counted(skipped) {
    const f = this.figures;
    if (skipped) {
      f.skippedToday += 1;
    } else {
      f.doneToday += 1;
      f.doneTotal += 1;
    }
    if (f.openSlots) f.openSlots -= 1;
    this.render();
    this.sinceRefresh += 1;
    if (this.sinceRefresh >= EVERY_SUBMITS) this.refresh();
  }

  async refresh() {
    this.refreshedAt = Date.now();
    this.sinceRefresh = 0;
    try {
      const data = await this.api.progress();
      this.figures = {
        doneToday: data.done_today,
        doneTotal: data.done_total,
        skippedToday: data.skipped_today,
        openSlots: data.open_slots,
      };
      this.render();
    } catch (_) {
      // The figures are a convenience: the next refresh will bring them.
    }
  }

  render() {
    const { doneToday, doneTotal, skippedToday, openSlots } = this.figures;
    const number = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString());
    $("done-today").textContent = number(doneToday);
    $("skipped-today").textContent = number(skippedToday);
    $("done-total").textContent = number(doneTotal);
    $("open-slots").textContent = number(openSlots);
    const total = doneToday + (openSlots || 0);
    const percent = total ? Math.round((100 * doneToday) / total) : (openSlots === 0 ? 100 : 0);
    const bar = $("progress-bar");
    bar.querySelector("span").style.setProperty("--w", `${percent}%`);
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute(
      "aria-valuetext",
      `${number(doneToday)} done today, ${number(skippedToday)} skipped, ${number(openSlots)} answers still needed`,
    );
  }
}
