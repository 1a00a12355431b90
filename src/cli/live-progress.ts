import type { Logger } from '../log/logger.js';

/** What the live region is drawn on: a terminal (process.stderr), or a fake one in tests. */
export interface LiveStream {
  write(chunk: string): unknown;
  /** Terminal width; lines of the region are cut to it, so none wraps and the redraw stays in place. */
  columns?: number;
}

/** A logger for one operation on the board; `end` takes its line off the region (later calls still print). */
export interface LiveTask extends Logger {
  end(): void;
}

export interface LiveProgressOptions {
  /** Hide the tool's last output line (`--quiet`, `--json`). */
  quiet?: boolean;
  /** Milliseconds, for the elapsed time of each step. */
  now?: () => number;
  /** Redraw period: the spinner, the elapsed time and the last output line move at this pace. */
  frameMs?: number;
}

interface TaskLine {
  label: string;
  step: string;
  stepStarted: number;
  last: string;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Progress on a terminal: steps, info and warnings scroll as usual; below them a region of one line per
 * running operation shows its current step, the step's elapsed time and the tool's last output line,
 * redrawn in place. Tool output does not scroll (a failed tool's tail is in its error).
 */
export class LiveProgress {
  private readonly running = new Set<TaskLine>();
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly stream: LiveStream,
    private readonly options: LiveProgressOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** `label` goes before each of its lines (`[node-web] `); empty for a single operation. */
  task(label = ''): LiveTask {
    const line: TaskLine = { label, step: 'starting', stepStarted: this.now(), last: '' };
    this.running.add(line);
    this.tick();
    return {
      step: (message) => {
        Object.assign(line, { step: message, stepStarted: this.now(), last: '' });
        this.draw([`${label}==> ${message}`]);
      },
      info: (message) => this.draw([`${label}${message}`]),
      warn: (message) => this.draw([`${label}warning: ${message}`]),
      output: (text) => {
        // Shown at the next frame: a chatty tool costs one redraw per frame, not one per line.
        if (!this.options.quiet && text.trim() !== '') line.last = text;
      },
      end: () => {
        if (this.running.delete(line)) this.draw([]);
        if (this.running.size === 0) this.stop();
      },
    };
  }

  /** Clears the region and stops redrawing; call before printing anything else (a summary, an error). */
  close(): void {
    this.running.clear();
    this.draw([]);
    this.stop();
  }

  private tick(): void {
    this.draw([]);
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.frame++;
      this.draw([]);
    }, this.options.frameMs ?? 100);
    this.timer.unref(); // never what keeps hop3 running
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One write: erase the region, print the lines that stay, draw the region again under them. */
  private draw(lines: string[]): void {
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[J` : '';
    for (const line of lines) out += `${line}\n`;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    const spinner = FRAMES[this.frame % FRAMES.length];
    for (const task of this.running) out += `${regionLine(task, spinner!, this.now(), width)}\n`;
    this.drawn = this.running.size;
    if (out !== '') this.stream.write(out);
  }
}

/** `⠹ [node-web] installing dependencies 4.2s │ added 52 packages`, cut to the terminal width. */
function regionLine(task: TaskLine, spinner: string, now: number, width: number): string {
  const elapsed = `${(Math.max(0, now - task.stepStarted) / 1000).toFixed(1)}s`;
  const text = `${spinner} ${task.label}${oneLine(task.step)} ${elapsed}${task.last ? ` │ ${oneLine(task.last)}` : ''}`;
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, width - 1).join('')}…`;
}

/** Tool output carries colours, carriage returns and tabs: in the region they would move the cursor. */
function oneLine(text: string): string {
  return text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]/g, '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .trim();
}
