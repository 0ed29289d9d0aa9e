// Mounts the Angular demo, compiled just in time in the browser (@angular/compiler is imported
// first); zoneless change detection, Angular 21's default. `import 'rtmp-broadcaster'` registers
// the element before Angular renders it.
import '@angular/compiler';
import 'rtmp-broadcaster';
import { bootstrapApplication } from '@angular/platform-browser';
import type { Mount } from '../log.js';
import { AppComponent, BROADCAST_SERVER } from './app.component.js';

export const mount: Mount = async (container, { server }) => {
  const host = document.createElement('broadcast-app');
  container.append(host);
  const app = await bootstrapApplication(AppComponent, { providers: [{ provide: BROADCAST_SERVER, useValue: server }] });
  return () => {
    app.destroy();
    host.remove();
  };
};
