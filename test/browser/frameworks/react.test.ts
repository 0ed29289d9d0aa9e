// The React 19 demo app (demo/frameworks/react) in Chromium: see framework-app.ts.
import { describeFrameworkApp } from './framework-app.js';

describeFrameworkApp('React 19', 'react');
