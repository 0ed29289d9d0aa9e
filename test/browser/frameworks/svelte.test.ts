// The Svelte 5 demo app (demo/frameworks/svelte) in Chromium: see framework-app.ts.
import { describeFrameworkApp } from './framework-app.js';

describeFrameworkApp('Svelte 5', 'svelte');
