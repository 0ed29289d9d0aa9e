// The look of <rtmp-broadcaster>: a card with the preview on top and the controls below, dark, or
// light when the page prefers a light color scheme. Every color, radius and font comes from a
// custom property with a fallback, so pages restyle it without reaching into the shadow root;
// `::part()` covers the rest. The fallbacks of each scheme live in private `--_` properties.
import { css } from 'lit';

export default css`
  :host {
    --_background: #1c1c1e;
    --_color: #fff;
    --_error-color: #ffb4ab;
    --_focus-color: #90caf9;
    --_meter-color: #4caf50;
    color-scheme: dark;
    display: block;
    overflow: hidden;
    font: var(--rtmp-broadcaster-font, 0.875rem/1.4 system-ui, sans-serif);
    color: var(--rtmp-broadcaster-color, var(--_color));
    background: var(--rtmp-broadcaster-background, var(--_background));
    border-radius: var(--rtmp-broadcaster-radius, 8px);
  }

  @media (prefers-color-scheme: light) {
    :host {
      --_background: #f4f4f5;
      --_color: #1c1c1e;
      --_error-color: #b3261e;
      --_focus-color: #1565c0;
      --_meter-color: #2e7d32;
      color-scheme: light;
    }
  }

  :host([hidden]) {
    display: none;
  }

  .base {
    position: relative;
  }

  /* The on-air badge, over the preview's top left corner. */
  .badge {
    position: absolute;
    top: 0.75em;
    left: 0.75em;
    padding: 0.15em 0.5em;
    border-radius: calc(var(--rtmp-broadcaster-radius, 8px) / 2);
    font-weight: 700;
    letter-spacing: 0.05em;
    font-variant-numeric: tabular-nums;
    color: #fff;
    background: var(--rtmp-broadcaster-accent, #d32f2f);
  }

  .network-warning {
    font-weight: 600;
    color: var(--rtmp-broadcaster-error-color, var(--_error-color));
  }

  .spinner {
    width: 0.9em;
    height: 0.9em;
    border: 2px solid currentColor;
    border-right-color: transparent;
    border-radius: 50%;
    animation: spin 0.8s linear infinite;
  }

  @keyframes spin {
    to {
      transform: rotate(360deg);
    }
  }

  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation-duration: 3s;
    }
  }

  .preview {
    display: block;
    width: 100%;
    aspect-ratio: var(--rtmp-broadcaster-aspect-ratio, 16 / 9);
    object-fit: contain;
    background: #000;
  }

  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em 1em;
    padding: 0.75em;
  }

  .controls {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5em;
  }

  .button {
    font: inherit;
    color: inherit;
    background: transparent;
    border: 1px solid currentColor;
    border-radius: calc(var(--rtmp-broadcaster-radius, 8px) / 2);
    padding: 0.4em 1em;
    cursor: pointer;
  }

  .button--start {
    color: #fff;
    background: var(--rtmp-broadcaster-accent, #d32f2f);
    border-color: var(--rtmp-broadcaster-accent, #d32f2f);
  }

  /* End broadcast takes Go live's place: outlined in the accent, bold, unlike Go live (filled)
     and unlike a pressed toggle (filled in the text color). */
  .button--end {
    color: var(--rtmp-broadcaster-error-color, var(--_error-color));
    border: 2px solid currentColor;
    font-weight: 700;
  }

  .button[aria-disabled='true'] {
    opacity: 0.45;
    cursor: not-allowed;
  }

  /* A pressed toggle (microphone muted, video hidden) is filled, so it reads as on. */
  .button--toggle[aria-pressed='true'] {
    color: var(--rtmp-broadcaster-background, var(--_background));
    background: var(--rtmp-broadcaster-color, var(--_color));
    border-color: var(--rtmp-broadcaster-color, var(--_color));
  }

  /* Hidden from the broadcast, still shown to the person going live, dimmed. */
  .preview--hidden {
    opacity: 0.35;
  }

  .meter--muted {
    opacity: 0.35;
  }

  .button:focus-visible {
    outline: 2px solid var(--rtmp-broadcaster-focus-color, var(--_focus-color));
    outline-offset: 2px;
  }

  .status {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25em 1em;
    font-variant-numeric: tabular-nums;
  }

  .state {
    display: inline-flex;
    align-items: center;
    gap: 0.4em;
    font-weight: 600;
  }

  /* The on-air dot: accent while live, hollow otherwise. */
  .state::before {
    content: '';
    width: 0.6em;
    height: 0.6em;
    border-radius: 50%;
    border: 2px solid currentColor;
  }

  :host([live]) .state::before {
    background: var(--rtmp-broadcaster-accent, #d32f2f);
    border-color: var(--rtmp-broadcaster-accent, #d32f2f);
  }

  .error,
  .error-help {
    margin: 0;
    color: var(--rtmp-broadcaster-error-color, var(--_error-color));
  }

  .error-help:not(:empty) {
    padding: 0 0.75em 0.25em;
    font-weight: 600;
  }

  .error:not(:empty) {
    padding: 0 0.75em 0.75em;
  }

  .error-help:empty + .error:not(:empty) {
    font-weight: 600;
  }

  .meter {
    width: 6em;
    height: 0.5em;
    overflow: hidden;
    border-radius: 0.25em;
    background: color-mix(in srgb, currentColor 20%, transparent);
  }

  .meter-level {
    height: 100%;
    background: var(--rtmp-broadcaster-meter-color, var(--_meter-color));
    transition: width 0.1s linear;
  }

  .devices {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5em;
  }

  .select {
    font: inherit;
    max-width: 14em;
    color: inherit;
    background: transparent;
    border: 1px solid currentColor;
    border-radius: calc(var(--rtmp-broadcaster-radius, 8px) / 2);
    padding: 0.3em 0.5em;
  }

  .select:focus-visible {
    outline: 2px solid var(--rtmp-broadcaster-focus-color, var(--_focus-color));
    outline-offset: 2px;
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
