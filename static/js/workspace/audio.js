// An audio player with a waveform drawn from precomputed peaks or the decoded audio itself.
export class AudioPanel {
  constructor(container) {
    this.audio = document.createElement("audio");
    this.audio.preload = "auto";
    this.canvas = document.createElement("canvas");
    this.canvas.width = 900; this.canvas.height = 140;
    this.canvas.className = "waveform";
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "Waveform; click to seek");
    this.controls = document.createElement("div");
    this.controls.className = "audio-controls";
    this.play = this.button("Play ␣", () => this.toggle());
    this.speedLabel = document.createElement("span");
    this.time = document.createElement("span");
    this.time.className = "muted";
    this.controls.append(this.play, this.button("−2 s", () => this.seek(-2)), this.button("+2 s", () => this.seek(2)),
      this.button("Slower [", () => this.speed(-0.25)), this.speedLabel, this.button("Faster ]", () => this.speed(0.25)), this.time);
    container.append(this.canvas, this.controls, this.audio);
    this.peaks = [];
    this.canvas.addEventListener("click", (e) => {
      const box = this.canvas.getBoundingClientRect();
      if (this.audio.duration) this.audio.currentTime = ((e.clientX - box.left) / box.width) * this.audio.duration;
    });
    this.audio.addEventListener("timeupdate", () => this.draw());
    this.audio.addEventListener("play", () => { this.play.textContent = "Pause ␣"; });
    this.audio.addEventListener("pause", () => { this.play.textContent = "Play ␣"; });
    this.speed(0);
  }

  button(text, action) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = text;
    b.addEventListener("click", action);
    return b;
  }

  async load(item) {
    this.audio.src = item.media_url;
    this.audio.playbackRate = this.rate || 1;
    this.peaks = [];
    this.draw();
    try {
      if (item.waveform_url) {
        const data = await (await fetch(item.waveform_url, { credentials: "same-origin" })).json();
        this.peaks = data.peaks || [];
      } else {
        const bytes = await (await fetch(item.media_url, { credentials: "same-origin" })).arrayBuffer();
        const context = new (window.AudioContext || window.webkitAudioContext)();
        const buffer = await context.decodeAudioData(bytes);
        context.close();
        this.peaks = peaksOf(buffer.getChannelData(0), 300);
      }
    } catch (_) { this.peaks = []; }
    this.draw();
  }

  toggle() { if (this.audio.paused) this.audio.play().catch(() => {}); else this.audio.pause(); }
  seek(seconds) { this.audio.currentTime = Math.max(0, (this.audio.currentTime || 0) + seconds); this.draw(); }
  speed(delta) {
    this.rate = Math.min(2, Math.max(0.5, (this.rate || 1) + delta));
    this.audio.playbackRate = this.rate;
    this.speedLabel.textContent = `${this.rate.toFixed(2)}×`;
  }

  draw() {
    const ctx = this.canvas.getContext("2d");
    const { width, height } = this.canvas;
    ctx.clearRect(0, 0, width, height);
    const played = this.audio.duration ? this.audio.currentTime / this.audio.duration : 0;
    const bar = width / Math.max(1, this.peaks.length);
    this.peaks.forEach((p, i) => {
      ctx.fillStyle = i / this.peaks.length < played ? "#3b5bdb" : "#adb5bd";
      const h = Math.max(1, p * (height - 10));
      ctx.fillRect(i * bar, (height - h) / 2, Math.max(1, bar - 1), h);
    });
    ctx.fillStyle = "#e03131";
    ctx.fillRect(played * width, 0, 2, height);
    const fmt = (t) => (Number.isFinite(t) ? t.toFixed(1) : "0.0");
    this.time.textContent = `${fmt(this.audio.currentTime)} / ${fmt(this.audio.duration)} s`;
  }
}

export function peaksOf(samples, buckets) {
  const size = Math.max(1, Math.floor(samples.length / buckets));
  const peaks = [];
  let top = 0;
  for (let b = 0; b < buckets; b += 1) {
    let peak = 0;
    for (let i = b * size; i < Math.min(samples.length, (b + 1) * size); i += 1) peak = Math.max(peak, Math.abs(samples[i]));
    peaks.push(peak);
    top = Math.max(top, peak);
  }
  return peaks.map((p) => (top ? p / top : 0));
}
