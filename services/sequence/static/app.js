// The page's only logic: on Go, ask /fib for index 0, 1, 2, … one request after another, and
// show each number as it arrives. Stop aborts the request in flight (the server then drops the
// whole tree of sub-requests behind it).
//
// From step 03 on, each number links to its trace. The answer says which trace it is in, in its
// `traceresponse` header (W3C Trace Context Level 2: 00-<trace id>-<span id>-<flags>), which the
// kit adds once the app propagates context (services/sequence/src/trace_link.rs). The page never
// sends a `traceparent` of its own: the request it makes stays the root of its trace.
"use strict";

const maxIndex = Number(document.body.dataset.maxIndex);
const goButton = document.getElementById("go");
const stopButton = document.getElementById("stop");
const list = document.getElementById("sequence");
const status = document.getElementById("status");
const traceNote = document.getElementById("trace-note");

// Where traces are shown: the trace explorer (EXPLORER_URL, or this page's host at
// EXPLORER_PORT), and Jaeger when JAEGER_UI_URL is set.
const explorerUrl = explorerBase(document.body.dataset.explorerUrl, Number(document.body.dataset.explorerPort));
const jaegerUrl = document.body.dataset.jaegerUrl || "";

let running = null; // the AbortController of the current run, if any
let traces = null; // what the current run learned about its traces (see noteTrace)

goButton.addEventListener("click", go);
stopButton.addEventListener("click", () => running && running.abort());

async function go() {
  if (running) running.abort();
  const run = new AbortController();
  running = run;
  traces = { linked: false, unlinked: false, unsampled: false, explorer: "unknown" };
  showTraceNote();
  list.replaceChildren();
  setRunning(true, "running…");

  for (let index = 0; index <= maxIndex; index++) {
    const item = addItem(index);
    const started = performance.now();
    try {
      const response = await fetch(`/fib?index=${index}`, { signal: run.signal });
      const trace = traceOf(response);
      const text = (await response.text()).trim();
      if (running === run) noteTrace(trace);
      if (!response.ok) {
        return finish(run, item, "error", `✖ ${response.status}: ${text}`, "stopped by an error", trace);
      }
      show(item, "done", text, `${Math.round(performance.now() - started)} ms`, trace);
    } catch (error) {
      if (run.signal.aborted) {
        return finish(run, item, "stopped", "■ stopped", "stopped");
      }
      return finish(run, item, "error", `✖ ${error.message}`, "stopped by an error");
    }
  }
  finish(run, null, null, null, `done: reached the cap (index ${maxIndex}, FIB_MAX_INDEX)`);
}

// One list item per index: a waiting mark until its answer arrives.
function addItem(index) {
  const item = document.createElement("li");
  item.title = `/fib?index=${index}`;
  show(item, "waiting", "…", "");
  list.append(item);
  return item;
}

// The item's number (a link to its trace when there is one to follow), its note, and the links
// to the trace elsewhere.
function show(item, state, value, note, trace) {
  item.className = state;
  const linked = trace && trace.sampled && explorerUrl;
  const valueEl = linked
    ? traceLink(`${explorerUrl}/trace/${trace.traceId}`, "its trace in the trace explorer")
    : document.createElement("span");
  valueEl.className = "value";
  valueEl.textContent = value;
  const noteEl = document.createElement("small");
  noteEl.textContent = note;
  const parts = [valueEl, noteEl];
  if (trace && trace.sampled && jaegerUrl) {
    const jaeger = traceLink(`${jaegerUrl}/trace/${trace.traceId}`, "its trace in Jaeger");
    jaeger.className = "jaeger";
    jaeger.textContent = "Jaeger";
    parts.push(jaeger);
  } else if (trace && !trace.sampled) {
    const unsampled = document.createElement("small");
    unsampled.className = "unsampled";
    unsampled.textContent = "not sampled";
    unsampled.title = "The sampler (OTEL_TRACES_SAMPLER) kept no span of this request's trace.";
    parts.push(unsampled);
  }
  item.replaceChildren(...parts);
}

function traceLink(href, title) {
  const link = document.createElement("a");
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener";
  link.title = title;
  return link;
}

// The trace the server put this request in, from its `traceresponse` header; null when there is
// none (before step 03) or it is not one.
function traceOf(response) {
  const header = response.headers.get("traceresponse") || "";
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header);
  if (!match) return null;
  return { traceId: match[1], spanId: match[2], sampled: (parseInt(match[3], 16) & 1) === 1 };
}

// What the run's answers said about their traces, said once above the numbers.
function noteTrace(trace) {
  if (!trace) traces.unlinked = true;
  else if (!trace.sampled) traces.unsampled = true;
  else traces.linked = true;
  if (trace && traces.explorer === "unknown" && explorerUrl) {
    traces.explorer = "checking";
    checkExplorer(traces);
  }
  showTraceNote();
}

// Asks the explorer whether it runs (./run.sh NN --no-explorer starts the app without it). Its
// answer cannot be read from this page's origin, and need not be: an answer at all is enough.
async function checkExplorer(of) {
  try {
    await fetch(`${explorerUrl}/api/stats`, { mode: "no-cors", cache: "no-store", signal: AbortSignal.timeout(3000) });
    of.explorer = "up";
  } catch {
    of.explorer = "down";
  }
  if (traces === of) showTraceNote();
}

function showTraceNote() {
  const said = [];
  if (traces && traces.unlinked) {
    said.push("No link to a trace yet: the requests of one click are not one trace until step 03 " +
      "propagates the context (each sub-request starts a trace of its own).");
  }
  if (traces && traces.linked) {
    const where = explorerUrl ? `the trace explorer (${explorerUrl})` : "";
    const both = [where, jaegerUrl ? `Jaeger (${jaegerUrl})` : ""].filter(Boolean).join(" and in ");
    if (both) {
      said.push(`Each number links to its trace in ${both}; a trace arrives there a second or so after its answer.`);
    } else {
      said.push("Set EXPLORER_URL or EXPLORER_PORT (or JAEGER_UI_URL) for links to each number's trace.");
    }
  }
  if (traces && traces.explorer === "down") {
    said.push(`The trace explorer does not answer at ${explorerUrl}: its links open once it runs ` +
      "(./run.sh NN starts it beside the app, unless --no-explorer; ./run.sh explorer starts it alone)." +
      (jaegerUrl ? "" : " Using the Collector and Jaeger? Set JAEGER_UI_URL=http://localhost:16686 in .env for links to Jaeger."));
  }
  if (traces && traces.unsampled) {
    said.push("“not sampled”: the sampler (OTEL_TRACES_SAMPLER) kept no span of that trace, so there is nothing to link to.");
  }
  traceNote.textContent = said.join(" ");
  traceNote.hidden = said.length === 0;
  traceNote.classList.toggle("warning", Boolean(traces && traces.explorer === "down"));
}

function finish(run, item, state, value, message, trace) {
  if (item) show(item, state, value, "", trace);
  if (running === run) {
    running = null;
    setRunning(false, message);
  }
}

function setRunning(isRunning, message) {
  goButton.disabled = isRunning;
  stopButton.disabled = !isRunning;
  status.textContent = message;
}

// EXPLORER_URL as given, or else this page's host at EXPLORER_PORT (which also works when the app
// and the explorer listen on 0.0.0.0 and the page is opened from elsewhere); "" for port 0.
function explorerBase(url, port) {
  if (url) return url;
  if (!port) return "";
  const host = location.hostname;
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${bracketed}:${port}`;
}
