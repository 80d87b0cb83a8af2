// Drives the browser page of `grym-synth-cli serve` in real headless Chromium (puppeteer-core):
// generate with progress, play, download, variation, loop, continue, regenerate a range, export,
// analyse an upload, the API's field errors,
// the token prompt, and accessibility (accessible names, text contrast, keyboard focus, no
// request leaving the server's origin). Screenshots go to --out.
//
//   node tests/web/web_ui_test.mjs CLI --audioldm DIR --wav2vec2 DIR --out DIR [--docs-screenshot PNG]
//
// Exit status: 0 passed, 1 failed, 77 skipped (no Chromium found; CTest's SKIP_RETURN_CODE).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const skipped = 77;

function parseArguments(argv) {
  const options = { cli: argv[0], audioldm: '', wav2vec2: '', out: path.join(os.tmpdir(), 'grym-web-ui'), docsScreenshot: '' };
  for (let i = 1; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in options) || argv[i + 1] === undefined) throw new Error(`unknown or incomplete option ${argv[i]}`);
    options[name] = argv[i + 1];
  }
  if (!options.cli) throw new Error('usage: web_ui_test.mjs CLI --audioldm DIR --wav2vec2 DIR --out DIR');
  return options;
}

function findChromium() {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];
  for (const candidate of candidates.filter(Boolean)) {
    if (candidate.includes('/')) {
      if (fs.existsSync(candidate)) return candidate;
      continue;
    }
    try {
      return execFileSync('sh', ['-c', `command -v ${candidate}`], { encoding: 'utf8' }).trim();
    } catch { /* not on PATH */ }
  }
  return '';
}

let failures = 0;
function check(condition, what) {
  if (condition) {
    console.log(`ok   ${what}`);
  } else {
    failures++;
    console.log(`FAIL ${what}`);
  }
}

// Starts `serve --port 0` and resolves with its origin once it prints where it listens.
function startServer(cli, extraArguments, home) {
  const child = spawn(cli, ['serve', '--host', '127.0.0.1', '--port', '0', '--models', path.join(home, 'models'), ...extraArguments], {
    env: { ...process.env, HF_HUB_OFFLINE: '1', HF_HOME: path.join(home, 'hf'), XDG_DATA_HOME: path.join(home, 'data') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const origin = new Promise((resolve, reject) => {
    let printed = '';
    const timer = setTimeout(() => reject(new Error(`serve did not say where it listens within 60 s:\n${log}`)), 60000);
    child.stdout.on('data', (chunk) => {
      printed += chunk;
      const match = printed.match(/listening on (http:\/\/[^\s/]+)\/v1\//);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening:\n${log}`));
    });
  });
  return { child, origin, log: () => log };
}

function stopServer(server) {
  if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
}

// A one-second 440 Hz tone as a 16-bit mono WAV, to upload for analysis.
function writeToneWav(file) {
  const rate = 16000;
  const samples = rate;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);  // PCM
  header.writeUInt16LE(1, 22);  // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([header, data]));
}

async function waitForFile(folder, extension, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const done = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith(extension)) : [];
    if (done.length) return path.join(folder, done[0]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return '';
}

async function waitForNamedFile(file, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(file) && fs.statSync(file).size > 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

// A FLAC file's STREAMINFO (the first metadata block): sample rate, bits and length.
function flacStreamInfo(bytes) {
  if (bytes.subarray(0, 4).toString() !== 'fLaC' || (bytes[4] & 0x7f) !== 0) return null;
  const info = bytes.subarray(8, 8 + 34);
  const sampleRate = (info[10] << 12) | (info[11] << 4) | (info[12] >> 4);
  const bits = (((info[12] & 0x01) << 4) | (info[13] >> 4)) + 1;
  const frames = (info[13] & 0x0f) * 2 ** 32 + info.readUInt32BE(14);
  return { sampleRate, bits, frames };
}

// A WAV file's fmt and data chunks: sample rate, bits and length in frames.
function wavInfo(bytes) {
  if (bytes.subarray(0, 4).toString() !== 'RIFF' || bytes.subarray(8, 12).toString() !== 'WAVE') return null;
  const found = {};
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.subarray(at, at + 4).toString();
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'fmt ') found.fmt = { channels: bytes.readUInt16LE(at + 10), sampleRate: bytes.readUInt32LE(at + 12), bits: bytes.readUInt16LE(at + 22) };
    if (id === 'data') found.dataBytes = size;
    at += 8 + size + (size % 2);
  }
  if (!found.fmt || found.dataBytes === undefined) return null;
  return { ...found.fmt, frames: found.dataBytes / (found.fmt.channels * found.fmt.bits / 8) };
}

// Fails the test on any request that leaves the server's origin (blob: URLs the page made
// from its own downloads are of that origin too; data: URLs, such as the icons of Chromium's
// own media controls, are not fetched from anywhere).
async function keepRequestsAtHome(page, origin, foreign) {
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = request.url();
    let requestOrigin = 'null';
    try { requestOrigin = new URL(url).origin; } catch { /* unparsable: counted as foreign */ }
    if (requestOrigin === origin || url.startsWith('data:')) {
      request.continue();
    } else {
      foreign.push(url);
      request.abort();
    }
  });
}

// Every visible control's accessible name, as the browser's accessibility tree gives it.
async function unnamedControls(page) {
  const controls = await page.$$('input, select, textarea, button, a[href], audio[controls], [role="button"], [tabindex]');
  const unnamed = [];
  for (const control of controls) {
    const rendered = await control.evaluate((e) => e.getClientRects().length > 0 || e.type === 'file');
    if (!rendered) continue;
    const node = await page.accessibility.snapshot({ root: control, interestingOnly: false });
    if (!node || !node.name || !node.name.trim())
      unnamed.push(await control.evaluate((e) => e.outerHTML.slice(0, 120)));
  }
  return { count: controls.length, unnamed };
}

// Text whose contrast with what is behind it is below 4.5:1 (WCAG AA for normal text),
// computed from the computed styles: the first opaque background up the tree is behind it.
function lowContrastText() {
  const parse = (colour) => {
    const numbers = colour.match(/[\d.]+/g)?.map(Number) || [0, 0, 0, 0];
    return { rgb: numbers.slice(0, 3), alpha: numbers.length > 3 ? numbers[3] : 1 };
  };
  const luminance = ([r, g, b]) => {
    const channel = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const backgroundOf = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const background = parse(getComputedStyle(e).backgroundColor);
      if (background.alpha >= 1) return background.rgb;
    }
    return [255, 255, 255];
  };
  const failing = [];
  let measured = 0;
  for (const element of document.querySelectorAll('body *')) {
    if (['SCRIPT', 'STYLE', 'OPTION', 'TEMPLATE'].includes(element.tagName) || element.closest('template')) continue;
    const ownText = [...element.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const isControl = ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName) && element.type !== 'file' && element.type !== 'checkbox';
    if (!ownText && !isControl) continue;
    const style = getComputedStyle(element);
    if (style.visibility === 'hidden' || element.getClientRects().length === 0 || style.clip === 'rect(0px, 0px, 0px, 0px)') continue;
    const foreground = parse(style.color);
    const lighter = Math.max(luminance(foreground.rgb), luminance(backgroundOf(element)));
    const darker = Math.min(luminance(foreground.rgb), luminance(backgroundOf(element)));
    const ratio = (lighter + 0.05) / (darker + 0.05);
    measured++;
    if (foreground.alpha < 1 || ratio < 4.5)
      failing.push(`${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} "${(element.textContent || element.value || '').trim().slice(0, 40)}" ${ratio.toFixed(2)}:1`);
  }
  return { measured, failing };
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const chromium = findChromium();
  if (!chromium) {
    console.log('SKIP no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)');
    return skipped;
  }
  let puppeteer;
  try {
    puppeteer = (await import('puppeteer-core')).default;
  } catch (error) {
    console.log(`FAIL puppeteer-core is not installed: run 'npm ci' in tests/web (${error.message})`);
    return 1;
  }

  fs.rmSync(options.out, { recursive: true, force: true });
  const downloads = path.join(options.out, 'downloads');
  fs.mkdirSync(downloads, { recursive: true });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'grym-web-ui-'));
  const tone = path.join(options.out, 'tone.wav');
  writeToneWav(tone);

  const models = [];
  if (options.audioldm) models.push('--audioldm', options.audioldm);
  if (options.wav2vec2) models.push('--wav2vec2', options.wav2vec2);
  const server = startServer(options.cli, models, home);
  const tokenServer = startServer(options.cli, ['--token', 'web-ui-test-token'], fs.mkdtempSync(path.join(home, 'token-')));
  let browser;
  try {
    const origin = await server.origin;
    console.log(`serve listens on ${origin}`);
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      userDataDir: path.join(home, 'chromium'),
      args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--no-first-run'],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const foreign = [];
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    const refusals = [];  // API answers of 4xx/5xx: only the deliberately bad duration is expected
    page.on('response', (response) => {
      if (response.status() >= 400) refusals.push(`${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`);
    });
    await keepRequestsAtHome(page, origin, foreign);
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });

    const loaded = await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
    check(loaded.status() === 200 && loaded.headers()['content-type'].startsWith('text/html'), 'GET / answers the page as text/html');
    check(await page.title() === 'grym-synth', 'the page has its title');

    // Status: both services and the memory in use.
    await page.waitForSelector('#status-body table', { timeout: 20000 });
    const statusText = await page.$eval('#status-body', (e) => e.innerText);
    check(/audioldm/.test(statusText) && /wav2vec2/.test(statusText), 'Status lists the audioldm and wav2vec2 services');
    check(/This server \(resident\)\s+\d/.test(statusText), 'Status shows the memory in use');

    // The API's own message for a bad duration appears beside the field.
    await page.type('#prompt', 'a dog barking in the rain');
    await page.$eval('#duration', (e) => { e.value = '999'; });
    await page.click('#generate-button');
    await page.waitForSelector('#duration-error:not([hidden])', { timeout: 10000 });
    const durationError = await page.$eval('#duration-error', (e) => e.textContent);
    // The limit the API itself states (GET /v1/status), not a number written here.
    const maxDuration = (await (await fetch(`${origin}/v1/status`)).json()).limits.max_duration;
    check(new RegExp(`must be between [\\d.]+ and ${maxDuration} seconds`).test(durationError),
      `the duration error is the API's ("${durationError}", limit ${maxDuration} s)`);
    check(await page.$eval('#duration', (e) => Number(e.max)) === maxDuration, 'the duration field carries the API\'s maximum');
    check(await page.$eval('#duration', (e) => e.getAttribute('aria-invalid') === 'true' && e.getAttribute('aria-describedby').includes('duration-error')),
      'the duration field is marked invalid and described by its error');
    check(await page.$eval('#duration-error', (e) => e.parentElement.contains(document.getElementById('duration'))),
      'the error sits beside the duration field');
    await page.screenshot({ path: path.join(options.out, 'web-ui-field-error.png') });

    // Generate two takes with a locked seed; watch every progress text the page shows.
    await page.evaluate(() => {
      window.progressTexts = [];
      const text = document.getElementById('generate-progress-text');
      new MutationObserver(() => window.progressTexts.push(text.textContent)).observe(text, { childList: true, characterData: true, subtree: true });
    });
    await page.$eval('#duration', (e) => { e.value = '0.5'; });
    await page.$eval('#steps', (e) => { e.value = '60'; });
    await page.$eval('#variations', (e) => { e.value = '2'; });
    await page.click('#seed-locked');
    await page.$eval('#seed', (e) => { e.value = '42'; });
    const started = Date.now();
    await page.click('#generate-button');
    await page.waitForFunction(() => document.querySelectorAll('#clips .clip').length === 2, { timeout: 240000 });
    await page.waitForFunction(() => document.getElementById('generate-progress-text').textContent === 'Done.', { timeout: 30000 });
    console.log(`two takes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const progressTexts = await page.evaluate(() => window.progressTexts);
    check(progressTexts.some((t) => /step \d+ of 60/.test(t)), `per-step progress was shown (${progressTexts.filter((t) => /step/.test(t)).slice(-1)[0] || progressTexts.join(' | ')})`);
    check(progressTexts.some((t) => /Take [12] of 2/.test(t)), 'the progress names the take');
    check(progressTexts.some((t) => /left/.test(t)), 'the progress says how long is left');
    check(await page.$eval('#generate-progress', (e) => e.value === 1), 'the progress bar ends full');
    check(!(await page.$eval('#duration-error', (e) => !e.hidden)), 'the duration error is gone after a good request');

    // The clips: newest first, each playable with its waveform and settings.
    const clips = await page.$$eval('#clips .clip', (items) => items.map((item) => ({
      id: Number(item.dataset.taskId),
      title: item.querySelector('.clip-title').textContent,
      settings: item.querySelector('.settings').innerText,
      src: item.querySelector('audio').src,
    })));
    check(clips.every((c) => c.src.startsWith('blob:')), 'each clip\'s <audio> has a blob: source');
    check(clips[0].id > clips[1].id, 'the newest clip is first');
    check(clips.some((c) => /Seed\s+42/.test(c.settings)) && clips.some((c) => /Seed\s+43/.test(c.settings)),
      'the takes show seeds 42 and 43');
    check(/Steps\s+60/.test(clips[0].settings) && /Scheduler\s+ddim/.test(clips[0].settings), 'the settings are shown with the clip');
    await page.waitForFunction(() => [...document.querySelectorAll('#clips audio')].every((a) => a.readyState >= 1 && a.duration > 0),
      { timeout: 20000 });
    const durations = await page.$$eval('#clips audio', (audios) => audios.map((a) => a.duration));
    check(durations.every((d) => Math.abs(d - 0.5) < 0.05), `the <audio> elements know the clip's duration (${durations.join(', ')} s)`);
    const played = await page.$eval('#clips audio', (audio) => audio.play().then(() => 'played', (e) => e.message));
    check(played === 'played', `the first clip plays (${played})`);
    const inkedPixels = await page.$eval('#clips canvas', (canvas) => {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) inked += pixels[i] > 0 ? 1 : 0;
      return inked;
    });
    check(inkedPixels > 100, `the waveform is drawn on the canvas (${inkedPixels} pixels)`);

    // Downloads: WAV from the clip's blob, FLAC from the audio route's format parameter.
    await page.click('#clips .clip .download-wav');
    const wav = await waitForFile(downloads, '.wav');
    check(wav && fs.readFileSync(wav).subarray(0, 4).toString() === 'RIFF' && fs.statSync(wav).size > 1000, `Download WAV saves a WAV file (${path.basename(wav)})`);
    await page.click('#clips .clip .download-flac');
    const flac = await waitForFile(downloads, '.flac');
    check(flac && fs.readFileSync(flac).subarray(0, 4).toString() === 'fLaC', `Download FLAC saves a FLAC file (${path.basename(flac)})`);

    // Variation of the newest clip: a third clip, marked as a variation.
    await page.click('#clips .clip .make-variation');
    await page.waitForFunction(() => document.querySelectorAll('#clips .clip').length === 3, { timeout: 240000 });
    const variationTitle = await page.$eval('#clips .clip .clip-title', (e) => e.textContent);
    check(variationTitle.startsWith('Variation: a dog barking'), `Variation adds a clip (${variationTitle})`);
    check(/Strength\s+0.5/.test(await page.$eval('#clips .clip .settings', (e) => e.innerText)), 'the variation shows its strength');

    // Cancel a long run once its steps are under way: no clip, and the page says so.
    await page.$eval('#steps', (e) => { e.value = '500'; });
    await page.$eval('#variations', (e) => { e.value = '1'; });
    await page.click('#generate-button');
    await page.waitForFunction(() => /step \d+ of 500/.test(document.getElementById('generate-progress-text').textContent), { timeout: 60000 });
    await page.click('#cancel-button');
    await page.waitForFunction(() => /^Cancelled/.test(document.getElementById('generate-progress-text').textContent), { timeout: 30000 });
    check(await page.$$eval('#clips .clip', (items) => items.length === 3), 'Cancel stops the run without a clip');
    check(await page.$eval('#generate-button', (e) => !e.disabled) && await page.$eval('#cancel-button', (e) => e.disabled),
      'after Cancel, Generate is enabled again and Cancel is not');

    // A seamless loop from the form's checkbox: the API gets loop, the clip plays on repeat.
    await page.$eval('#steps', (e) => { e.value = '10'; });
    await page.$eval('#duration', (e) => { e.value = '0.5'; });
    await page.click('#loop');
    await page.click('#generate-button');
    await page.waitForFunction(() => document.querySelectorAll('#clips .clip').length === 4, { timeout: 240000 });
    await page.click('#loop');  // off again: an edit of a clip is not a loop
    const loopClip = await page.$eval('#clips .clip', (item) => ({
      id: Number(item.dataset.taskId), settings: item.querySelector('.settings').innerText, loops: item.querySelector('audio').loop,
    }));
    const loopTask = await (await fetch(`${origin}/v1/tasks/${loopClip.id}`)).json();
    check(loopTask.request.loop === true, 'the Loop checkbox asks the API for a loop');
    check(/Loop\s+yes/.test(loopClip.settings) && loopClip.loops, 'a loop clip says so and its player repeats');

    // Continue the loop clip by half a second: a longer clip, made by the continue route.
    const newest = '#clips .clip:first-child';
    await page.click(`${newest} .clip-tools summary`);
    await page.$eval(`${newest} .continue-seconds`, (e) => { e.value = '0.5'; });
    await page.click(`${newest} .continue-clip`);
    await page.waitForFunction(() => document.querySelectorAll('#clips .clip').length === 5, { timeout: 240000 });
    const continued = await page.$eval(newest, (item) => ({ id: Number(item.dataset.taskId), title: item.querySelector('.clip-title').textContent }));
    const continuedTask = await (await fetch(`${origin}/v1/tasks/${continued.id}`)).json();
    check(continuedTask.kind === 'continue' && continued.title.startsWith('Continued: '), `Continue makes a continued clip (${continued.title})`);
    check(Math.abs(continuedTask.audio.duration - (loopTask.audio.duration + 0.5)) < 0.05,
      `the continued clip is half a second longer (${loopTask.audio.duration} s -> ${continuedTask.audio.duration} s)`);

    // Regenerate a range of the continued clip: first a range past its end (the API's refusal
    // appears beside the range fields), then a good one.
    await page.click(`${newest} .clip-tools summary`);
    await page.$eval(`${newest} .inpaint-start`, (e) => { e.value = '0.25'; });
    await page.$eval(`${newest} .inpaint-end`, (e) => { e.value = '9'; });
    await page.click(`${newest} .inpaint-clip`);
    await page.waitForSelector(`${newest} .inpaint-tool .tool-error:not([hidden])`, { timeout: 10000 });
    const rangeError = await page.$eval(`${newest} .inpaint-tool .tool-error`, (e) => e.textContent);
    check(/range/.test(rangeError) && /not inside the clip/.test(rangeError), `a range past the clip's end is refused beside the fields ("${rangeError}")`);
    check(await page.$eval(`${newest} .inpaint-end`, (e) => e.getAttribute('aria-invalid') === 'true'), 'the range fields are marked invalid');
    await page.$eval(`${newest} .inpaint-end`, (e) => { e.value = '0.5'; e.dispatchEvent(new Event('input')); });
    await page.click(`${newest} .inpaint-clip`);
    await page.waitForFunction(() => document.querySelectorAll('#clips .clip').length === 6, { timeout: 240000 });
    const inpainted = await page.$eval(newest, (item) => ({ id: Number(item.dataset.taskId), settings: item.querySelector('.settings').innerText }));
    const inpaintedTask = await (await fetch(`${origin}/v1/tasks/${inpainted.id}`)).json();
    check(inpaintedTask.kind === 'inpaint' && inpaintedTask.request.range_start === 0.25 && inpaintedTask.request.range_end === 0.5,
      'Regenerate range inpaints 0.25–0.5 s of the clip');
    check(Math.abs(inpaintedTask.audio.duration - continuedTask.audio.duration) < 0.01, 'the regenerated clip keeps its length');
    check(/Regenerated\s+0.25–0.5 s/.test(inpainted.settings), 'the clip shows the range it regenerated');

    // Export the newest clip: a fade longer than the clip is refused beside the fade field;
    // then FLAC, trimmed, faded and normalised, and WAV 16-bit trimmed.
    await page.click(`${newest} .clip-tools summary`);
    const exportField = (name) => `${newest} .export-tool .export-${name}`;
    await page.$eval(exportField('fade-in'), (e) => { e.value = '30'; });
    await page.click(`${newest} .export-clip`);
    await page.waitForSelector(`${newest} .export-tool .tool-error:not([hidden])`, { timeout: 10000 });
    const fadeError = await page.$eval(`${newest} .export-tool .tool-error`, (e) => e.textContent);
    check(/fade-in 30 s/.test(fadeError) && await page.$eval(exportField('fade-in'), (e) => e.getAttribute('aria-invalid') === 'true'),
      `a fade longer than the clip is refused beside the fade-in field ("${fadeError}")`);
    await page.select(exportField('format'), 'flac');
    for (const [name, value] of [['start', '0.1'], ['end', '0.9'], ['fade-in', '0.05'], ['fade-out', '0.1'], ['lufs', '-20']])
      await page.$eval(exportField(name), (e, v) => { e.value = v; e.dispatchEvent(new Event('input')); }, value);
    await page.click(`${newest} .export-clip`);
    const exportedFlac = path.join(downloads, `a-dog-barking-in-the-rain-${inpainted.id}.flac`);
    check(await waitForNamedFile(exportedFlac), `Export saves the file the server names (${path.basename(exportedFlac)})`);
    const flacInfo = flacStreamInfo(fs.readFileSync(exportedFlac));
    check(flacInfo && flacInfo.bits === 24 && Math.abs(flacInfo.frames / flacInfo.sampleRate - 0.8) < 0.001,
      `the FLAC export is 24-bit and trimmed to 0.8 s (${JSON.stringify(flacInfo)})`);
    await page.waitForFunction((sel) => /^Exported .*gain/.test(document.querySelector(sel).textContent), {}, `${newest} .clip-note`);
    check(true, `the clip says what was exported (${await page.$eval(`${newest} .clip-note`, (e) => e.textContent)})`);
    await page.select(exportField('format'), 'wav16');
    await page.$eval(exportField('lufs'), (e) => { e.value = ''; });
    await page.click(`${newest} .export-clip`);
    const exportedWav = path.join(downloads, `a-dog-barking-in-the-rain-${inpainted.id}.wav`);
    check(await waitForNamedFile(exportedWav), `Export as WAV 16-bit saves ${path.basename(exportedWav)}`);
    const wav16 = wavInfo(fs.readFileSync(exportedWav));
    check(wav16 && wav16.bits === 16 && Math.abs(wav16.frames / wav16.sampleRate - 0.8) < 0.001, `the WAV export is 16-bit and 0.8 s (${JSON.stringify(wav16)})`);
    // The exported FLAC's loudness, measured by the server's own analysis through the page.
    await (await page.$('#analyse-file')).uploadFile(exportedFlac);
    await page.waitForFunction((name) => (document.querySelector('#analysis h3')?.textContent || '') === `Analysis of ${name}`,
      { timeout: 120000 }, path.basename(exportedFlac));
    const loudness = Number((await page.$eval('#analysis', (e) => e.innerText)).match(/Loudness\s+(-?[\d.]+) LUFS/)?.[1]);
    check(Math.abs(loudness + 20) <= 0.5, `the exported FLAC measures -20 LUFS within 0.5 LU (${loudness} LUFS)`);
    await page.click(`${newest} .clip-tools summary`);  // closed again, as a reader finds it

    // Analyse an uploaded WAV: features, transcript and segments.
    const fileInput = await page.$('#analyse-file');
    await fileInput.uploadFile(tone);
    await page.waitForFunction(() => /Analysis of tone\.wav/.test(document.querySelector('#analysis h3')?.textContent || ''), { timeout: 120000 });
    const analysis = await page.$eval('#analysis', (e) => e.innerText);
    check(/Analysis of tone\.wav/.test(analysis), 'the analysis names the uploaded file');
    check(/Duration\s+1 s/.test(analysis) && /Sample rate\s+16000 Hz/.test(analysis), 'the analysis shows the file\'s features');
    check(/Pitch\s+4[34]\d(\.\d+)? Hz/.test(analysis), `the analysis finds the tone's pitch (${analysis.match(/Pitch[^\n]*\n?[^\n]*/)?.[0]})`);
    check(/Transcript/.test(analysis), 'the analysis has a transcript section');
    check(/Segments/.test(analysis) && (await page.$$('#analysis table tbody tr')).length >= 1, 'the analysis lists segments');
    check(await page.$eval('#file-error', (e) => e.hidden), 'no upload error is shown');

    // A file dropped on the Analyse section is analysed the same way.
    await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const drop = new DataTransfer();
      drop.items.add(new File([bytes], 'dropped.wav', { type: 'audio/wav' }));
      const section = document.getElementById('analyse');
      section.dispatchEvent(new DragEvent('dragover', { dataTransfer: drop, bubbles: true, cancelable: true }));
      section.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
    }, fs.readFileSync(tone).toString('base64'));
    await page.waitForFunction(() => /Analysis of dropped\.wav/.test(document.querySelector('#analysis h3')?.textContent || ''), { timeout: 120000 });
    check(true, 'a file dropped on the Analyse section is analysed');

    // Analyse a generated clip from its own button (the raw audio/wav upload).
    await page.click('#clips .clip .analyse-clip');
    await page.waitForFunction(() => /Analysis of a-dog-barking/.test(document.querySelector('#analysis h3')?.textContent || ''), { timeout: 120000 });
    check(true, 'Analyse on a clip analyses it');
    await page.click('#status-refresh');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await page.screenshot({ path: path.join(options.out, 'web-ui-desktop.png'), fullPage: true });
    // The README's picture: the form, the clips and their players, at a readable height.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(options.out, 'web-ui.png'), clip: { x: 0, y: 0, width: 1100, height: 1500 } });

    // Accessibility: names, contrast, keyboard focus. Names and contrast are measured with every
    // clip's Edit and export panel open, so its controls are measured too.
    await page.$$eval('#clips details.clip-tools', (panels) => panels.forEach((p) => { p.open = true; }));
    const names = await unnamedControls(page);
    check(names.count > 15 && names.unnamed.length === 0, `every control has an accessible name (${names.count} controls; unnamed: ${names.unnamed.join(' | ') || 'none'})`);
    const contrast = await page.evaluate(lowContrastText);
    check(contrast.measured > 50 && contrast.failing.length === 0,
      `text contrast is at least 4.5:1 (${contrast.measured} elements; below: ${contrast.failing.join(' | ') || 'none'})`);
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    const darkContrast = await page.evaluate(lowContrastText);
    check(darkContrast.failing.length === 0, `text contrast in the dark scheme too (below: ${darkContrast.failing.join(' | ') || 'none'})`);
    await page.screenshot({ path: path.join(options.out, 'web-ui-dark.png'), fullPage: true });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
    await page.$$eval('#clips details.clip-tools', (panels) => panels.forEach((p) => { p.open = false; }));

    await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
    const focused = [];
    for (let i = 0; i < 140; i++) {
      await page.keyboard.press('Tab');
      focused.push(await page.evaluate(() => {
        const e = document.activeElement;
        const style = getComputedStyle(e);
        return { id: e.id || e.className || e.tagName, outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 };
      }));
    }
    const reached = new Set(focused.map((f) => f.id));
    for (const id of ['prompt', 'duration', 'seed-locked', 'generate-button', 'analyse-file', 'status-refresh'])
      check(reached.has(id), `the keyboard reaches #${id}`);
    check(reached.has('make-variation') && reached.has('button-like download-wav'), 'the keyboard reaches a clip\'s buttons');
    // Past the last control the focus leaves the page (BODY) before it comes round again; inside
    // an <audio> it moves through the player's own buttons, which draw their own focus ring.
    const unmarked = focused.filter((f) => !f.outline && f.id !== 'BODY' && f.id !== 'AUDIO');
    check(unmarked.length === 0, `keyboard focus is visible (${unmarked.map((f) => f.id).join(', ') || 'all outlined'})`);

    // A phone-sized screen: no sideways scrolling. (Not isMobile: switching it reloads the page.)
    await page.setViewport({ width: 390, height: 844 });
    await page.$eval('#clips details.clip-tools', (panel) => { panel.open = true; });  // its fields must fit too
    await new Promise((resolve) => setTimeout(resolve, 300));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `fits a 390 px phone screen without sideways scrolling (${overflow} px over)`);
    await page.screenshot({ path: path.join(options.out, 'web-ui-phone.png'), fullPage: true });
    check(await page.$$eval('.progress', (boxes) => boxes.every((b) => b.hidden === (getComputedStyle(b).display === 'none'))),
      'hidden progress boxes are not displayed');

    check(pageErrors.length === 0, `no script errors (${pageErrors.join(' | ') || 'none'})`);
    const expectedRefusals = ['POST /v1/generate 400', 'POST /v1/generate 400', 'GET /v1/tasks/ID/export 400'];
    const refused = refusals.map((r) => r.replace(/\/v1\/tasks\/\d+\//, '/v1/tasks/ID/'));
    check(refused.length === expectedRefusals.length && expectedRefusals.every((r, i) => refused[i] === r),
      `the only refused requests were the bad duration, range and fade (${refusals.join(', ')})`);
    check(foreign.length === 0, `no request left ${origin} (${foreign.join(', ') || 'none'})`);

    // With a token: the page asks once, keeps it for the tab, and the API answers.
    const tokenOrigin = await tokenServer.origin;
    const tokenPage = await browser.newPage();
    await keepRequestsAtHome(tokenPage, tokenOrigin, foreign);
    await tokenPage.goto(`${tokenOrigin}/`);
    await tokenPage.waitForSelector('#token-dialog[open]', { timeout: 10000 });
    check(true, 'a server with a token makes the page ask for it');
    await tokenPage.type('#token', 'wrong-token');
    await tokenPage.keyboard.press('Enter');
    await tokenPage.waitForSelector('#token-error:not([hidden])', { timeout: 10000 });
    check(true, 'a wrong token is refused and asked for again');
    await tokenPage.type('#token', 'web-ui-test-token');
    await tokenPage.keyboard.press('Enter');
    await tokenPage.waitForSelector('#status-body table', { timeout: 10000 });
    check(await tokenPage.evaluate(() => sessionStorage.getItem('grym-synth-token')) === 'web-ui-test-token', 'the token is kept in sessionStorage');
    await tokenPage.reload();
    await tokenPage.waitForSelector('#status-body table', { timeout: 10000 });
    check(!(await tokenPage.$('#token-dialog[open]')), 'after a reload the page does not ask again');
    check(foreign.length === 0, 'no request left the token server\'s origin either');

    if (options.docsScreenshot) fs.copyFileSync(path.join(options.out, 'web-ui.png'), options.docsScreenshot);
    console.log(`screenshots in ${options.out}`);
  } catch (error) {
    failures++;
    console.log(`FAIL ${error.stack || error}`);
    console.log(`serve's log:\n${server.log()}`);
  } finally {
    if (browser) await browser.close();
    stopServer(server);
    stopServer(tokenServer);
    fs.rmSync(home, { recursive: true, force: true });
  }
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  return failures ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.log(`FAIL ${error.stack || error}`);
  process.exit(1);
});
