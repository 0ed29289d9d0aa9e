// What the four framework demos share: their `mount` signature, and one line per element event for
// their event logs, the same in each app so that one browser test (test/browser/frameworks/)
// reads them all alike.

/** A line for an app's event log: the event's name and, when it has one, its state, code or reason. */
export function eventLine(event: Event): string {
  const detail = (event as CustomEvent<{ state?: string; code?: string; reason?: string } | undefined>).detail;
  return [event.type, detail?.state ?? detail?.code ?? detail?.reason].filter(Boolean).join(' ');
}

/** What every demo app's `mount` takes: the BroadcastServer to use. */
export interface MountOptions {
  server: string;
}

/** Mounts a demo app into `container`; resolves to what unmounts it. */
export type Mount = (container: HTMLElement, options: MountOptions) => Promise<() => void>;
