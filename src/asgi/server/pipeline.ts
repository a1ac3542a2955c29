/**
 * One request at a time on each connection.
 *
 * Node's HTTP parser reads every request a client pipelines (RFC 9112 §9.3.2) as soon as the
 * bytes are there, and emits each one at once, often before the app has seen the first. Run
 * that way, a request behind one that ends the connection (a 400 with `Connection: close`, a
 * response that goes out before its request body has arrived, an app's own `Connection:
 * close`) would still reach the app, and its response would be dropped with the connection:
 * the client retries, and a POST runs twice. RFC 9112 §9.6: once a server sends `close`, it
 * must not process any further request on that connection.
 *
 * So a request that arrives while another is in flight on its connection waits (its body, if
 * any, stays in its stream, where Node's backpressure bounds it) until that one's response is
 * complete; if that response closed the connection, the waiting ones are dropped unprocessed
 * and never answered, which tells a client it may retry them. This is how uvicorn runs
 * pipelined requests, too. The state lives on the socket, under symbols: nothing is allocated
 * for a connection that never pipelines.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { closesConnection } from "./node-internals.js";

/** A request that came while another was in flight on its connection. */
export interface WaitingRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly expectContinue: boolean;
}

const kTurn = Symbol("mtaio.turn");
const kWaiting = Symbol("mtaio.waiting");

// Connection states (kTurn); undefined on a new connection means IDLE.
const IDLE = 0;
const BUSY = 1; // a request is in flight
const CLOSED = 2; // a response closed the connection: no further request is processed
const DRAINING = 3; // no request is admitted; those already waiting run, the last one closes

interface SequencedSocket extends Socket {
  [kTurn]?: number;
  [kWaiting]?: WaitingRequest[];
}

// What admit() decided.
export const RUN = 0;
export const QUEUED = 1;
export const DROPPED = 2;

/**
 * Takes the connection's turn for a new request: RUN (the connection was idle; it is busy now),
 * QUEUED (it waits for the request in flight) or DROPPED (a previous response closed the
 * connection: the request must not be processed at all).
 */
export function admit(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): number {
  const socket = req.socket as SequencedSocket;
  const turn = socket[kTurn];
  if (turn === undefined || turn === IDLE) {
    socket[kTurn] = BUSY;
    return RUN;
  }
  if (turn === CLOSED || turn === DRAINING) return DROPPED;
  const waiting = socket[kWaiting];
  const request = { req, res, expectContinue };
  if (waiting === undefined) socket[kWaiting] = [request];
  else waiting.push(request);
  return QUEUED;
}

/**
 * Ends the turn of the request in flight on `req`'s connection, once its response is complete
 * (or abandoned). Returns the next request to run, which now holds the turn, or null. When
 * `res` closed the connection, the waiting requests are dropped and passed to `onDropped`.
 */
export function release(
  req: IncomingMessage,
  res: ServerResponse,
  onDropped: (count: number) => void,
): WaitingRequest | null {
  const socket = req.socket as SequencedSocket;
  const waiting = socket[kWaiting];
  if (socket[kTurn] === CLOSED || closesConnection(res)) {
    refuseFurther(socket, onDropped);
    return null;
  }
  if (waiting === undefined || waiting.length === 0) {
    socket[kTurn] = IDLE;
    return null;
  }
  if (res.destroyed || socket.destroyed) {
    // Cut under its response: the client is gone, nothing waiting can be answered.
    refuseFurther(socket, onDropped);
    return null;
  }
  const next = waiting.shift() ?? null;
  if (socket[kTurn] === DRAINING && waiting.length === 0) socket[kTurn] = CLOSED;
  return next;
}

/**
 * Processes no further request on `socket` (the request in flight, if any, still completes):
 * the waiting requests are dropped and passed to `onDropped`.
 */
export function refuseFurther(socket: Socket, onDropped: (count: number) => void): void {
  const sequenced = socket as SequencedSocket;
  sequenced[kTurn] = CLOSED;
  const waiting = sequenced[kWaiting];
  if (waiting !== undefined && waiting.length > 0) {
    sequenced[kWaiting] = undefined;
    onDropped(waiting.length);
  }
}

/**
 * Admits no further request on `socket`, but lets the ones already waiting run. Returns true
 * when some are waiting: then the last of them must close the connection (see isLastRequest);
 * false when none are, and the connection must close after the request in flight.
 */
export function admitNoMore(socket: Socket): boolean {
  const sequenced = socket as SequencedSocket;
  const waiting = sequenced[kWaiting];
  const some = waiting !== undefined && waiting.length > 0;
  sequenced[kTurn] = some ? DRAINING : CLOSED;
  return some;
}

/** True when the request now taking its turn is the last its connection will process. */
export function isLastRequest(req: IncomingMessage): boolean {
  return (req.socket as SequencedSocket)[kTurn] === CLOSED;
}
