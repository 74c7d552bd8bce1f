/**
 * The JetStream API subjects the v3 clients (@nats-io/jetstream, kv, obj) publish to for one
 * stream, bucket or consumer, so that a permission names each stream instead of `$JS.API.>`.
 * Found by reading those clients and by watching the server's permission violations.
 */

const API = "$JS.API";

/** `$JS.API.INFO`: the account check every JetStream manager makes first (read only). */
export const JS_ACCOUNT_INFO = `${API}.INFO`;

/** A stream's info (config and state): what a client asks before using it. */
export function streamInfoSubject(stream: string): string {
  return `${API}.STREAM.INFO.${stream}`;
}

/** Reading a stream: info, message gets, and ordered consumers (watch, keys, history, fetch) on it. */
export function streamReadSubjects(stream: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

/** Creating a stream when it is missing (never changing or deleting one). */
export function streamCreateSubjects(stream: string): string[] {
  return [`${API}.STREAM.CREATE.${stream}`];
}

/** Owning a stream: read, create, update, purge, delete single messages (not the stream itself), run durable consumers. */
export function streamOwnSubjects(stream: string): string[] {
  return [
    ...streamReadSubjects(stream),
    ...streamCreateSubjects(stream),
    `${API}.STREAM.UPDATE.${stream}`,
    `${API}.STREAM.PURGE.${stream}`,
    `${API}.STREAM.MSG.DELETE.${stream}`,
    // durable consumers of its own (a sweeper on a bucket's stream), as older clients create them
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.*`,
    `$JS.ACK.${stream}.>`,
  ];
}

/** The stream behind a KV bucket. */
export function kvStream(bucket: string): string {
  return `KV_${bucket}`;
}

/** The stream behind an object store. */
export function objectStream(store: string): string {
  return `OBJ_${store}`;
}

/** Reading and writing a KV bucket (gets, puts, deletes, watches, purges of keys). */
export function kvReadWriteSubjects(bucket: string): string[] {
  return [...streamOwnSubjects(kvStream(bucket)), `$KV.${bucket}.>`];
}

/** Reading a KV bucket only (gets and watches), creating it empty when missing. */
export function kvReadSubjects(bucket: string): string[] {
  return [...streamReadSubjects(kvStream(bucket)), ...streamCreateSubjects(kvStream(bucket))];
}

/** Reading and writing an object store. */
export function objectReadWriteSubjects(store: string): string[] {
  return [...streamOwnSubjects(objectStream(store)), `$O.${store}.>`];
}

/** Reading an object store only, creating it empty when missing. */
export function objectReadSubjects(store: string): string[] {
  return [...streamReadSubjects(objectStream(store)), ...streamCreateSubjects(objectStream(store))];
}

/** One durable pull consumer on `stream`: create or update it, fetch from it, ack its messages. */
export function durableConsumerSubjects(stream: string, consumer: string): string[] {
  return [
    streamInfoSubject(stream),
    `${API}.CONSUMER.CREATE.${stream}.${consumer}`,
    `${API}.CONSUMER.CREATE.${stream}.${consumer}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${consumer}`,
    `${API}.CONSUMER.INFO.${stream}.${consumer}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    `$JS.ACK.${stream}.${consumer}.>`,
  ];
}
