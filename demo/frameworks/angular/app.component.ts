// <rtmp-broadcaster> in Angular: CUSTOM_ELEMENTS_SCHEMA lets the template use the tag. `[prop]`
// sets a property (`server`, `framerate`), `[attr.name]` an attribute (`rtmp-url`,
// `video-bitrate`), and `(rtmp-…)` listens to the element's events.
import { Component, CUSTOM_ELEMENTS_SCHEMA, type ElementRef, InjectionToken, inject, signal, ViewChild } from '@angular/core';
import type { BroadcastState, RtmpBroadcaster, RtmpBroadcasterEventMap } from 'rtmp-broadcaster';
import { eventLine } from '../log.js';

/** The BroadcastServer the app's element talks to. */
export const BROADCAST_SERVER = new InjectionToken<string>('BROADCAST_SERVER');

@Component({
  selector: 'broadcast-app',
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  template: `
    <main>
      <label>Destination <input #destination name="rtmp-url" [value]="rtmpUrl()" (input)="rtmpUrl.set(destination.value)" /></label>
      <rtmp-broadcaster
        #broadcaster
        [server]="server"
        [attr.rtmp-url]="rtmpUrl()"
        [attr.video-bitrate]="1000000"
        [framerate]="24"
        (rtmp-statechange)="onStateChange($event)"
        (rtmp-stats)="onStats($event)"
        (rtmp-error)="onError($event)"
        (rtmp-ended)="record($event)"
      ></rtmp-broadcaster>
      <button class="start" (click)="start()">Go live</button>
      <button class="stop" (click)="stop()">Stop</button>
      <output class="state">{{ state() }}</output> <output class="kbps">{{ kbps() === undefined ? '' : kbps() + ' kb/s' }}</output>
      <p class="error">{{ error() }}</p>
      <ol class="events">
        @for (line of log(); track $index) {
          <li>{{ line }}</li>
        }
      </ol>
    </main>
  `,
})
export class AppComponent {
  readonly server = inject(BROADCAST_SERVER);
  // A decorator rather than viewChild(): JIT compilation sees only decorated queries.
  @ViewChild('broadcaster', { static: true }) broadcaster!: ElementRef<RtmpBroadcaster>;
  readonly rtmpUrl = signal('');
  readonly state = signal<BroadcastState>('idle');
  readonly kbps = signal<number | undefined>(undefined);
  readonly error = signal('');
  readonly log = signal<string[]>([]);

  // Angular types `$event` of a custom element's event as Event.
  onStateChange(event: Event): void {
    this.state.set((event as RtmpBroadcasterEventMap['rtmp-statechange']).detail.state);
    this.record(event);
  }

  onStats(event: Event): void {
    this.kbps.set((event as RtmpBroadcasterEventMap['rtmp-stats']).detail.kbps);
  }

  onError(event: Event): void {
    const { code, message } = (event as RtmpBroadcasterEventMap['rtmp-error']).detail;
    this.error.set(`${code}: ${message}`);
    this.record(event);
  }

  record(event: Event): void {
    this.log.update((lines) => [...lines, eventLine(event)]);
  }

  /** start() rejects with what rtmp-error already reported. */
  start(): void {
    this.broadcaster.nativeElement.start().catch(() => {});
  }

  stop(): void {
    void this.broadcaster.nativeElement.stop();
  }
}
