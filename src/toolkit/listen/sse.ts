/**
 * A Server-Sent Events parser (the WHATWG event-stream format): feed it text as it arrives, get
 * one callback per dispatched event. Lines may end in CRLF, LF or CR, split anywhere across chunks.
 */

export interface SseEvent {
  /** the `event:` field; `message` when absent */
  event: string;
  /** the `data:` lines joined with newlines; null for an event that only carried an `id:` */
  data: string | null;
  /** the `id:` field of this event, if it had one */
  id: string | undefined;
  /** the `retry:` field (ms), if this event had one */
  retry: number | undefined;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private retry: number | undefined;
  private fields = 0;

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    private readonly onComment: (text: string) => void = () => undefined,
  ) {}

  push(text: string): void {
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (ch === '\r' && i === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, i));
      if (ch === '\r' && this.buffer[i + 1] === '\n') i++;
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return this.onComment(line.slice(1).trimStart());
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.fields++;
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        this.fields--;
    }
  }

  private dispatch(): void {
    if (this.fields > 0) {
      this.onEvent({ event: this.event || 'message', data: this.data.length ? this.data.join('\n') : null, id: this.id, retry: this.retry });
    }
    this.data = [];
    this.event = '';
    this.id = undefined;
    this.retry = undefined;
    this.fields = 0;
  }
}
