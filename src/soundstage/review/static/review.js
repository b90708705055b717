// soundstage review: the wipe, frame scrubbing, seeking the cut, and live job progress (server-sent events).
"use strict";

function wipe() {
  const slider = document.getElementById("wipe-at");
  const over = document.getElementById("wipe-over");
  const line = document.getElementById("wipe-line");
  if (!slider || !over) return;
  const set = () => {
    const at = Number(slider.value);
    over.style.clipPath = `inset(0 ${100 - at}% 0 0)`;
    line.style.left = `${at}%`;
  };
  slider.addEventListener("input", set);
  const box = document.getElementById("wipe");
  box.addEventListener("pointermove", (event) => {
    if (event.buttons !== 1) return;
    const rect = box.getBoundingClientRect();
    slider.value = String(Math.round(100 * (event.clientX - rect.left) / rect.width));
    set();
  });
  set();
}

function flipbooks() {
  // Element takes are frame sequences: a scrubber shows any frame; all flipbooks on a page move together.
  const books = Array.from(document.querySelectorAll(".flip"));
  const together = document.getElementById("wipe-frame");
  if (together) {
    together.addEventListener("input", () => {
      for (const book of books) {
        const list = book.dataset.frames.split("|");
        book.querySelector("img").src = "/files/" + list[Math.min(Number(together.value), list.length - 1)];
      }
    });
  }
  for (const book of books) {
    const frames = book.dataset.frames.split("|");
    const image = book.querySelector("img");
    book.querySelector(".scrub").addEventListener("input", (event) => {
      for (const other of books) {
        const list = other.dataset.frames.split("|");
        const index = Math.min(Number(event.target.value), list.length - 1);
        other.querySelector("img").src = "/files/" + list[index];
        other.querySelector(".scrub").value = String(index);
      }
      image.src = "/files/" + frames[Number(event.target.value)];
    });
  }
}

function cutStrip() {
  const video = document.getElementById("cut");
  if (!video) return;
  for (const button of document.querySelectorAll(".strip-shot")) {
    button.addEventListener("click", () => {
      video.currentTime = Number(button.dataset.at) + 0.001;
      video.play().catch(() => {});
    });
  }
}

function followJob() {
  const panel = document.getElementById("job");
  if (!panel || ["done", "refused", "failed"].includes(panel.dataset.state)) return;
  const state = document.getElementById("job-state");
  const message = document.getElementById("job-message");
  const bar = document.getElementById("job-progress");
  const events = new EventSource(`/jobs/${panel.dataset.job}/events`);
  const log = [];      // what the job said, kept for this tab across the reload that shows the result
  events.addEventListener("progress", (event) => {
    const data = JSON.parse(event.data);
    log.push(data.message);
    sessionStorage.setItem(`job-${panel.dataset.job}`, JSON.stringify(log));
    panel.dataset.state = data.state;
    state.textContent = data.state;
    state.className = `job-state state-${data.state}`;
    message.textContent = data.message;
    if (data.total) { bar.max = data.total; bar.value = data.done || 0; }
  });
  events.addEventListener("end", (event) => {
    events.close();
    const data = JSON.parse(event.data);
    panel.dataset.state = data.state;
    state.textContent = data.state;
    state.className = `job-state state-${data.state}`;
    message.textContent = data.message;
    bar.max = 1; bar.value = 1;
    if (data.state === "done") {
      // Show the new take and the re-rendered comp: the same page without the job in its address.
      const link = document.createElement("a");
      link.href = window.location.pathname;
      link.textContent = " Show it";
      link.id = "job-show";
      message.appendChild(link);
      setTimeout(() => { window.location.assign(window.location.pathname + "?job=" + data.id); }, 600);
    }
  });
  events.onerror = () => { if (panel.dataset.state === "done") events.close(); };
}

document.addEventListener("DOMContentLoaded", () => { wipe(); flipbooks(); cutStrip(); followJob(); });

// ---------------------------------------------------------------------------------------------- the shot's player
// The comp and the plate play and scrub together, one frame at a time: ←/→ step, K stops, L plays, J plays back.
// The record timecode and frame number shown are the editor's (drop-frame at 29.97 and 59.94, as the cut counts).

function timecodeClock(startLabel, fps) {
  const nominal = Math.round(fps);
  const drop = Math.abs(fps * 1001 / 1000 - nominal) < 0.01 && nominal % 30 === 0 ? nominal / 15 : 0;
  const tenMinutes = nominal * 600 - drop * 9;
  const minute = nominal * 60 - drop;
  const count = (label) => {
    const [h, m, s, f] = label.split(/[:;]/).map(Number);
    const minutes = 60 * h + m;
    return (h * 3600 + m * 60 + s) * nominal + f - drop * (minutes - Math.floor(minutes / 10));
  };
  const label = (frames) => {
    let n = frames;
    if (drop) {
      const tens = Math.floor(n / tenMinutes), rest = n % tenMinutes;
      n += 9 * drop * tens + (rest > drop ? drop * Math.floor((rest - drop) / minute) : 0);
    }
    const two = (v) => String(v).padStart(2, "0");
    const f = n % nominal, s = Math.floor(n / nominal);
    return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}${drop ? ";" : ":"}${two(f)}`;
  };
  const start = count(startLabel);
  return (offset) => label(start + offset);
}

function inkOn(canvas, strokes) {
  const pen = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  pen.clearRect(0, 0, w, h);
  pen.lineWidth = Math.max(2, w / 200);
  pen.lineCap = "round";
  pen.lineJoin = "round";
  for (const stroke of strokes) {
    const points = stroke.points.map(([x, y]) => [x * w, y * h]);
    pen.strokeStyle = pen.fillStyle = stroke.colour;
    pen.beginPath();
    if (stroke.tool === "pen") {
      points.forEach(([x, y], i) => (i ? pen.lineTo(x, y) : pen.moveTo(x, y)));
      pen.stroke();
    } else if (stroke.tool === "circle" && points.length > 1) {
      const [[x0, y0], [x1, y1]] = [points[0], points[points.length - 1]];
      pen.ellipse((x0 + x1) / 2, (y0 + y1) / 2, Math.abs(x1 - x0) / 2 + 1, Math.abs(y1 - y0) / 2 + 1, 0, 0, 2 * Math.PI);
      pen.stroke();
    } else if (stroke.tool === "arrow" && points.length > 1) {
      const [[x0, y0], [x1, y1]] = [points[0], points[points.length - 1]];
      const angle = Math.atan2(y1 - y0, x1 - x0), head = Math.max(8, w / 40);
      pen.moveTo(x0, y0); pen.lineTo(x1, y1);
      pen.lineTo(x1 - head * Math.cos(angle - 0.4), y1 - head * Math.sin(angle - 0.4));
      pen.moveTo(x1, y1);
      pen.lineTo(x1 - head * Math.cos(angle + 0.4), y1 - head * Math.sin(angle + 0.4));
      pen.stroke();
    } else if (stroke.tool === "text") {
      pen.font = `${Math.max(12, Math.round(h / 14))}px sans-serif`;
      pen.fillText(stroke.text || "", points[0][0], points[0][1]);
    }
  }
}

function shotPlayer() {
  const screens = document.getElementById("screens");
  const transport = document.getElementById("transport");
  if (!screens || !transport) return;
  const fps = Number(screens.dataset.fps);
  const frames = Number(screens.dataset.frames);
  const first = Number(screens.dataset.firstFrame);
  const label = timecodeClock(screens.dataset.start, fps);
  const videos = ["comp", "plate"].map((id) => document.getElementById(id)).filter(Boolean);
  const master = videos[0];
  const scrub = document.getElementById("scrub");
  const shownCode = document.getElementById("timecode");
  const shownFrame = document.getElementById("frame-number");
  const noteFrame = document.getElementById("note-frame");
  const noteDrawing = document.getElementById("note-drawing");
  const canvas = document.getElementById("ink");
  const saved = Array.from(document.querySelectorAll(".note[data-frame]")).map((note) => ({
    frame: Number(note.dataset.frame), strokes: JSON.parse(note.dataset.drawing || "[]"), note }));
  let at = 0, backwards = null, strokes = [], drawing = null, touched = false;

  const show = () => {
    shownCode.textContent = label(at);
    shownFrame.textContent = String(first + at);
    screens.dataset.frame = String(first + at);
    scrub.value = String(at);
    if (noteFrame && touched && (!master || master.paused)) noteFrame.value = String(first + at);
    if (canvas) {
      const here = saved.filter((s) => s.frame === first + at).flatMap((s) => s.strokes);
      inkOn(canvas, [...here, ...strokes]);
      canvas.dataset.strokes = String(here.length + strokes.length);
      for (const s of saved) s.note.classList.toggle("here", s.frame === first + at);
    }
  };
  // The middle of a frame, so that rounding in the decoder never shows its neighbour.
  const seek = (offset, byHand = true) => {
    touched = touched || byHand;
    at = Math.min(Math.max(offset, 0), frames - 1);
    for (const video of videos) video.currentTime = (at + 0.5) / fps;
    show();
  };
  const stop = () => {
    if (backwards) { clearInterval(backwards); backwards = null; }
    for (const video of videos) video.pause();
  };
  const play = () => {
    stop();
    strokes = [];
    for (const video of videos) video.play().catch(() => {});
  };
  if (master) {
    master.addEventListener("timeupdate", () => {
      if (master.paused) return;
      at = Math.min(Math.floor(master.currentTime * fps + 1e-6), frames - 1);
      for (const other of videos.slice(1)) {
        if (Math.abs(other.currentTime - master.currentTime) > 0.5 / fps) other.currentTime = master.currentTime;
      }
      show();
    });
    master.addEventListener("pause", () => seek(Math.min(Math.floor(master.currentTime * fps + 1e-6), frames - 1),
                                                 touched));
    master.addEventListener("ended", () => seek(frames - 1, touched));
  }
  document.getElementById("step-back").addEventListener("click", () => { stop(); seek(at - 1); });
  document.getElementById("step-on").addEventListener("click", () => { stop(); seek(at + 1); });
  document.getElementById("play").addEventListener("click", () => (master && !master.paused ? stop() : play()));
  scrub.addEventListener("input", () => { stop(); seek(Number(scrub.value)); });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    const key = event.key;
    if (key === "ArrowLeft") { stop(); seek(at - 1); } else if (key === "ArrowRight") { stop(); seek(at + 1); }
    else if (key === "k" || key === "K") { stop(); seek(at); } else if (key === "l" || key === "L") { play(); }
    else if (key === "j" || key === "J") {
      stop();
      backwards = setInterval(() => { if (at <= 0) stop(); else seek(at - 1); }, 1000 / fps);
    } else return;
    event.preventDefault();
  });
  for (const s of saved) {
    const link = s.note.querySelector(".at-frame");
    if (link) link.addEventListener("click", () => { stop(); seek(s.frame - first); });
  }
  if (canvas && master) {
    // The ink lies over the picture, not over the video's box: the box is 16:9 and shows a 2.39:1 or 4:3 shot
    // inside it (object-fit: contain), so strokes are kept from 0 to 1 across the picture itself.
    const fit = () => {
      const boxW = master.clientWidth, boxH = master.clientHeight;
      const ratio = master.videoWidth && master.videoHeight ? master.videoWidth / master.videoHeight : boxW / boxH;
      const width = Math.min(boxW, boxH * ratio), height = Math.min(boxH, boxW / ratio);
      canvas.style.left = `${master.offsetLeft + (boxW - width) / 2}px`;
      canvas.style.top = `${master.offsetTop + (boxH - height) / 2}px`;
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
      canvas.width = Math.round(width);
      canvas.height = Math.round(height);
      show();
    };
    new ResizeObserver(fit).observe(master);
    master.addEventListener("loadedmetadata", fit);
    const where = (event) => {
      const box = canvas.getBoundingClientRect();
      return [Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1),
              Math.min(Math.max((event.clientY - box.top) / box.height, 0), 1)];
    };
    const tool = () => (document.querySelector('input[name="tool"]:checked') || { value: "pen" }).value;
    const colour = () => (document.getElementById("colour") || { value: "#ff3b30" }).value;
    canvas.addEventListener("pointerdown", (event) => {
      if (!master.paused) return;
      if (tool() === "text") {
        const words = window.prompt("Text on the frame");
        if (words) strokes.push({ tool: "text", colour: colour(), points: [where(event)], text: words });
        noteDrawing.value = strokes.length ? JSON.stringify(strokes) : "";
        show();
        return;
      }
      drawing = { tool: tool(), colour: colour(), points: [where(event)] };
      strokes.push(drawing);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      if (drawing.tool === "pen") drawing.points.push(where(event)); else drawing.points[1] = where(event);
      show();
    });
    canvas.addEventListener("pointerup", () => {
      drawing = null;
      if (noteDrawing) noteDrawing.value = strokes.length ? JSON.stringify(strokes) : "";
    });
    const clear = document.getElementById("clear-ink");
    if (clear) clear.addEventListener("click", () => { strokes = []; noteDrawing.value = ""; show(); });
  }
  seek(0, false);
}

document.addEventListener("DOMContentLoaded", shotPlayer);

// A frame sequence's thumbnail scrubs on hover: its strip of frames, one cell shown where the pointer is.
function hoverStrips() {
  for (const image of document.querySelectorAll("img.thumb[data-strip]")) {
    const still = image.src, cells = Number(image.dataset.cells);
    image.addEventListener("pointermove", (event) => {
      const box = image.getBoundingClientRect();
      const cell = Math.min(cells - 1, Math.max(0, Math.floor(cells * (event.clientX - box.left) / box.width)));
      if (!image.src.endsWith(image.dataset.strip)) image.src = image.dataset.strip;
      image.style.objectFit = "cover";
      image.style.objectPosition = `${cells > 1 ? (100 * cell) / (cells - 1) : 0}% 0`;
      image.dataset.cell = String(cell);
    });
    image.addEventListener("pointerleave", () => { image.src = still; image.style.objectFit = ""; image.style.objectPosition = ""; });
  }
}

document.addEventListener("DOMContentLoaded", hoverStrips);

// A playlist plays through: each item in order, the one playing marked; a click on an item plays it.
function playThrough() {
  const video = document.getElementById("dailies");
  if (!video || !video.dataset.items) return;
  const movies = video.dataset.items.split("|");
  const items = Array.from(document.querySelectorAll("#playlist-items li"));
  let at = 0;
  const load = (index, play) => {
    at = index;
    video.src = "/files/" + movies[index];
    video.dataset.playing = String(index);
    items.forEach((item, i) => item.classList.toggle("playing", i === index));
    if (play) video.play().catch(() => {});
  };
  video.addEventListener("ended", () => { if (at + 1 < movies.length) load(at + 1, true); });
  items.forEach((item, i) => item.querySelector("strong").addEventListener("click", () => load(i, true)));
  load(0, false);
}

document.addEventListener("DOMContentLoaded", playThrough);
