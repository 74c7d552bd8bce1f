/** Does a domain event satisfy what `ctx.waitForEvent` waits for? */
import type { DomainEvent } from "../types.ts";
import type { EventMatch } from "./types.ts";

/** True when `event` has type `eventType` and every field of `match` is equal. */
export function matches(event: DomainEvent, eventType: string, match: EventMatch): boolean {
  if (event.eventType !== eventType) return false;
  if (match.aggregateId !== undefined && event.aggregateId !== match.aggregateId) return false;
  if (match.correlationId !== undefined && event.metadata.correlationId !== match.correlationId) return false;
  for (const [field, want] of Object.entries(match.data ?? {})) {
    if (!Object.hasOwn(event.eventData, field) || event.eventData[field] !== want) return false;
  }
  return true;
}
