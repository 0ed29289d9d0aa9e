// <rtmp-broadcaster> in React 19, no wrapper: React sets the props the element has as properties
// (`server`, `framerate`), the others as attributes (`rtmp-url`, `video-bitrate`), and listens to
// `on<event>` props as the element's own events. The JSX types come from `rtmp-broadcaster/react`.
import { useRef, useState } from 'react';
import type { BroadcastState, RtmpBroadcaster } from 'rtmp-broadcaster';
import type {} from 'rtmp-broadcaster/react';
import { eventLine } from '../log.js';

export function App({ server }: { server: string }) {
  const broadcaster = useRef<RtmpBroadcaster>(null);
  const [rtmpUrl, setRtmpUrl] = useState('');
  const [state, setState] = useState<BroadcastState>('idle');
  const [kbps, setKbps] = useState<number>();
  const [error, setError] = useState('');
  const [log, setLog] = useState<string[]>([]);
  const record = (event: Event) => setLog((lines) => [...lines, eventLine(event)]);

  return (
    <main>
      <label>
        Destination <input name="rtmp-url" value={rtmpUrl} onChange={(event) => setRtmpUrl(event.target.value)} />
      </label>
      <rtmp-broadcaster
        ref={broadcaster}
        server={server}
        rtmp-url={rtmpUrl}
        video-bitrate={1_000_000}
        framerate={24}
        onrtmp-statechange={(event) => {
          setState(event.detail.state);
          record(event);
        }}
        onrtmp-stats={(event) => setKbps(event.detail.kbps)}
        onrtmp-error={(event) => {
          setError(`${event.detail.code}: ${event.detail.message}`);
          record(event);
        }}
        onrtmp-ended={record}
      ></rtmp-broadcaster>
      {/* start() rejects with what rtmp-error already reported. */}
      <button type="button" className="start" onClick={() => void broadcaster.current?.start().catch(() => {})}>
        Go live
      </button>
      <button type="button" className="stop" onClick={() => void broadcaster.current?.stop()}>
        Stop
      </button>
      <output className="state">{state}</output> <output className="kbps">{kbps === undefined ? '' : `${kbps} kb/s`}</output>
      <p className="error">{error}</p>
      <ol className="events">
        {log.map((line, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the log only grows, so an index names the same line every render
          <li key={index}>{line}</li>
        ))}
      </ol>
    </main>
  );
}
