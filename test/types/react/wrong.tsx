// Must not type-check (test/types/frameworks.test.ts): each line marked "error:" misuses the tag.
import type {} from 'rtmp-broadcaster/react';

export const wrong = (
  <>
    {/* error: framerate */}
    <rtmp-broadcaster framerate="fast"></rtmp-broadcaster>
    {/* error: video-bitrate */}
    <rtmp-broadcaster video-bitrate="high"></rtmp-broadcaster>
    {/* error: onrtmp-statechange */}
    <rtmp-broadcaster onrtmp-statechange={(event) => event.detail.kbps}></rtmp-broadcaster>
  </>
);
