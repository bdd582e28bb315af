/**
 * Progress on stderr while the bench runs. On a terminal one line is rewritten in place; in CI
 * (no TTY) a line is printed at most every 2 s, so logs stay short but show the bench is alive.
 */
const tty = Boolean(process.stderr.isTTY);
let last = '';
let lastPrinted = 0;
let prefix = '';
const started = Date.now();

function elapsed(): string {
  return `${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s`;
}

export function setStage(stage: string): void {
  prefix = stage;
  note(`${stage}`);
}

/** A permanent line (a stage started, a result). */
export function note(text: string): void {
  clear();
  process.stderr.write(`[${elapsed()}] ${text}\n`);
}

/** A transient status, overwritten by the next one. */
export function status(text: string): void {
  const line = `[${elapsed()}] ${prefix ? `${prefix}: ` : ''}${text}`;
  if (tty) {
    const cols = process.stderr.columns || 120;
    const shown = line.length > cols - 1 ? `${line.slice(0, cols - 2)}…` : line;
    process.stderr.write(`\r\x1b[K${shown}`);
    last = shown;
    return;
  }
  if (Date.now() - lastPrinted >= 2000) {
    lastPrinted = Date.now();
    process.stderr.write(`${line}\n`);
  }
}

export function clear(): void {
  if (tty && last) {
    process.stderr.write('\r\x1b[K');
    last = '';
  }
}
