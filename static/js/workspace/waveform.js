// Waveform peaks: precomputed at import ({"peaks": [0..1], "duration", "sample_rate"}) or, when
// an item has none, computed here from the decoded audio. Drawn on a canvas at the screen's
// pixel density, with the played part in the accent colour and a playhead.

const BAR_PX = 3;
const COLORS = { played: "#3b5bdb", rest: "#adb5bd", head: "#e8590c", axis: "#dee2e6" };

export async function peaksFromAudio(arrayBuffer, buckets = 1000) {
  // An offline context decodes without an audio device and without a user gesture.
  const context = new OfflineAudioContext(1, 1, 44100);
  const buffer = await context.decodeAudioData(arrayBuffer);
  return { peaks: peaksOf(buffer.getChannelData(0), buckets), duration: buffer.duration };
}

export function peaksOf(samples, buckets) {
  const size = Math.max(1, Math.floor(samples.length / buckets));
  const peaks = [];
  let top = 0;
  for (let start = 0; start < samples.length && peaks.length < buckets; start += size) {
    let peak = 0;
    const end = Math.min(samples.length, start + size);
    for (let i = start; i < end; i += 1) {
      const v = Math.abs(samples[i]);
      if (v > peak) peak = v;
    }
    peaks.push(peak);
    if (peak > top) top = peak;
  }
  return peaks.map((p) => (top ? p / top : 0));
}

// Max-pool peaks to one value per bar.
function resample(peaks, bars) {
  if (!peaks.length) return [];
  const out = new Array(bars).fill(0);
  for (let b = 0; b < bars; b += 1) {
    const from = Math.floor((b * peaks.length) / bars);
    const to = Math.max(from + 1, Math.floor(((b + 1) * peaks.length) / bars));
    for (let i = from; i < to && i < peaks.length; i += 1) out[b] = Math.max(out[b], peaks[i]);
  }
  return out;
}

export function drawWaveform(canvas, peaks, fraction, { loading = false } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, width, height);
  const mid = height / 2;
  ctx.fillStyle = COLORS.axis;
  ctx.fillRect(0, mid - ratio / 2, width, ratio);
  const barWidth = BAR_PX * ratio;
  const bars = resample(peaks, Math.floor(width / barWidth));
  const playedX = fraction * width;
  bars.forEach((peak, i) => {
    const x = i * barWidth;
    const h = Math.max(ratio, peak * (height - 8 * ratio));
    ctx.fillStyle = x < playedX ? COLORS.played : COLORS.rest;
    ctx.fillRect(x, mid - h / 2, Math.max(ratio, barWidth - ratio), h);
  });
  if (loading) {
    ctx.fillStyle = "#868e96";
    ctx.font = `${13 * ratio}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillText("Loading the waveform…", width / 2, mid - 10 * ratio);
  }
  ctx.fillStyle = COLORS.head;
  ctx.fillRect(Math.min(width - 2 * ratio, playedX), 0, 2 * ratio, height);
}
