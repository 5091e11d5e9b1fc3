// The labeling workspace: one page, items arrive with the previous submit (one round trip each).
import { api, errorMessage } from "./api.js";
import { AudioPanel } from "./audio.js";
import { BoxEditor } from "./boxes.js";
import { renderRecord } from "./record.js";

const config = JSON.parse(document.getElementById("workspace-config").textContent);
const $ = (id) => document.getElementById(id);
const stage = $("stage");
const status = $("status");
const form = $("answer-form");
const transcript = $("transcript");
const comment = $("comment");
const choiceButtons = [...document.querySelectorAll(".choice")];
const state = { item: null, started: 0, chosen: new Set(), key: "", busy: false, doneToday: 0, openSlots: null };
let boxes = null;
let audio = null;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

function newKey() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

function typing(event) {
  return event.target.closest("input, textarea, select, [contenteditable]");
}

function updateChoices() {
  for (const button of choiceButtons) {
    const on = config.labelKind === "boxes" ? button.dataset.class === (boxes && boxes.currentClass) : state.chosen.has(button.dataset.class);
    button.setAttribute("aria-pressed", String(on));
  }
  if (boxes) {
    const list = $("box-list");
    list.replaceChildren(...boxes.boxes.map((b, i) => {
      const li = document.createElement("li");
      li.textContent = `${i + 1}. ${b.class} — ${b.w}×${b.h} at (${b.x}, ${b.y})`;
      if (i === boxes.selected) li.className = "selected";
      return li;
    }));
  }
}

function choose(name) {
  if (config.labelKind === "boxes") boxes.setClass(name);
  else if (config.labelKind === "multi_classes") {
    if (state.chosen.has(name)) state.chosen.delete(name); else state.chosen.add(name);
  } else {
    state.chosen = new Set([name]);
  }
  updateChoices();
}

function showProgress() {
  $("done-today").textContent = String(state.doneToday);
  $("open-slots").textContent = state.openSlots === null ? "–" : String(state.openSlots);
  const total = state.doneToday + (state.openSlots || 0);
  $("progress-bar").style.setProperty("--w", total ? `${Math.round((100 * state.doneToday) / total)}%` : "0%");
}

function renderItem(item) {
  state.item = item;
  state.chosen = new Set();
  state.key = newKey();
  state.started = performance.now();
  comment.value = "";
  $("skip-panel").hidden = true;
  stage.replaceChildren();
  audio = null;
  if (!item) {
    $("item-name").textContent = "—";
    const done = document.createElement("div");
    done.className = "all-done";
    done.innerHTML = "<h2>All done</h2><p>Nothing is left for you in this project right now. Thank you!</p>";
    stage.append(done);
    form.querySelectorAll("button, textarea, input").forEach((el) => { el.disabled = true; });
    return;
  }
  $("item-name").textContent = item.external_id;
  if (item.kind === "image") {
    const frame = document.createElement("div");
    frame.className = "image-frame";
    const img = document.createElement("img");
    img.alt = `Image ${item.external_id}`;
    if (item.thumbnail_url) { img.src = item.thumbnail_url; img.classList.add("loading"); }
    const full = new Image();
    full.onload = () => { img.src = full.src; img.classList.remove("loading"); if (boxes) boxes.setSize(full.naturalWidth, full.naturalHeight); };
    full.src = item.media_url;
    frame.append(img);
    if (config.labelKind === "boxes") {
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "box-layer");
      svg.setAttribute("aria-label", "Draw boxes here");
      frame.append(svg);
      const current = boxes ? boxes.currentClass : undefined;
      boxes = new BoxEditor(svg, { classes: config.classes, onChange: updateChoices });
      if (current) boxes.currentClass = current;
    }
    stage.append(frame);
  } else if (item.kind === "audio") {
    audio = new AudioPanel(stage);
    audio.load(item);
  } else {
    renderRecord(stage, item.data);
  }
  if (transcript) { transcript.value = ""; transcript.focus(); } else { stage.focus(); }
  updateChoices();
}

function answerValue() {
  if (config.labelKind === "transcription") return transcript.value.trim();
  if (config.labelKind === "boxes") return boxes ? boxes.value() : [];
  if (config.labelKind === "multi_classes") return [...state.chosen];
  return state.chosen.size ? [...state.chosen][0] : null;
}

async function send(payload) {
  if (!state.item || state.busy) return;
  state.busy = true;
  say("Saving…");
  payload.time_spent_ms = Math.round(performance.now() - state.started);
  if (comment.value.trim()) payload.comment = comment.value.trim();
  const result = await api.submit(config.urls, state.item.id, payload, state.key);
  state.busy = false;
  if (result.status === 201 || result.status === 200) {
    if (result.status === 201) { state.doneToday += 1; if (state.openSlots) state.openSlots -= 1; }
    showProgress();
    say(payload.skip_reason ? "Skipped." : "Saved.");
    renderItem(result.body.next);
  } else if (result.status === 409) {
    say(`${errorMessage(result)} Moving on.`, true);
    loadNext();
  } else {
    say(errorMessage(result), true);
  }
}

function submit() {
  const value = answerValue();
  if (value === null || value === "" || (config.labelKind === "multi_classes" && false)) {
    say(config.labelKind === "transcription" ? "Type the transcript first (or skip with s)." : "Choose a class first (number keys), or skip with s.", true);
    return;
  }
  send({ value });
}

function openSkip() {
  $("skip-panel").hidden = false;
  $("skip-reason").focus();
}

async function loadNext() {
  const result = await api.next(config.urls);
  if (result.status === 200) renderItem(result.body);
  else if (result.status === 204) renderItem(null);
  else say(errorMessage(result), true);
}

function toggleHelp(show) {
  const help = $("help");
  help.hidden = show === undefined ? !help.hidden : !show;
  $("help-button").setAttribute("aria-expanded", String(!help.hidden));
  if (!help.hidden) $("help-close").focus();
}

form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
choiceButtons.forEach((b) => b.addEventListener("click", () => choose(b.dataset.class)));
$("skip-button").addEventListener("click", openSkip);
$("skip-confirm").addEventListener("click", () => send({ skip_reason: $("skip-reason").value }));
$("help-button").addEventListener("click", () => toggleHelp());
$("help-close").addEventListener("click", () => toggleHelp(false));

document.addEventListener("keydown", (event) => {
  const inText = typing(event);
  if (event.key === "Escape") {
    toggleHelp(false);
    $("skip-panel").hidden = true;
    if (boxes) { boxes.selected = -1; boxes.render(); updateChoices(); }
    return;
  }
  if (event.target.id === "skip-reason" && event.key === "Enter") {
    event.preventDefault();
    send({ skip_reason: $("skip-reason").value });
    return;
  }
  if (audio && ((event.key === " " && (!inText || event.ctrlKey)))) { event.preventDefault(); audio.toggle(); return; }
  if (audio && (event.key === "ArrowLeft" || event.key === "ArrowRight") && (!inText || event.ctrlKey)) {
    event.preventDefault(); audio.seek(event.key === "ArrowLeft" ? -2 : 2); return;
  }
  if (event.key === "Enter" && !event.shiftKey && (!inText || event.target === transcript || event.target === comment)) {
    event.preventDefault(); submit(); return;
  }
  if (inText || event.ctrlKey || event.metaKey) return;
  if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
  if (event.key === "s") { event.preventDefault(); openSkip(); return; }
  if (event.key === "c") { event.preventDefault(); comment.focus(); return; }
  if (audio && (event.key === "[" || event.key === "]")) { audio.speed(event.key === "[" ? -0.25 : 0.25); return; }
  if (event.key === "+" || event.key === "-") {
    const frame = stage.querySelector(".image-frame");
    if (frame) { const zoom = Number(frame.dataset.zoom || 1) * (event.key === "+" ? 1.25 : 0.8); frame.dataset.zoom = String(zoom); frame.style.setProperty("--zoom", String(zoom)); }
    return;
  }
  if (boxes && (event.key === "Delete" || event.key === "Backspace")) { if (boxes.removeSelected()) event.preventDefault(); return; }
  if (boxes && event.key.startsWith("Arrow")) {
    const step = event.shiftKey ? 10 : 1;
    const dx = event.key === "ArrowLeft" ? -step : event.key === "ArrowRight" ? step : 0;
    const dy = event.key === "ArrowUp" ? -step : event.key === "ArrowDown" ? step : 0;
    if (boxes.nudge(dx, dy, event.altKey)) event.preventDefault();
    return;
  }
  const klass = config.classes.find((c) => c.key === event.key);
  if (klass) { event.preventDefault(); choose(klass.name); }
});

(async function start() {
  const progress = await api.progress(config.urls);
  if (progress.status === 200) { state.doneToday = progress.body.done_today; state.openSlots = progress.body.open_slots; }
  showProgress();
  await loadNext();
})();
