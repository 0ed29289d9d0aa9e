// Spawning blocks the event loop until the child has exec'd (libuv forks, then waits): a few ms
// alone, tens of ms while other ffmpegs crowd the CPUs. Starts that arrive together would spawn
// back to back in one turn of the loop (seen: 1.9 s blocked while 140 broadcasts started), and
// every live broadcast's chunks and acks would wait behind them. One spawn per turn of the loop
// lets the sockets be read between spawns.

let spawnTurns: Promise<void> = Promise.resolve();

/** Resolves when this caller may spawn: one spawn per turn of the event loop, in call order. */
export function nextSpawnTurn(): Promise<void> {
  const turn = spawnTurns.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  spawnTurns = turn;
  return turn;
}
