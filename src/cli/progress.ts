/**
 * Progress of a long command on stderr: a bar redrawn in place on a terminal, a plain line every
 * few seconds otherwise (logs of a job runner).
 */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  total: number;
  label: string;
  now?: () => number;
  /** Interval of plain lines when the stream is not a terminal. */
  lineEveryMs?: number;
}

export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? Date.now;
  const tty = Boolean(options.stream.isTTY);
  const every = tty ? 100 : (options.lineEveryMs ?? 5000);
  let last = now();
  let done = 0;
  const draw = () => {
    const total = Math.max(options.total, 1);
    const fraction = Math.min(done / total, 1);
    if (tty) {
      const width = 30;
      const filled = Math.round(fraction * width);
      options.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${options.total} ${options.label}`);
    } else {
      options.stream.write(`${done}/${options.total} ${options.label} (${Math.floor(fraction * 100)}%)\n`);
    }
  };
  return {
    update(n) {
      done = n;
      if (now() - last >= every) {
        last = now();
        draw();
      }
    },
    finish() {
      draw();
      if (tty) options.stream.write('\n');
    },
  };
}
