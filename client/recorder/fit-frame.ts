// A recording keeps the size it started with, while its source may change shape: a phone turned
// from landscape to portrait, a shared window resized, a canvas given new dimensions. H.264
// encoders scale such frames to their configured size, which stretches the picture; these fit it
// inside instead, whole and centred, with black bars around it.

/** Shapes that differ by less than this (width/height ratio, relative) go to the encoder as they are. */
const SAME_SHAPE = 0.01;

/** Where a `width`×`height` picture goes inside a `boxWidth`×`boxHeight` frame: as large as fits, centred, in whole pixels. */
export function fitInside(
  width: number,
  height: number,
  boxWidth: number,
  boxHeight: number,
): { x: number; y: number; width: number; height: number } {
  const scale = Math.min(boxWidth / width, boxHeight / height);
  const fittedWidth = Math.min(boxWidth, Math.round(width * scale));
  const fittedHeight = Math.min(boxHeight, Math.round(height * scale));
  return {
    x: Math.floor((boxWidth - fittedWidth) / 2),
    y: Math.floor((boxHeight - fittedHeight) / 2),
    width: fittedWidth,
    height: fittedHeight,
  };
}

/** Whether a `width`×`height` picture has the shape of a `boxWidth`×`boxHeight` frame, near enough that scaling does not distort it. */
export function sameShape(width: number, height: number, boxWidth: number, boxHeight: number): boolean {
  return Math.abs(width * boxHeight - height * boxWidth) <= SAME_SHAPE * height * boxWidth;
}

/** Fits frames of another shape into the recording's size (see above); one canvas, made the first time one comes. */
export class FrameFitter {
  readonly #width: number;
  readonly #height: number;
  #context: OffscreenCanvasRenderingContext2D | null | undefined;

  constructor(width: number, height: number) {
    this.#width = width;
    this.#height = height;
  }

  /**
   * `frame` itself when it has the recording's shape (the encoder scales it); else a new frame of
   * the recording's size with the picture fitted inside, and `frame` closed. Where the browser
   * has no OffscreenCanvas, `frame` as it is.
   */
  fit(frame: VideoFrame): VideoFrame {
    const { displayWidth, displayHeight } = frame;
    if (sameShape(displayWidth, displayHeight, this.#width, this.#height)) return frame;
    if (this.#context === undefined) {
      this.#context =
        typeof OffscreenCanvas === 'undefined' ? null : new OffscreenCanvas(this.#width, this.#height).getContext('2d', { alpha: false });
    }
    const context = this.#context;
    if (!context) return frame;
    const place = fitInside(displayWidth, displayHeight, this.#width, this.#height);
    context.fillStyle = 'black';
    context.fillRect(0, 0, this.#width, this.#height);
    context.drawImage(frame, place.x, place.y, place.width, place.height);
    const fitted = new VideoFrame(context.canvas, { timestamp: frame.timestamp, alpha: 'discard' });
    frame.close();
    return fitted;
  }
}
