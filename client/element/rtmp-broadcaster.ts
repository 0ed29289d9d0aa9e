// Registers <rtmp-broadcaster>. Defines the tag only if nothing has yet, so importing this twice,
// or beside the CDN bundle, keeps the first definition instead of throwing.
import { RtmpBroadcaster, type RtmpBroadcasterEventMap } from './rtmp-broadcaster.component.js';

export { RtmpBroadcaster };
export type { BroadcastSource, MuteChangeDetail, RtmpBroadcasterEventMap } from './rtmp-broadcaster.component.js';

if (!customElements.get('rtmp-broadcaster')) customElements.define('rtmp-broadcaster', RtmpBroadcaster);

declare global {
  interface HTMLElementTagNameMap {
    'rtmp-broadcaster': RtmpBroadcaster;
  }

  interface GlobalEventHandlersEventMap {
    'rtmp-statechange': RtmpBroadcasterEventMap['rtmp-statechange'];
    'rtmp-stats': RtmpBroadcasterEventMap['rtmp-stats'];
    'rtmp-error': RtmpBroadcasterEventMap['rtmp-error'];
    'rtmp-ended': RtmpBroadcasterEventMap['rtmp-ended'];
    'rtmp-ffmpeg-output': RtmpBroadcasterEventMap['rtmp-ffmpeg-output'];
    'rtmp-mutechange': RtmpBroadcasterEventMap['rtmp-mutechange'];
    'rtmp-destination-lost': RtmpBroadcasterEventMap['rtmp-destination-lost'];
    'rtmp-destination-restored': RtmpBroadcasterEventMap['rtmp-destination-restored'];
  }
}
