export interface SendQueueLimits {
  /** Bytes queued beyond what the socket holds (default 1 MiB). */
  maxBytes: number;
  /** Frames queued (default 2000). */
  maxFrames: number;
}

export const DEFAULT_SEND_LIMITS: SendQueueLimits = { maxBytes: 1024 * 1024, maxFrames: 2000 };

interface Queued {
  text: string;
  /** `<channel>\n<key>` for state frames: a newer one replaces it in place. */
  coalesceKey?: string;
}

/**
 * A connection's frames waiting for its socket to drain, bounded in bytes and frames. A state
 * frame replaces the queued frame of the same key (the client only needs the latest position or
 * window value). `push` answers false once past the bound: the connection must close as slow.
 */
export class SendQueue {
  private frames: (Queued | undefined)[] = [];
  private head = 0;
  private bytes = 0;
  private readonly byKey = new Map<string, number>();
  /** Frames replaced by a newer one of the same key. */
  coalesced = 0;

  constructor(private readonly limits: SendQueueLimits = DEFAULT_SEND_LIMITS) {}

  get length(): number {
    return this.frames.length - this.head;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  push(text: string, coalesceKey?: string): boolean {
    if (coalesceKey !== undefined) {
      const at = this.byKey.get(coalesceKey);
      const queued = at === undefined ? undefined : this.frames[at];
      if (queued) {
        this.bytes += text.length - queued.text.length;
        queued.text = text;
        this.coalesced++;
        return this.bytes <= this.limits.maxBytes;
      }
      this.byKey.set(coalesceKey, this.frames.length);
    }
    this.frames.push({ text, coalesceKey });
    this.bytes += text.length;
    return this.bytes <= this.limits.maxBytes && this.length <= this.limits.maxFrames;
  }

  /** The next frame to write, or undefined when empty. */
  shift(): string | undefined {
    if (this.head >= this.frames.length) return undefined;
    const queued = this.frames[this.head] as Queued;
    this.frames[this.head++] = undefined;
    if (queued.coalesceKey !== undefined) this.byKey.delete(queued.coalesceKey);
    this.bytes -= queued.text.length;
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      // Compact, moving the coalescing index with the frames.
      this.frames = this.frames.slice(this.head);
      for (const [key, at] of this.byKey) this.byKey.set(key, at - this.head);
      this.head = 0;
    }
    return queued.text;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
    this.byKey.clear();
  }
}
