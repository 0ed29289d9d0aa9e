// Mounts the Vue demo: `import 'rtmp-broadcaster'` registers the element before Vue renders it.
// Vue's compiler needs `isCustomElement: (tag) => tag === 'rtmp-broadcaster'` (here in the test's
// esbuild step; with Vite, in `vue({ template: { compilerOptions } })`).
import 'rtmp-broadcaster';
import { createApp } from 'vue';
import type { Mount } from '../log.js';
import App from './App.vue';

export const mount: Mount = async (container, { server }) => {
  const app = createApp(App, { server });
  app.mount(container);
  return () => app.unmount();
};
