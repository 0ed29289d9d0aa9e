// Mounts the Svelte demo: `import 'rtmp-broadcaster'` registers the element before Svelte renders it.
import 'rtmp-broadcaster';
import { mount as mountComponent, unmount } from 'svelte';
import type { Mount } from '../log.js';
import App from './App.svelte';

export const mount: Mount = async (target, { server }) => {
  const app = mountComponent(App, { target, props: { server } });
  return () => void unmount(app);
};
