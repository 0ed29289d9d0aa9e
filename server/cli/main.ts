#!/usr/bin/env node
// `npx rtmp-broadcaster`: the relay as a command. Everything it does is in run.ts; `--help` says how.
import { runCli } from './run.js';

const status = await runCli(process.argv.slice(2), process.env);
// Exit once stdout has taken everything written, even when it is a slow pipe.
process.stdout.write('', () => process.exit(status));
