// The labeling loop on one page: show an item, collect the answer, submit it, and show the
// `next` item the submit returned (one round trip per item, no page reload).
import { ApiError } from "./api.js";
import { AudioPanel } from "./audio.js";
import { Choices } from "./choices.js";
import { ImagePanel } from "./image.js";
import { RecordPanel } from "./record.js";
import { ActiveTimer } from "./timer.js";

const PROGRESS_EVERY_SUBMITS = 20;
const PROGRESS_EVERY_MS = 2 * 60 * 1000;
const STORE_AUTO_SUBMIT = "concord.workspace.autoSubmit";
const STATUS_MS = 6000;

const $ = (id) => document.getElementById(id);

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class Workspace {
  constructor(config, api) {
    this.config = config;
    this.api = api;
    this.item = null;
    this.busy = false;
    this.attempt = { signature: null, key: null };
    this.pendingConfirm = null;
    this.progress = { doneToday: 0, doneTotal: 0, openSlots: null };
    this.submitsSinceRefresh = 0;
    this.baseTitle = document.title;
    this.classKeys = new Set(config.classes.map((c) => c.key).filter(Boolean));

    this.form = $("answer-form");
    this.stage = $("stage");
    this.transcript = $("transcript");
    this.comment = $("comment");
    this.statusLine = $("status");
    this.errorBox = $("error");
    this.skipPanel = $("skip-panel");
    this.skipButton = $("skip-button");
    this.help = $("help");
    this.boxList = $("box-list");

    this.choices = config.classes.length
      ? new Choices(config.classes, config.choiceMode, (name) => this.onChoose(name))
      : null;
    const onError = (message) => this.showError(message);
    const onLoaded = () => this.stage.setAttribute("aria-busy", "false");
    this.image = config.dataType === "image"
      ? new ImagePanel({
        withBoxes: config.labelKind === "boxes",
        colorOf: (name) => (config.classes.find((c) => c.name === name) || { color: "#fab005" }).color,
        currentClass: () => (this.choices ? this.choices.current() : ""),
        onBoxesChange: () => this.onBoxesChange(),
        onError,
        onLoaded,
      })
      : null;
    this.audio = config.dataType === "audio" ? new AudioPanel({ onError, onLoaded }) : null;
    this.record = config.dataType === "record" ? new RecordPanel() : null;
    this.timer = new ActiveTimer({ isBusy: () => Boolean(this.audio && this.audio.playing) });
    this.bindControls();
  }

  bindControls() {
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.skipButton.addEventListener("click", () => (this.skipOpen ? this.closeSkip() : this.openSkip()));
    $("skip-confirm").addEventListener("click", () => this.confirmSkip());
    $("skip-cancel").addEventListener("click", () => this.closeSkip());
    $("help-button").addEventListener("click", () => this.toggleHelp(true));
    this.help.addEventListener("close", () => {
      $("help-button").setAttribute("aria-expanded", "false");
      if (this.focusBeforeHelp && document.contains(this.focusBeforeHelp)) this.focusBeforeHelp.focus();
    });
    $("check-again").addEventListener("click", () => this.loadNext());
    const autoSubmit = $("auto-submit");
    if (autoSubmit) {
      try { autoSubmit.checked = localStorage.getItem(STORE_AUTO_SUBMIT) === "true"; } catch (_) { /* ignore */ }
      autoSubmit.addEventListener("change", () => {
        try { localStorage.setItem(STORE_AUTO_SUBMIT, String(autoSubmit.checked)); } catch (_) { /* ignore */ }
      });
    }
    for (const field of [this.transcript, this.comment]) {
      if (field) field.addEventListener("input", () => { this.pendingConfirm = null; });
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && Date.now() - (this.progressAt || 0) > PROGRESS_EVERY_MS) this.refreshProgress();
    });
    setInterval(() => { if (!document.hidden) this.refreshProgress(); }, PROGRESS_EVERY_MS);
  }

  async start() {
    this.refreshProgress();
    await this.loadNext();
  }

  // ---- items -------------------------------------------------------------------------------

  async loadNext() {
    this.setBusy(true);
    this.say("Loading the next item…");
    try {
      const item = await this.api.next((n) => this.say(`Connection problem; trying again (${n})…`));
      this.say("");
      this.show(item);
    } catch (error) {
      this.failed(error, { retry: () => this.loadNext(), hint: "Try again in a moment." });
    } finally {
      this.setBusy(false);
    }
  }

  show(item) {
    this.item = item;
    this.attempt = { signature: null, key: null };
    this.pendingConfirm = null;
    this.hideError();
    this.closeSkip({ refocus: false });
    this.comment.value = "";
    if (this.transcript) this.transcript.value = "";
    if (this.choices) this.choices.reset();
    const done = !item;
    $("all-done").hidden = !done;
    this.stage.classList.toggle("is-done", done);
    for (const control of this.form.querySelectorAll("button, textarea, input:not([type=hidden]), select")) {
      if (!control.closest("#all-done, .ws-head")) control.disabled = done;
    }
    $("item-name").textContent = done ? "—" : item.external_id;
    document.title = `${done ? "All done" : item.external_id} · ${this.baseTitle}`;
    if (done) {
      if (this.image) this.image.clear();
      if (this.audio) this.audio.clear();
      if (this.record) this.record.clear();
      this.stage.setAttribute("aria-busy", "false");
      this.onBoxesChange();
      $("all-done").querySelector("h2").focus();
      return;
    }
    this.stage.setAttribute("aria-busy", this.record ? "false" : "true");
    if (this.image) this.image.show(item);
    if (this.audio) this.audio.show(item);
    if (this.record) this.record.show(item);
    this.onBoxesChange();
    this.timer.restart();
    this.focusStart();
  }

  // Where the keyboard starts on a new item: the transcript, or the item itself.
  focusStart() {
    if (this.transcript && !this.transcript.disabled) this.transcript.focus({ preventScroll: true });
    else this.focusStage();
  }

  focusStage() {
    this.stage.focus({ preventScroll: true });
  }

  // ---- answers -----------------------------------------------------------------------------

  onChoose(name) {
    this.pendingConfirm = null;
    this.hideError();
    const editor = this.image && this.image.editor;
    if (editor) {
      editor.setClassOfSelected(name);
      return;
    }
    const autoSubmit = $("auto-submit");
    if (autoSubmit && autoSubmit.checked) this.submit();
  }

  answer() {
    const kind = this.config.labelKind;
    if (kind === "transcription") return this.transcript.value.trim();
    if (kind === "boxes") return this.image.editor.value();
    if (kind === "multi_classes") return this.choices.value();
    return this.choices ? this.choices.current() : null;
  }

  // Why the current answer cannot be sent yet, or "confirm" when an empty answer needs a second Enter.
  check(value) {
    const kind = this.config.labelKind;
    if (kind === "boxes" && !this.image.ready) return "The image is still loading; wait a moment.";
    if ((kind === "classes" || kind === "rating") && !value) {
      return "Choose a class first (its number key), or skip with s.";
    }
    const empty = (Array.isArray(value) && value.length === 0) || value === "";
    if (!empty) return null;
    const signature = `${this.item.id}:${JSON.stringify(value)}`;
    if (this.pendingConfirm === signature) return null;
    this.pendingConfirm = signature;
    const what = { boxes: "No box drawn", multi_classes: "No class chosen", transcription: "The transcript is empty" }[kind];
    return `${what}. Press Enter again to submit it like this, or s to skip.`;
  }

  submit() {
    if (!this.item || this.busy) return;
    if (this.skipOpen) { this.confirmSkip(); return; }
    const value = this.answer();
    const problem = this.check(value);
    if (problem) { this.showError(problem); return; }
    this.send({ value });
  }

  async send(payload) {
    const item = this.item;
    const comment = this.comment.value.trim();
    if (comment) payload.comment = comment;
    // One key per attempt at this answer: a retry of the same answer is stored once; a changed
    // answer gets a new key (the server keeps the earlier one as history).
    const signature = JSON.stringify([item.id, payload.value ?? null, payload.skip_reason || "", comment]);
    if (this.attempt.signature !== signature) this.attempt = { signature, key: newKey() };
    payload.time_spent_ms = this.timer.elapsedMs();
    this.setBusy(true);
    this.hideError();
    this.say("Saving…");
    try {
      const result = await this.api.submit(item.id, payload, this.attempt.key,
        (n) => this.say(`Connection problem; sending again (${n})…`));
      if (result.created) this.counted();
      this.say(payload.skip_reason ? `Skipped ${item.external_id}.` : "Saved.");
      this.show(result.next);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        // The item is no longer ours to answer (lease expired and the slot was taken, or the
        // assignment is gone): nothing to fix here, so move on.
        this.setBusy(false);
        await this.loadNext();
        if (this.errorBox.hidden) this.say(`${error.message} Here is your next item.`);
        return;
      }
      this.failed(error, { retry: () => this.submit(), hint: "Your answer is still here: press Enter or “Try again”." });
    } finally {
      this.setBusy(false);
    }
  }

  counted() {
    this.progress.doneToday += 1;
    this.progress.doneTotal += 1;
    if (this.progress.openSlots) this.progress.openSlots -= 1;
    this.renderProgress();
    this.submitsSinceRefresh += 1;
    if (this.submitsSinceRefresh >= PROGRESS_EVERY_SUBMITS) this.refreshProgress();
  }

  // ---- skipping ----------------------------------------------------------------------------

  get skipOpen() { return !this.skipPanel.hidden; }

  get skipRadios() { return [...this.skipPanel.querySelectorAll("input[type=radio]")]; }

  openSkip() {
    if (!this.item) return;
    this.skipPanel.hidden = false;
    this.skipButton.setAttribute("aria-expanded", "true");
    (this.skipRadios.find((r) => r.checked) || this.skipRadios[0]).focus();
  }

  closeSkip({ refocus = true } = {}) {
    if (this.skipPanel.hidden) return;
    this.skipPanel.hidden = true;
    this.skipButton.setAttribute("aria-expanded", "false");
    if (refocus) this.focusStart();
  }

  chooseSkipReason(index) {
    const radio = this.skipRadios[index];
    if (!radio) return false;
    radio.checked = true;
    radio.focus();
    return true;
  }

  confirmSkip() {
    if (!this.item || this.busy) return;
    const reason = (this.skipRadios.find((r) => r.checked) || {}).value;
    if (!reason) return;
    if (reason === "other" && !this.comment.value.trim()) {
      this.showError("Say why in the comment, then press Enter to skip.");
      this.comment.focus();
      return;
    }
    this.send({ skip_reason: reason });
  }

  // ---- boxes -------------------------------------------------------------------------------

  onBoxesChange() {
    const editor = this.image && this.image.editor;
    if (!editor || !this.boxList) return;
    this.pendingConfirm = null;
    const selected = editor.selectedBox();
    if (selected && this.choices) this.choices.show(selected.class);
    const count = editor.boxes.length;
    $("box-count").textContent = count ? `${count} box${count === 1 ? "" : "es"}` : "none yet";
    this.boxList.replaceChildren(...editor.boxes.map((box, index) => {
      const li = document.createElement("li");
      li.className = index === editor.selected ? "selected" : "";
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "box-pick";
      pick.setAttribute("aria-pressed", String(index === editor.selected));
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.setProperty("--c", this.image.editor.colorOf(box.class));
      swatch.setAttribute("aria-hidden", "true");
      pick.append(swatch, `${index + 1}. ${box.class}`);
      const where = document.createElement("span");
      where.className = "muted small";
      where.textContent = ` ${box.w}×${box.h} at ${box.x}, ${box.y}`;
      pick.append(where);
      pick.addEventListener("click", () => editor.select(index === editor.selected ? -1 : index));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "box-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `Delete box ${index + 1} (${box.class})`);
      remove.addEventListener("click", () => { editor.remove(index); this.focusStage(); });
      li.append(pick, remove);
      return li;
    }));
  }

  deleteSelectedBox() {
    const editor = this.image && this.image.editor;
    const box = editor && editor.selectedBox();
    if (!box) return false;
    const number = editor.selected + 1;
    editor.removeSelected();
    this.say(`Box ${number} (${box.class}) deleted.`);
    if (this.boxList.contains(document.activeElement) || !document.activeElement) this.focusStage();
    return true;
  }

  deselect() {
    const editor = this.image && this.image.editor;
    if (!editor || !editor.selectedBox()) return false;
    editor.select(-1);
    return true;
  }

  // ---- progress ----------------------------------------------------------------------------

  async refreshProgress() {
    this.progressAt = Date.now();
    this.submitsSinceRefresh = 0;
    try {
      const data = await this.api.progress();
      this.progress = { doneToday: data.done_today, doneTotal: data.done_total, openSlots: data.open_slots };
      this.renderProgress();
    } catch (_) {
      // The figures are a convenience: the next refresh will bring them.
    }
  }

  renderProgress() {
    const { doneToday, doneTotal, openSlots } = this.progress;
    const number = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString());
    $("done-today").textContent = number(doneToday);
    $("done-total").textContent = number(doneTotal);
    $("open-slots").textContent = number(openSlots);
    const total = doneToday + (openSlots || 0);
    const percent = total ? Math.round((100 * doneToday) / total) : (openSlots === 0 ? 100 : 0);
    const bar = $("progress-bar");
    bar.querySelector("span").style.setProperty("--w", `${percent}%`);
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", `${number(doneToday)} done today, ${number(openSlots)} answers still needed`);
  }

  // ---- messages ----------------------------------------------------------------------------

  // A short status line (aria-live): cleared after a while so it never describes an old item.
  say(text) {
    this.statusLine.textContent = text;
    clearTimeout(this.sayTimer);
    if (text && !text.endsWith("…")) this.sayTimer = setTimeout(() => { this.statusLine.textContent = ""; }, STATUS_MS);
  }

  showError(message, { retry = null, login = false } = {}) {
    const box = this.errorBox;
    const text = document.createElement("p");
    text.textContent = message;
    box.replaceChildren(text);
    if (retry) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Try again";
      button.addEventListener("click", () => { this.hideError(); retry(); });
      box.append(button);
    }
    if (login) {
      const link = document.createElement("a");
      link.href = this.config.urls.login;
      link.className = "button";
      link.textContent = "Log in again";
      box.append(link);
    }
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  hideError() {
    this.errorBox.hidden = true;
    this.errorBox.replaceChildren();
  }

  failed(error, { retry, hint }) {
    this.say("");
    if (error instanceof ApiError && error.sessionExpired) {
      this.showError("Your session has ended. Log in again; your current answer is not saved.", { login: true });
      return;
    }
    if (error instanceof ApiError && error.status === 400) {
      this.showError(`${error.message} Nothing was saved: correct the answer and submit again (if the label definitions changed, reload the page).`);
      return;
    }
    const message = error instanceof ApiError ? error.message : String(error);
    this.showError(`${message} ${hint}`, { retry });
  }

  setBusy(busy) {
    this.busy = busy;
    $("submit").setAttribute("aria-disabled", String(busy));
    this.form.classList.toggle("is-busy", busy);
  }

  // ---- help --------------------------------------------------------------------------------

  get helpOpen() { return this.help.open; }

  toggleHelp(show) {
    if (show && !this.help.open) {
      this.focusBeforeHelp = document.activeElement;
      this.help.showModal();
      $("help-button").setAttribute("aria-expanded", "true");
    } else if (!show && this.help.open) {
      this.help.close();
    }
  }
}
