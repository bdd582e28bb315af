/** A pino logger that writes into memory, so a test can read what a real server logged. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions } from '../../src/log.js';

export interface CapturedLogs<Line> {
  logger: pino.Logger;
  /** everything written so far, as raw text. */
  text(): string;
  /** every JSON line written so far, parsed. */
  lines(): Line[];
}

export function captureLogs<Line = Record<string, unknown>>(level: pino.LevelWithSilent = 'info'): CapturedLogs<Line> {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: pino(loggerOptions(level), sink),
    text: () => text,
    lines: () => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Line),
  };
}
