// The browser page of `grym-synth-cli serve`: plain modules, no framework, no other host.
// Every request goes to this page's own origin with relative URLs (the server refuses foreign
// origins), JSON bodies say application/json and uploads are multipart or audio/* (the
// server refuses "simple" text/plain POSTs).

const tokenStorageKey = 'grym-synth-token';
const $ = (selector, root = document) => root.querySelector(selector);

// ---------------------------------------------------------------------------------------------
// Talking to the API

class ApiFailure extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field || '';
  }
}

let apiToken = sessionStorage.getItem(tokenStorageKey) || '';
let pendingTokenQuestion = null;

// Shows the token dialog; resolves once a token was entered (rejects when it was dismissed).
// Concurrent 401s share one dialog.
function askForToken(refused) {
  if (pendingTokenQuestion) return pendingTokenQuestion;
  const dialog = $('#token-dialog');
  const input = $('#token');
  const error = $('#token-error');
  error.hidden = !refused;
  error.textContent = refused ? 'The server refused that token. Check it and try again.' : '';
  input.value = '';
  pendingTokenQuestion = new Promise((resolve, reject) => {
    const onClose = () => {
      dialog.removeEventListener('close', onClose);
      pendingTokenQuestion = null;
      const entered = input.value.trim();
      if (dialog.returnValue !== 'cancel' && entered) {
        apiToken = entered;
        sessionStorage.setItem(tokenStorageKey, entered);
        resolve();
      } else {
        reject(new ApiFailure(401, 'This server needs its API token; reload the page to enter it.'));
      }
    };
    dialog.addEventListener('close', onClose);
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
  return pendingTokenQuestion;
}
$('#token-dialog').addEventListener('cancel', (event) => { event.target.returnValue = 'cancel'; });

// fetch() with the token; a 401 asks for the token and tries again.
async function apiFetch(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(options.headers || {});
    if (apiToken) headers.set('Authorization', `Bearer ${apiToken}`);
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401) return response;
    await askForToken(attempt > 0 || Boolean(apiToken));
  }
}

// Throws ApiFailure with the server's message (and the field it names) for any non-2xx answer.
async function checked(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  let field = '';
  try {
    const body = await response.json();
    if (body && body.error) {
      message = body.error.message || message;
      field = body.error.field || '';
    }
  } catch { /* not JSON: keep the status line */ }
  throw new ApiFailure(response.status, message, field);
}

async function apiJson(path, options = {}) {
  return (await checked(await apiFetch(path, options))).json();
}

function postJson(path, body) {
  return apiJson(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const isFinished = (state) => state === 'succeeded' || state === 'failed' || state === 'cancelled';

// Follows a task's Server-Sent Events (read with fetch, since EventSource cannot send the
// token) and resolves with its final status. Falls back to polling if the stream breaks.
async function followTask(id, onStatus) {
  let last = null;
  try {
    const response = await checked(await apiFetch(`/v1/tasks/${id}/events`, { headers: { Accept: 'text/event-stream' } }));
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value.replace(/\r\n/g, '\n');
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5)).join('\n');
        if (!data) continue;
        last = JSON.parse(data);
        onStatus(last);
      }
    }
  } catch (error) {
    if (error instanceof ApiFailure && error.status !== 503) throw error;
  }
  while (!last || !isFinished(last.state)) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    last = await apiJson(`/v1/tasks/${id}`);
    onStatus(last);
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers

function formatSeconds(seconds) {
  if (!(seconds >= 0)) return '';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
}

function formatBytes(bytes) {
  if (!(bytes > 0)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatNumber(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return typeof value === 'number' ? String(Number(value.toFixed(digits))) : String(value);
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function definitionList(className, rows) {
  const list = element('dl', { class: className });
  for (const [term, value] of rows) {
    if (value === undefined || value === '') continue;
    list.append(element('dt', { text: term }), element('dd', { text: value }));
  }
  return list;
}

function table(caption, headings, rows) {
  const head = element('tr', {}, ...headings.map((h) => element('th', { scope: 'col', text: h })));
  const body = element('tbody', {}, ...rows.map((cells) => element('tr', {}, ...cells.map((c) => element('td', { text: c })))));
  // Focusable, so a table wider than a phone can be scrolled with the arrow keys.
  return element('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': caption },
    element('table', {}, element('caption', { class: 'visually-hidden', text: caption }), element('thead', {}, head), body));
}

function showConnectionError(error) {
  const banner = $('#connection-error');
  banner.textContent = error ? `The server did not answer: ${error.message}` : '';
  banner.hidden = !error;
}

// ---------------------------------------------------------------------------------------------
// Generate

const generateForm = $('#generate-form');
const generateFields = ['prompt', 'negative_prompt', 'duration', 'steps', 'guidance', 'seed', 'scheduler', 'variations', 'loop'];
const seedInput = $('#seed');
const seedLocked = $('#seed-locked');
let activeRun = null;  // {ids, cancelled} while a generation or variation runs

seedLocked.addEventListener('change', () => {
  seedInput.disabled = !seedLocked.checked;
  $('#seed-note').textContent = seedLocked.checked ? 'Locked: every run uses this seed.' : 'Unlocked: a new random seed each time.';
  if (seedLocked.checked && seedInput.value === '') seedInput.value = String(Math.floor(Math.random() * 2 ** 31));
});

function clearFieldErrors() {
  for (const name of [...generateFields, 'generate']) {
    const message = $(`#${name}-error`);
    message.hidden = true;
    message.textContent = '';
    const input = document.getElementById(name);
    if (input && input !== generateForm) input.removeAttribute('aria-invalid');
  }
}

// The API names the field at fault; its message starts with the field's name, which the
// page already shows as the label.
function showFieldError(failure) {
  const field = generateFields.includes(failure.field) ? failure.field : 'generate';
  const message = $(`#${field}-error`);
  message.textContent = failure.field && field !== 'generate' ? failure.message.replace(`${failure.field}: `, '') : failure.message;
  message.hidden = false;
  const input = document.getElementById(field);
  if (field !== 'generate' && input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
}

// Number fields are sent as typed numbers; what the API refuses comes back with its field.
function readGenerateForm() {
  const numberOf = (id) => {
    const text = document.getElementById(id).value.trim();
    return text === '' ? undefined : Number(text);
  };
  const request = {
    prompt: $('#prompt').value,
    negative_prompt: $('#negative_prompt').value,
    duration: numberOf('duration'),
    steps: numberOf('steps'),
    guidance: numberOf('guidance'),
    scheduler: $('#scheduler').value,
    variations: numberOf('variations'),
  };
  if (seedLocked.checked) request.seed = numberOf('seed');
  if ($('#loop').checked) request.loop = true;
  for (const key of Object.keys(request)) if (request[key] === undefined) delete request[key];
  return request;
}

function setBusy(busy) {
  $('#generate-button').disabled = busy;
  $('#cancel-button').disabled = !busy;
  for (const button of document.querySelectorAll('.make-variation, .inpaint-clip, .continue-clip')) button.disabled = busy;
  generateForm.setAttribute('aria-busy', String(busy));
}

function describeProgress(statuses, title) {
  const total = statuses.length;
  const fraction = statuses.reduce((sum, s) => sum + (isFinished(s.state) ? 1 : s.progress?.fraction || 0), 0) / total;
  const current = statuses.findIndex((s) => s.state === 'running');
  const waiting = statuses.filter((s) => s.state === 'queued' || s.state === 'pending').length;
  let text;
  if (current >= 0) {
    const p = statuses[current].progress || {};
    const take = total > 1 ? `Take ${current + 1} of ${total}: ` : '';
    const step = p.total_steps > 0 ? `step ${p.step} of ${p.total_steps}` : (p.stage || 'working');
    const left = p.seconds_remaining >= 0 ? ` · about ${formatSeconds(p.seconds_remaining)} left` : '';
    text = `${take}${step}${left}`;
  } else if (waiting === total) {
    text = 'Waiting in the queue…';
  } else {
    text = `${statuses.filter((s) => isFinished(s.state)).length} of ${total} finished`;
  }
  $('#generate-progress-label').textContent = title;
  $('#generate-progress').value = fraction;
  $('#generate-progress-text').textContent = text;
}

// Follows every task of one run, adding each clip to the results as it finishes.
async function runGeneration(ids, title) {
  activeRun = { ids, cancelled: false };
  setBusy(true);
  $('#generate-progress-box').hidden = false;
  const statuses = ids.map((id) => ({ id, state: 'queued', progress: {} }));
  describeProgress(statuses, title);
  const outcomes = [];
  try {
    await Promise.all(ids.map(async (id, index) => {
      const final = await followTask(id, (status) => {
        statuses[index] = status;
        describeProgress(statuses, title);
      });
      outcomes.push(final.state);
      if (final.state === 'succeeded') await addClip(await apiJson(`/v1/tasks/${id}`));
      else if (final.state === 'failed') showFieldError(new ApiFailure(500, `Generation failed: ${final.error || 'unknown error'}`));
    }));
  } catch (error) {
    showFieldError(error instanceof ApiFailure ? error : new ApiFailure(0, error.message));
  } finally {
    const cancelled = outcomes.filter((state) => state === 'cancelled').length;
    $('#generate-progress-text').textContent = cancelled ? `Cancelled (${cancelled} of ${ids.length} not made).` : 'Done.';
    activeRun = null;
    setBusy(false);
  }
}

generateForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (activeRun) return;
  clearFieldErrors();
  const request = readGenerateForm();
  let accepted;
  try {
    accepted = await postJson('/v1/generate', request);
  } catch (error) {
    showFieldError(error instanceof ApiFailure ? error : new ApiFailure(0, error.message));
    return;
  }
  await runGeneration(accepted.ids || [accepted.id], `Generating “${request.prompt.trim()}”`);
});

$('#cancel-button').addEventListener('click', async () => {
  if (!activeRun) return;
  activeRun.cancelled = true;
  $('#generate-progress-text').textContent = 'Cancelling…';
  await Promise.allSettled(activeRun.ids.map((id) => apiFetch(`/v1/tasks/${id}`, { method: 'DELETE' })));
});

// ---------------------------------------------------------------------------------------------
// Results

// Draws the clip's envelope: the smallest and largest sample under each pixel column.
function drawWaveform(canvas, samples) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  const style = getComputedStyle(document.documentElement);
  context.clearRect(0, 0, width, height);
  context.fillStyle = style.getPropertyValue('--wave').trim() || '#1d4e89';
  const middle = height / 2;
  const perColumn = samples.length / width;
  for (let x = 0; x < width; x++) {
    const from = Math.floor(x * perColumn);
    const to = Math.max(from + 1, Math.floor((x + 1) * perColumn));
    let low = 0;
    let high = 0;
    for (let i = from; i < to && i < samples.length; i++) {
      if (samples[i] < low) low = samples[i];
      if (samples[i] > high) high = samples[i];
    }
    const top = middle - Math.min(1, high) * middle;
    const bottom = middle - Math.max(-1, low) * middle;
    context.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
}

async function decodeSamples(blob, sampleRate) {
  const context = new OfflineAudioContext(1, 1, sampleRate || 16000);
  const decoded = await context.decodeAudioData(await blob.arrayBuffer());
  return decoded.getChannelData(0);
}

function saveBlob(blob, fileName) {
  const link = element('a', { href: URL.createObjectURL(blob), download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

function clipFileName(task, extension) {
  const words = (task.request?.prompt || 'clip').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  return `${words || 'clip'}-${task.id}.${extension}`;
}

async function addClip(task) {
  const wav = await (await checked(await apiFetch(`/v1/tasks/${task.id}/audio?format=wav`))).blob();
  const item = $('#clip-template').content.firstElementChild.cloneNode(true);
  const request = task.request || {};
  const kinds = { variation: 'Variation: ', inpaint: 'Regenerated range: ', continue: 'Continued: ' };
  const title = `${kinds[task.kind] || ''}${request.prompt || 'clip'}`;
  item.dataset.taskId = task.id;
  $('.clip-title', item).textContent = title;
  const audio = $('audio', item);
  audio.src = URL.createObjectURL(wav);
  audio.loop = Boolean(request.loop);  // a seamless loop plays on repeat
  audio.setAttribute('aria-label', `Play ${title}`);
  const canvas = $('canvas', item);
  canvas.setAttribute('aria-label', `Waveform of ${title}`);
  const seed = task.result?.seed ?? request.seed;
  $('.settings', item).replaceWith(definitionList('settings', [
    ['Duration', `${formatNumber(task.audio?.duration)} s`],
    ['Steps', String(request.steps ?? '')],
    ['Guidance', String(request.guidance ?? '')],
    ['Scheduler', request.scheduler || ''],
    ['Seed', seed === undefined ? '' : String(seed)],
    ['Negative prompt', request.negative_prompt || ''],
    ['Strength', request.strength === undefined ? '' : String(request.strength)],
    ['Loop', request.loop ? 'yes' : ''],
    ['Regenerated', request.range_start === undefined ? '' : `${formatNumber(request.range_start)}–${formatNumber(request.range_end)} s`],
    ['Sample rate', task.audio ? `${task.audio.sample_rate} Hz` : ''],
    ['Made in', task.metrics?.generation_seconds ? `${formatNumber(task.metrics.generation_seconds, 1)} s` : ''],
  ]));
  const note = $('.clip-note', item);
  if (task.result?.random_weights) note.textContent = 'This model has random weights: the clip is noise, not the prompt.';

  const wavButton = $('.download-wav', item);
  const flacButton = $('.download-flac', item);
  wavButton.href = audio.src;
  wavButton.download = clipFileName(task, 'wav');
  wavButton.setAttribute('aria-label', `Download ${title} as WAV`);
  flacButton.removeAttribute('download');
  flacButton.href = `/v1/tasks/${task.id}/audio?format=flac`;
  flacButton.setAttribute('aria-label', `Download ${title} as FLAC`);
  flacButton.addEventListener('click', async (event) => {
    event.preventDefault();  // the token goes in a header, which a plain link cannot send
    try {
      saveBlob(await (await checked(await apiFetch(flacButton.getAttribute('href')))).blob(), clipFileName(task, 'flac'));
    } catch (error) {
      note.textContent = `Download failed: ${error.message}`;
    }
  });

  const variationButton = $('.make-variation', item);
  variationButton.setAttribute('aria-label', `Make a variation of ${title}`);
  variationButton.disabled = Boolean(activeRun);
  variationButton.addEventListener('click', async () => {
    if (activeRun) return;
    clearFieldErrors();
    try {
      const accepted = await postJson(`/v1/tasks/${task.id}/variation`, { strength: 0.5 });
      await runGeneration([accepted.id], `Variation of “${request.prompt || 'clip'}”`);
    } catch (error) {
      note.textContent = `Variation failed: ${error.message}`;
    }
  });

  setUpClipTools(item, task, title);

  const analyseButton = $('.analyse-clip', item);
  analyseButton.setAttribute('aria-label', `Analyse ${title}`);
  analyseButton.addEventListener('click', () => {
    document.getElementById('analyse').scrollIntoView({ behavior: 'smooth' });
    analyseUpload(wav, clipFileName(task, 'wav'));
  });

  $('#clips').prepend(item);
  $('#results-empty').hidden = true;
  if (seed !== undefined && !seedLocked.checked) seedInput.value = String(seed);
  try {
    drawWaveform(canvas, await decodeSamples(wav, task.audio?.sample_rate));
  } catch (error) {
    canvas.setAttribute('aria-label', `Waveform of ${title} (not drawn: ${error.message})`);
  }
}

// The clip's Edit and export panel: regenerate a range (inpaint), continue, export. Each
// fieldset shows the API's refusal beside the control of the field it names.
function toolFailure(fieldset, failure) {
  const box = $('.tool-error', fieldset);
  box.textContent = failure.message;
  box.hidden = false;
  let focused = false;
  for (const input of fieldset.querySelectorAll('[data-field]')) {
    if (input.dataset.field !== failure.field) continue;
    input.setAttribute('aria-invalid', 'true');
    if (!focused) input.focus();
    focused = true;
  }
}

function clearToolFailure(fieldset) {
  const box = $('.tool-error', fieldset);
  box.textContent = '';
  box.hidden = true;
  for (const input of fieldset.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

// The Generate form's settings for an edit of a clip, with the clip's prompt when the form has none.
function editRequest(request) {
  const settings = readGenerateForm();
  delete settings.variations;
  delete settings.loop;
  if (!settings.prompt.trim()) settings.prompt = request.prompt || '';
  return settings;
}

// "rain-3.flac" from 'attachment; filename="rain-3.flac"'.
function attachmentName(response, fallback) {
  const match = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  return match ? match[1] : fallback;
}

let toolCount = 0;

function setUpClipTools(item, task, title) {
  const request = task.request || {};
  const duration = task.audio?.duration || 0;
  const note = $('.clip-note', item);
  $('summary', item).setAttribute('aria-label', `Edit and export ${title}`);
  for (const fieldset of item.querySelectorAll('.tool')) {
    const box = $('.tool-error', fieldset);
    box.id = `tool-error-${++toolCount}`;
    for (const input of fieldset.querySelectorAll('[data-field]')) input.setAttribute('aria-describedby', box.id);
  }
  const rounded = (seconds) => String(Number(seconds.toFixed(2)));
  $('.inpaint-start', item).value = rounded(duration * 0.25);
  $('.inpaint-end', item).value = rounded(duration * 0.5);
  $('.export-end', item).value = rounded(duration);
  for (const input of item.querySelectorAll('.tool [data-field]'))
    input.addEventListener('input', () => clearToolFailure(input.closest('fieldset')));

  const inpaintTool = $('.inpaint-tool', item);
  const inpaintButton = $('.inpaint-clip', item);
  inpaintButton.setAttribute('aria-label', `Regenerate the range of ${title}`);
  inpaintButton.disabled = Boolean(activeRun);
  inpaintButton.addEventListener('click', async () => {
    if (activeRun) return;
    clearToolFailure(inpaintTool);
    const start = $('.inpaint-start', item).value.trim();
    const end = $('.inpaint-end', item).value.trim();
    const body = { ...editRequest(request), inpaint: task.id, range: `${start}:${end}` };
    delete body.duration;  // the clip keeps its length
    try {
      const accepted = await postJson('/v1/generate', body);
      await runGeneration([accepted.id], `Regenerating ${start}–${end} s of “${body.prompt}”`);
    } catch (error) {
      toolFailure(inpaintTool, error instanceof ApiFailure ? error : new ApiFailure(0, error.message));
    }
  });

  const continueTool = $('.continue-tool', item);
  const continueButton = $('.continue-clip', item);
  continueButton.setAttribute('aria-label', `Continue ${title}`);
  continueButton.disabled = Boolean(activeRun);
  continueButton.addEventListener('click', async () => {
    if (activeRun) return;
    clearToolFailure(continueTool);
    const seconds = $('.continue-seconds', item).value.trim();
    const body = { ...editRequest(request), continue: task.id, duration: seconds === '' ? undefined : Number(seconds) };
    try {
      const accepted = await postJson('/v1/generate', body);
      await runGeneration([accepted.id], `Continuing “${body.prompt}” by ${seconds} s`);
    } catch (error) {
      toolFailure(continueTool, error instanceof ApiFailure ? error : new ApiFailure(0, error.message));
    }
  });

  // Export goes through GET /v1/tasks/{id}/export (the same export as the app and the CLI);
  // blank fields are left out, so the server's defaults apply.
  const exportTool = $('.export-tool', item);
  const exportButton = $('.export-clip', item);
  exportButton.setAttribute('aria-label', `Export ${title}`);
  exportButton.addEventListener('click', async () => {
    clearToolFailure(exportTool);
    const query = new URLSearchParams();
    for (const input of exportTool.querySelectorAll('[data-field]')) {
      const value = input.value.trim();
      if (value !== '') query.set(input.dataset.field, value);
    }
    exportButton.disabled = true;
    try {
      const response = await checked(await apiFetch(`/v1/tasks/${task.id}/export?${query}`));
      const extension = { flac: 'flac', ogg: 'ogg' }[query.get('format')] || 'wav';
      const name = attachmentName(response, clipFileName(task, extension));
      saveBlob(await response.blob(), name);
      const gain = response.headers.get('X-Export-Gain-dB');
      const clipped = response.headers.get('X-Export-Clipped') === 'true';
      note.textContent = `Exported ${name} (${formatNumber(Number(response.headers.get('X-Export-Duration')))} s` +
        `${gain === null ? '' : `, gain ${Number(gain) > 0 ? '+' : ''}${formatNumber(Number(gain), 1)} dB`})` +
        `${clipped ? '. Its peak went past full scale and was clipped: choose a lower loudness or WAV 32-bit float.' : '.'}`;
    } catch (error) {
      toolFailure(exportTool, error instanceof ApiFailure ? error : new ApiFailure(0, error.message));
    } finally {
      exportButton.disabled = false;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Analyse

const dropZone = $('#drop-zone');
const fileInput = $('#analyse-file');

function showFileError(message) {
  const box = $('#file-error');
  box.textContent = message;
  box.hidden = !message;
}

function renderAnalysis(task, name) {
  const data = task.result || {};
  const features = data.features || {};
  const patterns = data.patterns || {};
  const model = data.model || {};
  const heading = element('h3', { text: `Analysis of ${name}` });
  const featureRows = [
    ['Duration', features.duration_s === undefined ? '' : `${formatNumber(features.duration_s)} s`],
    ['Sample rate', features.sample_rate ? `${features.sample_rate} Hz` : ''],
    ['Channels', features.channels ? String(features.channels) : ''],
    ['Peak', features.peak_dbfs === undefined ? '' : `${formatNumber(features.peak_dbfs, 1)} dBFS`],
    ['RMS', features.rms_dbfs === undefined ? '' : `${formatNumber(features.rms_dbfs, 1)} dBFS`],
    ['Loudness', features.loudness_lufs === undefined ? '' : `${formatNumber(features.loudness_lufs, 1)} LUFS`],
    ['True peak', features.true_peak_dbtp === undefined ? '' : `${formatNumber(features.true_peak_dbtp, 1)} dBTP`],
    ['Loudness range', features.loudness_range_lu === undefined ? '' : `${formatNumber(features.loudness_range_lu, 1)} LU`],
    ['Spectral centroid', features.spectral_centroid_hz === undefined ? '' : `${formatNumber(features.spectral_centroid_hz, 0)} Hz`],
    ['Spectral roll-off', features.spectral_rolloff_hz === undefined ? '' : `${formatNumber(features.spectral_rolloff_hz, 0)} Hz`],
    ['Spectral flatness', features.spectral_flatness === undefined ? '' : formatNumber(features.spectral_flatness, 3)],
    ['Zero-crossing rate', features.zero_crossing_rate === undefined ? '' : formatNumber(features.zero_crossing_rate, 3)],
    ['Tempo', features.tempo_bpm ? `${formatNumber(features.tempo_bpm, 1)} BPM` : (features.tempo_confidence !== undefined ? 'none found' : '')],
    ['Pitch', features.pitch_hz ? `${formatNumber(features.pitch_hz, 1)} Hz` : (features.voiced_ratio !== undefined ? 'unpitched' : '')],
    ['Voiced', features.voiced_ratio === undefined ? '' : `${formatNumber(features.voiced_ratio * 100, 0)} %`],
    ['Onsets', features.onset_count === undefined ? '' : String(features.onset_count)],
    ['Analysed in', task.metrics?.analysis_seconds === undefined ? '' : `${formatNumber(task.metrics.analysis_seconds, 2)} s`],
  ];
  // Fields the page does not know yet are shown as they come.
  const known = new Set(['duration_s', 'sample_rate', 'peak', 'peak_dbfs', 'rms', 'rms_dbfs', 'loudness_lufs', 'spectral_centroid_hz',
    'true_peak_dbtp', 'loudness_range_lu', 'units', 'channels',
    'spectral_rolloff_hz', 'spectral_flatness', 'zero_crossing_rate', 'tempo_bpm', 'tempo_confidence', 'onset_count', 'onsets_s',
    'pitch_hz', 'pitch_mean_hz', 'voiced_ratio', 'silent_regions', 'segment_boundaries_s', 'wav2vec2', 'transcript']);
  for (const [key, value] of Object.entries(features))
    if (!known.has(key) && (typeof value === 'number' || typeof value === 'string'))
      featureRows.push([key, formatNumber(value, 3) + (features.units?.[key] ? ` ${features.units[key]}` : '')]);

  const transcript = features.transcript;
  const transcriptBlock = element('div', {},
    element('h4', { text: 'Transcript' }),
    element('p', {
      class: transcript ? 'transcript' : 'hint',
      text: transcript ? transcript : transcript === '' ? '(no words recognised)'
        : model.available === false ? `No transcript: ${model.missing || 'no wav2vec2 model is loaded'}.`
        : 'No transcript: this wav2vec2 model has no speech-recognition head.',
    }));

  const duration = features.duration_s || task.request?.duration || 0;
  const boundaries = patterns.segments?.boundaries_s || features.segment_boundaries_s || [];
  const cuts = [0, ...boundaries.filter((t) => t > 0 && t < duration), duration];
  const segmentRows = [];
  for (let i = 0; i + 1 < cuts.length; i++)
    segmentRows.push([String(i + 1), `${formatNumber(cuts[i])} s`, `${formatNumber(cuts[i + 1])} s`]);
  const segmentsBlock = element('div', {},
    element('h4', { text: `Segments${patterns.segments?.source ? ` (from ${patterns.segments.source})` : ''}` }),
    segmentRows.length ? table('Segments', ['#', 'Start', 'End'], segmentRows) : element('p', { class: 'hint', text: 'No segments.' }));
  const silent = patterns.silent_regions || features.silent_regions || [];
  if (silent.length)
    segmentsBlock.append(element('p', { text: `Silent: ${silent.map((r) => `${formatNumber(r.start)}–${formatNumber(r.end)} s`).join(', ')}` }));

  $('#analysis').replaceChildren(heading, element('h4', { text: 'Features' }), definitionList('features', featureRows),
    transcriptBlock, segmentsBlock);
}

async function analyseUpload(blob, name) {
  showFileError('');
  const box = $('#analyse-progress-box');
  const bar = $('#analyse-progress');
  const text = $('#analyse-progress-text');
  box.hidden = false;
  bar.value = 0;
  $('#analyse-progress-label').textContent = `Analysing ${name}`;
  text.textContent = 'Uploading…';
  try {
    let accepted;
    if (blob instanceof File) {
      const form = new FormData();
      form.append('file', blob, name);
      accepted = await apiJson('/v1/analyze', { method: 'POST', body: form });
    } else {
      accepted = await apiJson('/v1/analyze', { method: 'POST', headers: { 'Content-Type': blob.type || 'audio/wav' }, body: blob });
    }
    const final = await followTask(accepted.id, (status) => {
      bar.value = isFinished(status.state) ? 1 : status.progress?.fraction || 0;
      text.textContent = status.state === 'running' ? `${status.progress?.stage || 'working'}…` : `${status.state}`;
    });
    if (final.state !== 'succeeded') throw new ApiFailure(0, `the analysis ${final.state}${final.error ? `: ${final.error}` : ''}`, 'file');
    text.textContent = 'Done.';
    renderAnalysis(await apiJson(`/v1/tasks/${accepted.id}`), name);
  } catch (error) {
    text.textContent = '';
    box.hidden = true;
    showFileError(`Could not analyse ${name}: ${error.message}`);
  }
}

fileInput.addEventListener('change', () => {
  const file = fileInput.files[0];
  if (file) analyseUpload(file, file.name);
  fileInput.value = '';
});

// The whole section accepts a dropped file, so a phone-sized drop target is not needed.
const analyseSection = $('#analyse');
analyseSection.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
analyseSection.addEventListener('dragleave', (event) => {
  if (!analyseSection.contains(event.relatedTarget)) dropZone.classList.remove('dragging');
});
analyseSection.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  const file = event.dataTransfer.files[0];
  if (file) analyseUpload(file, file.name);
});
// A file dropped anywhere else would make the browser leave the page for it.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

// ---------------------------------------------------------------------------------------------
// Status

// The fields' ranges as the server's limits give them (the API still has the last word).
function applyLimits(limits) {
  if (!limits) return;
  const ranges = {
    duration: [limits.min_duration, limits.max_duration],
    steps: [1, limits.max_steps],
    guidance: [0, limits.max_guidance],
    variations: [1, limits.max_variations],
  };
  for (const [id, [min, max]] of Object.entries(ranges)) {
    const input = document.getElementById(id);
    if (min !== undefined) input.min = String(min);
    if (max !== undefined) input.max = String(max);
  }
  if (limits.max_prompt_chars) $('#prompt').maxLength = limits.max_prompt_chars;
}

function renderStatus(status, models) {
  applyLimits(status.limits);
  const services = ['audioldm', 'wav2vec2'].map((id) => status[id] || { id, status: 'not configured' });
  const folders = models?.services || {};
  const serviceRows = services.map((s) => [
    s.id,
    s.status + (s.message ? ` — ${s.message}` : ''),
    [s.device, s.precision].filter(Boolean).join(', ') || '—',
    formatBytes(s.estimated_memory_bytes),
    folders[s.id]?.problem || s.model_path || folders[s.id]?.folder || '—',
  ]);
  const memory = status.memory || {};
  const memoryRows = [
    ['This server (resident)', formatBytes(memory.process_rss_bytes)],
    ['This server (peak)', formatBytes(memory.process_peak_rss_bytes)],
    ['Heap in use', formatBytes(memory.heap_in_use_bytes)],
    ['System', `${formatBytes(memory.system_used_bytes)} of ${formatBytes(memory.system_total_bytes)} used`],
  ];
  if (memory.gpu) memoryRows.push(['GPU', `${formatBytes(memory.gpu.used_bytes)} of ${formatBytes(memory.gpu.total_bytes)} used`]);
  if (memory.torch_cuda) memoryRows.push(['Torch CUDA allocated', formatBytes(memory.torch_cuda.allocated_bytes)]);
  const queue = status.queue || {};
  memoryRows.push(['Queue', `${queue.running ?? 0} running, ${queue.queued ?? 0} waiting`]);

  const parts = [element('h3', { text: 'Models' }),
    table('Model services', ['Service', 'State', 'Device', 'Memory', 'Folder'], serviceRows)];
  const installed = models?.models || [];
  if (installed.length)
    parts.push(element('h4', { text: 'Installed models' }),
      table('Installed models', ['Name', 'Kind', 'Size', 'Usable'],
        installed.map((m) => [m.name, m.kind || '—', formatBytes(m.bytes), m.supported ? 'yes' : `no${m.reason ? ` — ${m.reason}` : ''}`])));
  parts.push(element('h3', { text: 'Memory' }), definitionList('features', memoryRows));
  $('#status-body').replaceChildren(...parts);
}

async function refreshStatus() {
  try {
    const [status, models] = await Promise.all([apiJson('/v1/status'), apiJson('/v1/models').catch(() => null)]);
    renderStatus(status, models);
    showConnectionError(null);
  } catch (error) {
    showConnectionError(error);
  }
}

$('#status-refresh').addEventListener('click', refreshStatus);
setInterval(() => { if (document.visibilityState === 'visible' && !pendingTokenQuestion) refreshStatus(); }, 10000);
refreshStatus();
