import mongoose, { Connection, Model, Schema } from 'mongoose';
import { ApplyResult, OrderTimelineStore, OrderView, statusOf, TimelineEvent } from './order-timeline.store';

interface TimelineDocument {
  _id: string;
  sequence: number;
  status: string;
  updated_at: string;
  timeline: OrderView['timeline'];
}

const timelineSchema = new Schema<TimelineDocument>(
  {
    _id: { type: String, required: true },
    sequence: { type: Number, required: true },
    status: { type: String, required: true },
    updated_at: { type: String, required: true },
    timeline: [
      {
        _id: false,
        sequence: Number,
        event: String,
        id: String,
        time: String,
        data: Schema.Types.Mixed,
      },
    ],
  },
  { collection: 'notifications_order_timelines', versionKey: false },
);

/**
 * The read model in MongoDB (MONGODB_URL): one document per order, its timeline embedded. Each
 * event is one conditional update (`sequence = n - 1`), so it applies once and only in order.
 */
export class MongoOrderTimelineStore implements OrderTimelineStore {
  private readonly connection: Connection;
  private readonly orders: Model<TimelineDocument>;

  constructor(
    private readonly url: string,
    /** How long the first connection may take before init() fails (default 5 s). */
    private readonly connectTimeoutMs = 5000,
  ) {
    this.connection = mongoose.createConnection(url, {
      serverSelectionTimeoutMS: connectTimeoutMs,
      connectTimeoutMS: connectTimeoutMs,
    });
    // Without a listener a connection error would be thrown from an event; init() reports it.
    this.connection.on('error', () => undefined);
    this.orders = this.connection.model<TimelineDocument>('OrderTimeline', timelineSchema);
  }

  /** Connects, or fails after connectTimeoutMs saying which MongoDB could not be reached. */
  async init(): Promise<void> {
    try {
      await this.connection.asPromise();
    } catch (error) {
      throw new Error(
        `MongoDB at ${redact(this.url)} is unreachable (MONGODB_URL) after ${this.connectTimeoutMs} ms: ` +
          (error instanceof Error ? error.message : String(error)),
      );
    }
  }

  async apply(event: TimelineEvent): Promise<ApplyResult> {
    const entry = {
      sequence: event.sequence,
      event: event.event,
      id: event.id,
      time: event.time,
      data: event.data,
    };
    const update = { sequence: event.sequence, status: statusOf(event.event), updated_at: event.time };
    if (event.sequence === 1) {
      const result = await this.orders.updateOne(
        { _id: event.orderId },
        { $setOnInsert: { ...update, timeline: [entry] } },
        { upsert: true },
      );
      if (result.upsertedCount === 1) return { outcome: 'applied', sequence: 1 };
    } else {
      const result = await this.orders.updateOne(
        { _id: event.orderId, sequence: event.sequence - 1 },
        { $set: update, $push: { timeline: entry } },
      );
      if (result.modifiedCount === 1) return { outcome: 'applied', sequence: event.sequence };
    }
    const current = (await this.orders.findById(event.orderId, { sequence: 1 }).lean())?.sequence ?? 0;
    return { outcome: event.sequence <= current ? 'duplicate' : 'gap', sequence: current };
  }

  async orderSnapshot(orderId: string): Promise<{ sequence: number; data: OrderView } | undefined> {
    const doc = await this.orders.findById(orderId).lean();
    if (!doc) return undefined;
    const timeline = doc.timeline
      .filter((e) => e.sequence <= doc.sequence)
      .sort((a, b) => a.sequence - b.sequence);
    return {
      sequence: doc.sequence,
      data: { order_id: orderId, status: doc.status, sequence: doc.sequence, timeline },
    };
  }

  async ping(): Promise<boolean> {
    return this.connection.readyState === 1;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** The URL without its password, for an error message. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'MONGODB_URL';
  }
}
