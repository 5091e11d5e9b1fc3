// The audio panel: player, waveform with playhead (click or drag to seek), speed, autoplay.
// The clip is fetched once as a blob: it plays and seeks from memory (no Range requests needed)
// and, when the item has no precomputed waveform, the same bytes are decoded for the peaks.
import { drawWaveform, peaksFromAudio } from "./waveform.js";

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const STORE = { speed: "concord.workspace.speed", autoplay: "concord.workspace.autoplay" };

export function clock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s < 10 ? "0" : ""}${s.toFixed(1)}`;
}

function stored(key, fallback) {
  try { return localStorage.getItem(key) ?? fallback; } catch (_) { return fallback; }
}

function store(key, value) {
  try { localStorage.setItem(key, String(value)); } catch (_) { /* private mode: not kept */ }
}

export class AudioPanel {
  constructor({ onError, onLoaded }) {
    this.onError = onError;
    this.onLoaded = onLoaded;
    this.audio = document.getElementById("audio");
    this.canvas = document.getElementById("waveform");
    this.playButton = document.getElementById("play");
    this.time = document.getElementById("time");
    this.speedSelect = document.getElementById("speed");
    this.autoplay = document.getElementById("autoplay");
    this.peaks = [];
    this.duration = 0;
    this.token = 0;
    this.objectUrl = null;
    this.loadingPeaks = false;
    this.frame = 0;

    const keepFocus = (button) => button.addEventListener("mousedown", (event) => event.preventDefault());
    for (const button of document.querySelectorAll(".player-controls button")) keepFocus(button);
    this.playButton.addEventListener("click", () => this.toggle());
    document.getElementById("seek-back").addEventListener("click", () => this.seek(-2));
    document.getElementById("seek-forward").addEventListener("click", () => this.seek(2));
    this.speedSelect.value = String(Number(stored(STORE.speed, "1")));
    if (!this.speedSelect.value) this.speedSelect.value = "1";
    this.speedSelect.addEventListener("change", () => this.setSpeed(Number(this.speedSelect.value)));
    this.autoplay.checked = stored(STORE.autoplay, "false") === "true";
    this.autoplay.addEventListener("change", () => store(STORE.autoplay, this.autoplay.checked));

    this.canvas.addEventListener("pointerdown", (event) => {
      this.canvas.setPointerCapture(event.pointerId);
      this.seekToPointer(event);
    });
    this.canvas.addEventListener("pointermove", (event) => {
      if (this.canvas.hasPointerCapture(event.pointerId)) this.seekToPointer(event);
    });
    this.audio.addEventListener("loadedmetadata", () => {
      if (Number.isFinite(this.audio.duration)) this.duration = this.audio.duration;
      this.audio.playbackRate = Number(this.speedSelect.value);
      this.draw();
    });
    this.audio.addEventListener("canplay", () => {
      if (this.autoplay.checked && this.audio.currentTime === 0 && this.audio.paused && !this.autoplayed) {
        this.autoplayed = true;
        this.audio.play().catch(() => {}); // refused before the first user gesture: fine
      }
    }, { passive: true });
    this.audio.addEventListener("play", () => { this.renderPlayState(); this.animate(); });
    this.audio.addEventListener("pause", () => this.renderPlayState());
    this.audio.addEventListener("ended", () => this.renderPlayState());
    this.audio.addEventListener("seeked", () => this.draw());
    this.audio.addEventListener("error", () => {
      if (this.audio.getAttribute("src")) this.onError("The audio could not be played. Skip it with the reason “broken media”.");
    });
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  async show(item) {
    this.clear();
    const token = this.token;
    this.autoplayed = false;
    if (!item.media_url) {
      this.onError("This item has no audio. Skip it with the reason “broken media”.");
      return;
    }
    this.loadingPeaks = true;
    this.draw();
    const waveform = item.waveform_url ? this.fetchWaveform(item.waveform_url) : null;
    let bytes;
    let type = "";
    try {
      const response = await fetch(item.media_url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      type = response.headers.get("Content-Type") || "";
      bytes = await response.arrayBuffer();
    } catch (_) {
      if (token === this.token) {
        this.loadingPeaks = false;
        this.draw();
        this.onError("The audio could not be loaded. Check your connection and try again, or skip it with the reason “broken media”.", () => this.show(item));
      }
      return;
    }
    if (token !== this.token) return;
    this.objectUrl = URL.createObjectURL(new Blob([bytes], { type }));
    this.audio.src = this.objectUrl;
    this.audio.playbackRate = Number(this.speedSelect.value);
    if (this.onLoaded) this.onLoaded();
    let peaks = waveform ? await waveform : null;
    if (!peaks) {
      try { peaks = await peaksFromAudio(bytes.slice(0)); } catch (_) { peaks = null; }
    }
    if (token !== this.token) return;
    this.loadingPeaks = false;
    if (peaks) {
      this.peaks = peaks.peaks || [];
      if (!this.duration && peaks.duration) this.duration = peaks.duration;
    }
    this.draw();
  }

  async fetchWaveform(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return null;
      const data = await response.json();
      return Array.isArray(data.peaks) ? data : null;
    } catch (_) {
      return null;
    }
  }

  get playing() { return !this.audio.paused && !this.audio.ended; }

  toggle() {
    if (!this.audio.getAttribute("src")) return;
    if (this.audio.paused) this.audio.play().catch(() => {});
    else this.audio.pause();
  }

  seekTo(seconds) {
    if (!this.audio.getAttribute("src")) return;
    const end = this.duration || this.audio.duration || 0;
    this.audio.currentTime = Math.max(0, Math.min(end, seconds));
    this.draw();
  }

  seek(delta) { this.seekTo((this.audio.currentTime || 0) + delta); }

  seekToPointer(event) {
    const box = this.canvas.getBoundingClientRect();
    const fraction = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
    this.seekTo(fraction * (this.duration || 0));
  }

  setSpeed(rate) {
    this.speedSelect.value = String(rate);
    this.audio.playbackRate = rate;
    store(STORE.speed, rate);
  }

  speedStep(direction) {
    const at = SPEEDS.indexOf(Number(this.speedSelect.value));
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, (at < 0 ? 2 : at) + direction))];
    this.setSpeed(next);
    return next;
  }

  renderPlayState() {
    const playing = this.playing;
    this.playButton.querySelector(".play-icon").textContent = playing ? "❚❚" : "▶";
    this.playButton.querySelector(".play-text").textContent = playing ? "Pause" : "Play";
    this.playButton.setAttribute("aria-pressed", String(playing));
    this.draw();
  }

  animate() {
    cancelAnimationFrame(this.frame);
    const step = () => {
      this.draw();
      if (this.playing) this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }

  draw() {
    const duration = this.duration || 0;
    const now = this.audio.currentTime || 0;
    drawWaveform(this.canvas, this.peaks, duration ? Math.min(1, now / duration) : 0, { loading: this.loadingPeaks });
    this.time.textContent = `${clock(now)} / ${clock(duration)}`;
    this.canvas.setAttribute("aria-valuemax", duration.toFixed(1));
    this.canvas.setAttribute("aria-valuenow", now.toFixed(1));
    this.canvas.setAttribute("aria-valuetext", `${clock(now)} of ${clock(duration)}`);
  }

  clear() {
    this.token += 1;
    cancelAnimationFrame(this.frame);
    this.audio.pause();
    this.audio.removeAttribute("src");
    this.audio.load();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
    this.peaks = [];
    this.duration = 0;
    this.loadingPeaks = false;
    this.renderPlayState();
  }
}
