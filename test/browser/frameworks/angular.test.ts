// The Angular demo app (demo/frameworks/angular) in Chromium: see framework-app.ts.
import { describeFrameworkApp } from './framework-app.js';

describeFrameworkApp('Angular', 'angular');
