// Reaching into <rtmp-broadcaster>'s shadow root by its parts, as the element tests do.
import type { RtmpBroadcaster } from '../../client/element/rtmp-broadcaster.js';

/** The first element in the shadow root carrying `part`. */
export function part<T extends Element = HTMLElement>(element: RtmpBroadcaster, name: string): T {
  const found = element.shadowRoot!.querySelector<T>(`[part~="${name}"]`);
  if (!found) throw new Error(`No part "${name}" is rendered`);
  return found;
}
