// The Vue 3 demo app (demo/frameworks/vue) in Chromium: see framework-app.ts.
import { describeFrameworkApp } from './framework-app.js';

describeFrameworkApp('Vue 3', 'vue');
