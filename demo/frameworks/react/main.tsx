// Mounts the React demo: `import 'rtmp-broadcaster'` registers the element before React renders it.
import 'rtmp-broadcaster';
import { createRoot } from 'react-dom/client';
import type { Mount } from '../log.js';
import { App } from './App.js';

export const mount: Mount = async (container, { server }) => {
  const root = createRoot(container);
  root.render(<App server={server} />);
  return () => root.unmount();
};
