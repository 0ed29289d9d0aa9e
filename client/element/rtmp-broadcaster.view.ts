// What <rtmp-broadcaster> shows under its preview with `controls`: the buttons, the status line,
// the microphone meter, the device pickers and the error alert, from the element's current state.
import { html, nothing, type TemplateResult } from 'lit';
import type { BroadcastState, ClientStats } from '../broadcast-client.js';
import type { ErrorCode } from '../protocol.js';
import { errorMessageKey, type ErrorMessageKey, type RtmpBroadcasterStrings } from './rtmp-broadcaster.strings.js';

/** What the error line shows: a code the strings table explains, and the words that came with it. */
export interface ErrorLine {
  code?: ErrorCode;
  /** The browser's reason when the camera or microphone did not open (`NotAllowedError`…). */
  mediaFailure?: string;
  /** The message to show instead of the code's own, for a slip the element caught itself. */
  helpKey?: ErrorMessageKey;
  message: string;
}

/** Everything the controls show, and what their buttons do. */
export interface ControlsView {
  state: BroadcastState;
  strings: RtmpBroadcasterStrings;
  /** In the green room: the Preview button has done its work. */
  previewing: boolean;
  /** The page gave its own stream: there is nothing to preview. */
  pageStream: boolean;
  stats: ClientStats | undefined;
  /** The destinations' hosts (never their keys), for "Connecting to…"; empty when the server chooses. */
  hosts: string;
  /** While reconnecting: seconds until the next try (a destination) or the deadline, and why. */
  reconnect: { seconds: number; cause: 'destination' | 'offline' | 'server' } | undefined;
  /** The average of the bitrates reported while on air, for the end summary. */
  averageKbps: number | undefined;
  errorLine: ErrorLine | undefined;
  audioMuted: boolean;
  videoMuted: boolean;
  /** The broadcast carries a microphone, so it gets a mute toggle. */
  hasAudio: boolean;
  /** The microphone level, 0–100; no meter when undefined. */
  meterLevel: number | undefined;
  /** The device pickers, rendered by their controller. */
  devices: TemplateResult | typeof nothing;
  on: { preview(): void; start(): void; pause(): void; stop(): void; mute(kind: 'audio' | 'video'): void };
}

// The buttons are aria-disabled rather than disabled, so they keep the keyboard focus when the
// state changes under it; each handler ignores a click its button's state does not allow.

/** The bar under the preview and the alert region. */
export function renderControls(view: ControlsView) {
  const { state, strings, errorLine, on } = view;
  const help = errorLine?.code ? strings.errors[errorLine.helpKey ?? errorMessageKey(errorLine.code, errorLine.mediaFailure)] : undefined;
  const canPause = state === 'live' || state === 'paused';
  const running = isRunning(state);
  return html`
    <div part="bar" class="bar">
      <div part="controls" class="controls">
        <slot name="controls">
          ${
            view.previewing || isRunning(state) || view.pageStream
              ? nothing
              : html`<button part="button preview-button" class="button" type="button" @click=${on.preview}>${strings.preview}</button>`
          }
          <button
            part=${running ? 'button stop-button' : 'button start-button'}
            class=${running ? 'button button--end' : 'button button--start'}
            type="button"
            aria-disabled=${state === 'stopping'}
            @click=${running ? on.stop : on.start}
          >
            ${running ? strings.stop : strings.start}
          </button>
          <button part="button pause-button" class="button" type="button" aria-disabled=${!canPause} @click=${on.pause}>
            ${state === 'paused' ? strings.resume : strings.pause}
          </button>
          ${isOnAir(state) ? renderMuteButtons(view) : nothing}
        </slot>
      </div>
      <div part="status" class="status">
        <slot name="status">
          <span part="state" class="state" role="status">${stateText(view)}</span>
          ${state === 'reconnecting' ? renderReconnect(view) : isRunning(state) ? renderLiveFigures(view) : renderSummary(view)}
        </slot>
      </div>
      ${
        view.meterLevel === undefined
          ? nothing
          : html`<div part="meter" class=${view.audioMuted ? 'meter meter--muted' : 'meter'} role="meter" aria-label=${strings.microphoneLevel} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${view.meterLevel}>
            <div part="meter-level" class="meter-level" style="width: ${view.meterLevel}%"></div>
          </div>`
      }
      ${view.devices}
    </div>
    <div role="alert">
      <p part="error-help" class="error-help">${help ?? nothing}</p>
      <p part="error" class="error">${errorLine && errorLine.message !== help && !errorLine.mediaFailure ? errorLine.message : nothing}</p>
    </div>
  `;
}

/** The status line's words: the green room, "Connecting to host…", or the state. */
function stateText({ state, strings, previewing, hosts }: ControlsView): string {
  if (previewing) return strings.previewing;
  return state === 'connecting' && hosts ? strings.connectingTo.replace('{host}', hosts) : strings.states[state];
}

/** Elapsed time, upload, frames/s and delay to the server, only while a broadcast runs: never stale figures after it. */
function renderLiveFigures({ state, strings, stats }: ControlsView) {
  const slow = isOnAir(state) && (stats?.backlogRatio ?? 0) >= SLOW_NETWORK_RATIO;
  return html`
    <span part="elapsed"><span class="visually-hidden">${strings.elapsedTime} </span>${formatElapsed(stats?.durationMs ?? 0)}</span>
    <span part="bitrate">${Math.round(stats?.kbps ?? 0)} ${strings.kbps}</span>
    ${
      stats && isOnAir(state)
        ? html`<span part="fps">${Math.round(stats.fps)} ${strings.fps}</span>
          <span part="delay">${stats.ackRttMs === undefined ? nothing : strings.delay.replace('{ms}', String(stats.ackRttMs))}</span>`
        : nothing
    }
    ${slow ? html`<span part="network-warning" class="network-warning">${strings.networkSlow}</span>` : nothing}
  `;
}

/** The backlog share from which the element warns that the network does not keep up (at 1 the broadcast ends). */
export const SLOW_NETWORK_RATIO = 0.25;

/** While reconnecting: a spinner, why, and the seconds left; never the frozen live figures. */
function renderReconnect({ strings, reconnect }: ControlsView) {
  if (!reconnect) return nothing;
  const words = strings.reconnecting[reconnect.cause].replace('{seconds}', String(reconnect.seconds));
  return html`<span part="spinner" class="spinner" aria-hidden="true"></span><span part="reconnect">${words}</span>`;
}

/** The on-air badge over the preview while live or paused: LIVE and the elapsed time. */
export function renderBadge(state: BroadcastState, stats: ClientStats | undefined, strings: RtmpBroadcasterStrings) {
  if (state !== 'live' && state !== 'paused') return nothing;
  return html`<div part="badge" class="badge">${strings.onAir} <span part="badge-elapsed">${formatElapsed(stats?.durationMs ?? 0)}</span></div>`;
}

/** After a broadcast that went on air: how long it lasted and its average bitrate (how it ended is the state beside). */
function renderSummary({ state, strings, stats, averageKbps }: ControlsView) {
  if ((state !== 'ended' && state !== 'error') || !stats || averageKbps === undefined) return nothing;
  const summary = strings.summary.replace('{duration}', formatElapsed(stats.durationMs)).replace('{kbps}', String(Math.round(averageKbps)));
  return html`<span part="summary">${summary}</span>`;
}

/** The mute-microphone and hide-video toggles, while on air; the microphone's only when there is one. */
function renderMuteButtons({ strings, hasAudio, audioMuted, videoMuted, on }: ControlsView) {
  return html`
    ${
      hasAudio
        ? html`<button part="button mic-button" class="button button--toggle" type="button" aria-pressed=${audioMuted} @click=${() => on.mute('audio')}>
          ${strings.muteMicrophone}
        </button>`
        : nothing
    }
    <button part="button camera-button" class="button button--toggle" type="button" aria-pressed=${videoMuted} @click=${() => on.mute('video')}>
      ${strings.hideVideo}
    </button>
  `;
}

/** Connecting, on air or stopping: a broadcast is under way. */
export function isRunning(state: BroadcastState): boolean {
  return state === 'connecting' || isOnAir(state) || state === 'stopping';
}

/** Live, paused, or reconnecting after a drop: the destination is still publishing. */
export function isOnAir(state: BroadcastState): boolean {
  return state === 'live' || state === 'paused' || state === 'reconnecting';
}

/** `mm:ss`, or `h:mm:ss` from an hour on. */
function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}
