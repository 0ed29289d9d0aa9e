// The demo page: passes the settings to <rtmp-broadcaster> (whose own destination form picks the
// service and key), lists what it dispatches, and shows how to watch what reaches the demo's own
// RTMP server (its list comes from /streams.json).
const broadcaster = document.querySelector('rtmp-broadcaster');
const source = document.querySelector('#source');
const noAudio = document.querySelector('#no-audio');
const streamList = document.querySelector('#streams');
const ffplayHint = document.querySelector('#ffplay-hint');
const player = document.querySelector('#player');
const playerNote = document.querySelector('#player-note');
const events = document.querySelector('#events');
const stats = document.querySelector('#stats');

const MAX_EVENTS = 50;

// Attributes, as markup would set them; the element reads them when Go live is pressed.
function applySettings() {
  broadcaster.setAttribute('source', source.value);
  broadcaster.toggleAttribute('no-audio', noAudio.checked);
}
const settings = document.querySelector('#settings');
settings.addEventListener('input', applySettings);
settings.addEventListener('submit', (event) => event.preventDefault());
applySettings();

for (const type of ['rtmp-statechange', 'rtmp-error', 'rtmp-ended']) {
  broadcaster.addEventListener(type, (event) => {
    logEvent(type, event.detail);
    void refreshStreams();
  });
}
// Once a second while live: shown in one line rather than logged.
broadcaster.addEventListener('rtmp-stats', ({ detail }) => {
  stats.textContent = `Last rtmp-stats: ${Math.round(detail.kbps)} kb/s, ${detail.fps} fps, ${(detail.durationMs / 1000).toFixed(1)} s sent.`;
});

function logEvent(type, detail) {
  const item = document.createElement('li');
  const time = new Date().toLocaleTimeString();
  item.textContent = `${time} ${type} ${JSON.stringify(detail)}`;
  if (type === 'rtmp-error') item.className = 'error';
  events.prepend(item);
  while (events.children.length > MAX_EVENTS) events.lastElementChild.remove();
}

async function refreshStreams() {
  let answer;
  try {
    answer = await (await fetch('/streams.json')).json();
  } catch {
    return; // the demo server stopped; the element reports that itself
  }
  ffplayHint.textContent = `ffplay ${answer.server}/demo`;
  streamList.replaceChildren(...answer.streams.map(streamItem));
  if (playing && !answer.streams.some((stream) => stream.flv === playing)) stopPlayer('The broadcast ended.');
}

function streamItem(stream) {
  const item = document.createElement('li');
  const name = document.createElement('strong');
  name.textContent = `live/${stream.name}`;
  const command = document.createElement('code');
  command.textContent = `ffplay ${stream.url}`;
  const play = document.createElement('button');
  play.type = 'button';
  play.textContent = 'Play here';
  play.addEventListener('click', () => void playStream(stream));
  item.append(name, ' is on air: ', command, ' ', play);
  return item;
}

let mpegtsLoading;
let flvPlayer;
/** The HTTP-FLV path being played, if any. */
let playing;

/** mpegts.js plays the embedded server's HTTP-FLV; it is loaded only when asked for. */
function loadMpegts() {
  mpegtsLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/vendor/mpegts.js';
    script.onload = () => {
      window.mpegts.LoggingControl.applyConfig({ enableVerbose: false, enableDebug: false, enableInfo: false });
      resolve(window.mpegts);
    };
    script.onerror = () => reject(new Error('mpegts.js is not installed: run npm install.'));
    document.head.append(script);
  });
  return mpegtsLoading;
}

async function playStream(stream) {
  playerNote.hidden = false;
  try {
    const mpegts = await loadMpegts();
    if (!mpegts.isSupported()) throw new Error('This browser has no Media Source Extensions to play FLV.');
    stopPlayer();
    playing = stream.flv;
    flvPlayer = mpegts.createPlayer(
      { type: 'flv', isLive: true, url: new URL(stream.flv, location.href).href },
      { enableStashBuffer: false, liveBufferLatencyChasing: true },
    );
    flvPlayer.attachMediaElement(player);
    flvPlayer.load();
    player.hidden = false;
    // Muted, or the microphone would hear itself; unmute with the player's controls.
    await player.play().catch(() => {});
    playerNote.textContent = `Playing ${stream.flv}, relayed from the demo's RTMP server (muted: unmute in the player).`;
  } catch (error) {
    playerNote.textContent = `Cannot play here: ${error.message} Use ffplay ${stream.url} instead.`;
  }
}

function stopPlayer(note) {
  flvPlayer?.destroy();
  flvPlayer = undefined;
  playing = undefined;
  player.hidden = true;
  if (note) playerNote.textContent = note;
}

void refreshStreams();
