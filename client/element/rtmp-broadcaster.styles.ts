// The look of <rtmp-broadcaster>: a dark card with the preview on top and the controls below.
// Every color, radius and font comes from a custom property with a fallback, so pages restyle it
// without reaching into the shadow root; `::part()` covers the rest.
import { css } from 'lit';

export default css`
  :host {
    display: block;
    overflow: hidden;
    font: var(--rtmp-broadcaster-font, 0.875rem/1.4 system-ui, sans-serif);
    color: var(--rtmp-broadcaster-color, #fff);
    background: var(--rtmp-broadcaster-background, #1c1c1e);
    border-radius: var(--rtmp-broadcaster-radius, 8px);
  }

  :host([hidden]) {
    display: none;
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

  .button[aria-disabled='true'] {
    opacity: 0.45;
    cursor: not-allowed;
  }

  .button:focus-visible {
    outline: 2px solid var(--rtmp-broadcaster-focus-color, #90caf9);
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

  .error {
    margin: 0;
    color: var(--rtmp-broadcaster-error-color, #ffb4ab);
  }

  .error:not(:empty) {
    padding: 0 0.75em 0.75em;
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
