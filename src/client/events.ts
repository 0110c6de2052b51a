// A study's Server-Sent Events stream (GET /studies/:name/events) read as StudyEvents: the
// study as it is first, then each study and trial change, in order.
import type { StudyEvent } from '../service/shapes.js';

interface RawEvent {
  readonly event: string;
  readonly data: string;
}

/** The events of an event stream's text, as the SSE format frames them (blank-line separated, `:` comments). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let end: number;
    while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
      if (end === buffer.length - 1 && buffer[end] === '\r') break; // its \n may be in the next chunk
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
}

/** Sibyl's events of a stream; any other kind is skipped (a newer server may send more). */
export async function* studyEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StudyEvent> {
  for await (const e of sseEvents(body)) {
    if (e.event === 'study') yield { type: 'study', study: JSON.parse(e.data) };
    else if (e.event === 'trial') yield { type: 'trial', trial: JSON.parse(e.data) };
  }
}
