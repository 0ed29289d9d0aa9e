// Runs the Scale contract in a worker of a real node:cluster primary (one worker, maxStreams 2);
// exits with the worker's exit code: 0 when the contract holds.
import cluster from 'node:cluster';
import { createClusterWorker, startClusterPrimary } from '../../server/cluster.js';
import { checkScaleContract } from './scale-contract.js';

if (cluster.isPrimary) {
  cluster.on('exit', (_worker, code) => process.exit(code ?? 1));
  await startClusterPrimary({ workers: 1, maxStreams: 2, restart: false });
} else {
  const worker = await createClusterWorker();
  try {
    await checkScaleContract(worker);
    await worker.close();
    process.exit(0);
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}
