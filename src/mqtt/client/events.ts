import { MQTTError } from "../../errors.js";
import type { MQTTClientEvents } from "./options.js";

/** A small typed event emitter: `on()` returns its own remover, and a throwing listener never
 * breaks the client (its error is reported through the `error` event instead). */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (value: never) => void);
    return () => {
      set.delete(listener as (value: never) => void);
    };
  }

  once<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    const remove = this.on(event, (value) => {
      remove();
      listener(value);
    });
    return remove;
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener; returns the errors listeners threw (the caller decides what to do). */
  emit<K extends keyof Events>(event: K, value: Events[K]): unknown[] {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return [];
    const errors: unknown[] = [];
    for (const listener of [...set]) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }
}

/** The client's events: a listener that throws is reported through `error`, never to the
 * code that caused the event. */
export class ClientEvents extends Emitter<MQTTClientEvents> {
  notify<K extends Exclude<keyof MQTTClientEvents, "error">>(
    event: K,
    value: MQTTClientEvents[K],
  ): void {
    for (const error of this.emit(event, value)) this.error(error);
  }

  /** Emits `error`; a non-Error value is wrapped so listeners always get an Error. */
  error(error: unknown): void {
    const err =
      error instanceof Error
        ? error
        : new MQTTError(String(error), { code: "MQTT_ERROR", cause: error });
    this.emit("error", err);
  }
}
