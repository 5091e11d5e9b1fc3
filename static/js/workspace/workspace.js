// The labeling loop on one page: show an item, collect the answer, submit it, and show the
// `next` item the submit returned (one round trip per item, no page reload).
import { ApiError } from "./api.js";
import { AudioPanel } from "./audio.js";
import { BoxList } from "./boxlist.js";
import { Choices } from "./choices.js";
import { AnswerHistory, describeValue } from "./history.js";
import { ImagePanel } from "./image.js";
import { Messages } from "./messages.js";
import { Progress } from "./progress.js";
import { RecordPanel } from "./record.js";
import { SkipPanel } from "./skip.js";
import { ActiveTimer } from "./timer.js";

const STORE_AUTO_SUBMIT = "concord.workspace.autoSubmit";
// After typing in a text box, a bare `s` within this time does not open Skip (Shift+S does): a
// word typed on after Esc must not skip the item and lose the transcript.
const TYPING_GRACE_MS = 1000;

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
    this.progress = new Progress(api);
    this.history = new AnswerHistory(config.projectId);
    this.revisit = null; // {annotation}: the labeler went back to an item they answered
    this.lastTypedAt = 0;
    this.baseTitle = document.title;
    this.classKeys = new Set(config.classes.map((c) => c.key).filter(Boolean));

    this.form = $("answer-form");
    this.stage = $("stage");
    this.transcript = $("transcript");
    this.comment = $("comment");
    this.messages = new Messages($("status"), $("error"), config.urls.login);
    this.skip = new SkipPanel($("skip-panel"), $("skip-button"));
    this.help = $("help");

    this.choices = config.classes.length
      ? new Choices(config.classes, config.choiceMode, (name) => this.onChoose(name))
      : null;
    const onError = (message, retry) => this.showError(message, retry ? { retry } : undefined);
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
    const editor = this.image && this.image.editor;
    this.boxList = editor && $("box-list")
      ? new BoxList($("box-list"), $("box-count"), editor, {
        onPick: (index) => editor.select(index === editor.selected && !editor.justDrawn ? -1 : index),
        onRemove: (index) => { editor.remove(index); this.focusStage(); },
      })
      : null;
    this.bindControls();
  }

  bindControls() {
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    $("skip-button").addEventListener("click", () => (this.skipOpen ? this.closeSkip() : this.openSkip()));
    $("skip-confirm").addEventListener("click", () => this.confirmSkip());
    $("skip-cancel").addEventListener("click", () => this.closeSkip());
    $("help-button").addEventListener("click", () => this.toggleHelp(true));
    this.help.addEventListener("close", () => {
      $("help-button").setAttribute("aria-expanded", "false");
      if (this.focusBeforeHelp && document.contains(this.focusBeforeHelp)) this.focusBeforeHelp.focus();
    });
    $("check-again").addEventListener("click", () => this.loadNext());
    $("back-button").addEventListener("click", () => this.goBack());
    $("revisit-return").addEventListener("click", () => this.returnToCurrent());
    const autoSubmit = $("auto-submit");
    if (autoSubmit) {
      try { autoSubmit.checked = localStorage.getItem(STORE_AUTO_SUBMIT) === "true"; } catch (_) { /* ignore */ }
      autoSubmit.addEventListener("change", () => {
        try { localStorage.setItem(STORE_AUTO_SUBMIT, String(autoSubmit.checked)); } catch (_) { /* ignore */ }
      });
    }
    for (const field of [this.transcript, this.comment]) {
      if (field) {
        field.addEventListener("input", () => {
          this.pendingConfirm = null;
          this.lastTypedAt = Date.now();
        });
      }
    }
  }

  async start() {
    this.progress.refresh();
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

  // answer: the labeler's earlier answer when they went back to the item (revisit mode).
  show(item, { answer = null } = {}) {
    this.item = item;
    this.revisit = item && answer ? { annotation: answer } : null;
    this.attempt = { signature: null, key: null };
    this.pendingConfirm = null;
    this.lastTypedAt = 0; // the typing guard on Skip is about this item's text
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
    this.renderRevisit();
    const suggestion = !done && !answer ? item.suggestion : null;
    this.renderSuggestion(suggestion);
    if (done) {
      if (this.image) this.image.clear();
      if (this.audio) this.audio.clear();
      if (this.record) this.record.clear();
      this.stage.setAttribute("aria-busy", "false");
      this.onBoxesChange();
      $("all-done").querySelector("h2").focus();
      return;
    }
    // Start from the earlier answer, or from the model's suggestion (accepted with Enter).
    const start = answer ? answer.value : suggestion ? suggestion.value : null;
    this.stage.setAttribute("aria-busy", this.record ? "false" : "true");
    if (this.image) this.image.show(item, { boxes: this.config.labelKind === "boxes" ? start : null });
    if (this.audio) this.audio.show(item);
    if (this.record) this.record.show(item);
    if (this.choices && start !== null) this.choices.set(start);
    if (this.transcript && typeof start === "string") this.transcript.value = start;
    if (answer && answer.comment) this.comment.value = answer.comment;
    this.onBoxesChange();
    this.timer.restart();
    this.focusStart();
  }

  renderSuggestion(suggestion) {
    const note = $("suggestion-note");
    note.hidden = !suggestion;
    if (this.choices) this.choices.markSuggested(suggestion ? suggestion.value : null);
    if (suggestion) {
      note.querySelector(".model-version").textContent = suggestion.model_version;
    }
  }

  renderRevisit() {
    const banner = $("revisit");
    const answer = this.revisit && this.revisit.annotation;
    banner.hidden = !answer;
    this.form.classList.toggle("is-revisit", Boolean(answer));
    $("back-button").disabled = this.history.before(this.revisit ? this.item.id : null) === null;
    if (!answer) return;
    const was = answer.skip_reason ? `skipped (${answer.skip_reason.replace(/_/g, " ")})` : describeValue(answer.value);
    $("revisit-was").textContent = was;
  }

  // Where the keyboard starts on a new item: the player (Space plays, ? helps, t types the
  // transcript), or the item itself. Never a text box: single-key shortcuts work at once.
  focusStart() {
    if (this.audio) this.audio.canvas.focus({ preventScroll: true });
    else this.focusStage();
  }

  typedRecently() {
    return Date.now() - this.lastTypedAt < TYPING_GRACE_MS;
  }

  // ---- going back --------------------------------------------------------------------------

  async goBack() {
    if (this.busy) return;
    const target = this.history.before(this.revisit ? this.item.id : null);
    if (!target) {
      this.say("Nothing earlier to go back to in this session.");
      return;
    }
    this.setBusy(true);
    try {
      const { item, annotation } = await this.api.myAnswer(target.id);
      this.show(item, { answer: annotation });
      this.say(`Back to ${item.external_id}: change your answer and press Enter, or Esc to return.`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.history.forget(target.id);
        this.renderRevisit();
        this.say(`${target.external_id} is no longer yours to change.`);
      } else {
        this.failed(error, { retry: () => this.goBack(), hint: "Try again in a moment." });
      }
    } finally {
      this.setBusy(false);
    }
  }

  // From an earlier item back to the one the labeler holds (their live reservation).
  returnToCurrent() {
    if (!this.revisit || this.busy) return;
    this.revisit = null;
    this.loadNext();
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
      const box = editor.selectedBox();
      const was = editor.setClassOfSelected(name);
      if (was !== null) this.say(`Box ${editor.selected + 1}: ${was} → ${box.class}.`);
      else this.say(`Next box: ${name}.`);
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
      const changing = Boolean(this.revisit);
      const result = await this.api.submit(item.id, payload, this.attempt.key,
        (n) => this.say(`Connection problem; sending again (${n})…`));
      if (changing) {
        if (result.created) this.progress.refresh();
        this.say(result.created ? `Changed your answer on ${item.external_id}.` : `${item.external_id} unchanged.`);
      } else {
        this.history.push(item);
        if (result.created) this.progress.counted(Boolean(payload.skip_reason));
        this.say(payload.skip_reason ? `Skipped ${item.external_id}.` : "Saved.");
      }
      this.show(result.next);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        // The item is no longer ours to answer (lease expired and the slot was taken, or the
        // assignment is gone): nothing to fix here, so move on.
        this.setBusy(false);
        await this.loadNext();
        if (!this.messages.errorShown) this.say(`${error.message} Here is your next item.`);
        return;
      }
      this.failed(error, { retry: () => this.submit(), hint: "Your answer is still here: press Enter or “Try again”." });
    } finally {
      this.setBusy(false);
    }
  }

  // ---- skipping ----------------------------------------------------------------------------

  get skipOpen() { return this.skip.isOpen; }

  openSkip() { if (this.item) this.skip.open(); }

  closeSkip({ refocus = true } = {}) {
    if (this.skip.close() && refocus) this.focusStart();
  }

  chooseSkipReason(index) { return this.skip.choose(index); }

  confirmSkip() {
    if (!this.item || this.busy) return;
    const reason = this.skip.reason;
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
    if (!this.boxList) return;
    this.pendingConfirm = null;
    this.boxList.sync(this.choices);
  }

  deleteSelectedBox() {
    const deleted = this.boxList && this.boxList.deleteSelected();
    if (!deleted) return false;
    this.say(deleted);
    if (this.boxList.list.contains(document.activeElement) || !document.activeElement) this.focusStage();
    return true;
  }

  deselect() { return Boolean(this.boxList && this.boxList.deselect()); }

  // ---- messages ----------------------------------------------------------------------------

  say(text) { this.messages.say(text); }

  showError(message, options) { this.messages.showError(message, options); }

  hideError() { this.messages.hideError(); }

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
