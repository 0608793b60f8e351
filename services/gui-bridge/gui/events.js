// The live event stream (GET /events, server-sent events) read with fetch, so that it carries the same
// Authorization header as JSON-RPC. Pages subscribe with on(name, handler); nothing polls: when the stream ends
// (a restart of the bridge) it is opened again after the server's retry delay.
import {authHeader} from './rpc.js';

const handlers = new Map();
let controller = null;
let retry = 2000;
let generation = 0;

export function on(name, handler) {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name).add(handler);
  return () => handlers.get(name).delete(handler);
}

function emit(name, data) {
  for (const handler of handlers.get(name) || []) {
    try {
      handler(data);
    } catch (e) {
      console.error(`event ${name}:`, e);
    }
  }
}

function dispatch(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
  if (!data.length) return;
  try {
    emit(event, JSON.parse(data.join('\n')));
  } catch (e) {
    console.error('bad event', e);
  }
}

async function connect(mine) {
  controller = new AbortController();
  try {
    const response = await fetch('/events', {headers: {'Authorization': authHeader() || '', 'X-Requested-With': 'orrery-gui'}, signal: controller.signal,
      cache: 'no-store'});
    if (response.status === 401) {
      emit('unauthorized', {});
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    emit('stream', {connected: true});
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (e) {
    if (mine !== generation) return; // stopped on purpose
  }
  if (mine !== generation) return;
  emit('stream', {connected: false});
  setTimeout(() => { if (mine === generation) connect(mine); }, retry);
}

export function start() {
  stop();
  connect(++generation);
}

export function stop() {
  generation++;
  if (controller) controller.abort();
  controller = null;
}
